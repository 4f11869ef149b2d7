"""Plans from an assignments file (``account_id,territory_id``), validated against the accounts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.errors import InputError
from workbench.plan._frames import check_accounts, clean_text, show
from workbench.plan._model import Plan
from workbench.schema import ACCOUNT_ID, TERRITORY_ID


def read_assignments(source, accounts: pd.DataFrame, *, what: str = "the accounts") -> pd.Series:
    """Read ``account_id,territory_id`` rows and check them against the accounts.

    Every account must appear exactly once; an empty ``territory_id`` leaves
    the account unassigned. All problems are reported at once, each with up
    to 5 examples and the fix.

    Parameters
    ----------
    source : path or pandas.DataFrame
        CSV (``.csv``, ``.csv.gz``), Excel (``.xlsx``) or Parquet file, or a frame. In CSV and
        Excel files the leading quote workbench writes before formula-like text (``'=1+1``) is
        removed again (see :func:`workbench.export.tables.unescape_cell`).
    accounts : pandas.DataFrame
        The accounts (``account_id``).
    what : str
        How to name the accounts in messages (e.g. their file name, ``"accounts.csv"``).

    Returns
    -------
    pandas.Series
        Territory per account, in the accounts' row order (NaN = unassigned).

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b"]})
    >>> rows = pd.DataFrame({"account_id": ["b", "a"], "territory_id": ["T2", "T1"]})
    >>> read_assignments(rows, accounts).tolist()
    ['T1', 'T2']
    >>> read_assignments(rows.iloc[:1], accounts)
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: assignments: no row for 1 account(s) of the accounts: ['a']; add one row per account (leave territory_id empty to leave it unassigned)
    """
    name, table = _read(source)
    frame = check_accounts(accounts, what)
    columns = {str(c).strip().lower(): c for c in table.columns}
    missing = [c for c in (ACCOUNT_ID, TERRITORY_ID) if c not in columns]
    if missing:
        raise InputError(f"{name} has no column(s) {missing} (columns: {list(table.columns)}); it needs the "
                         "columns account_id,territory_id with one row per account")
    ids = clean_text(table[columns[ACCOUNT_ID]].reset_index(drop=True))
    territories = clean_text(table[columns[TERRITORY_ID]].reset_index(drop=True))
    line = pd.Series(range(2, len(ids) + 2)) if name != "assignments" else pd.Series(range(len(ids)))
    where = "line" if name != "assignments" else "row"
    problems = []
    if ids.isna().any():
        problems.append(f"{ids.isna().sum()} row(s) have an empty account_id ({where}s {show(line[ids.isna()])}); "
                        "fill in the id or delete the row")
    duplicated = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(duplicated):
        examples = [f"{a!r} ({where}s {', '.join(map(str, line[duplicated.index[duplicated == a]]))})"
                    for a in duplicated.unique()[:5]]
        more = f" and {duplicated.nunique() - 5} more" if duplicated.nunique() > 5 else ""
        problems.append(f"{duplicated.nunique()} account(s) are listed more than once: {', '.join(examples)}{more}; "
                        "keep one row per account")
    known = pd.Index(frame[ACCOUNT_ID])
    listed = pd.Index(ids.dropna().unique())
    unknown = listed.difference(known)
    if len(unknown):
        problems.append(f"{len(unknown)} account(s) are not in {what}: {show(unknown)}; remove those rows or "
                        f"add the accounts to {what}")
    absent = known.difference(listed)
    if len(absent):
        absent = known[known.isin(absent)]  # keep the accounts' order in the message
        problems.append(f"no row for {len(absent)} account(s) of {what}: {show(absent)}; add one row per account "
                        "(leave territory_id empty to leave it unassigned)")
    if problems:
        raise InputError(f"{name}: " + "; ".join(problems))
    mapping = pd.Series(territories.to_numpy(), index=ids.to_numpy())
    return mapping.reindex(frame[ACCOUNT_ID].to_numpy()).rename(TERRITORY_ID).reset_index(drop=True)


def plan_from_assignments(accounts: pd.DataFrame, source, *, name: str | None = None, reps=None,
                          created_by: str | None = None, what: str = "the accounts") -> Plan:
    """A draft plan from an assignments file or frame (see :func:`read_assignments`).

    The method is ``"file"`` and the parameters record the file name.
    """
    labels = read_assignments(source, accounts, what=what)
    label = Path(source).name if isinstance(source, (str, Path)) else "frame"
    return Plan.from_labels(accounts, labels.to_numpy(dtype=object), method="file", parameters={"source": label},
                            name=name or Path(label).stem, reps=reps, created_by=created_by)


def _read(source) -> tuple[str, pd.DataFrame]:
    if isinstance(source, pd.DataFrame):
        return "assignments", source
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no assignments file {path}")
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python",
                                encoding="utf-8-sig")
        elif suffix.endswith(".xlsx"):
            table = pd.read_excel(path, dtype=str)
        elif suffix.endswith(".parquet"):
            table = pd.read_parquet(path)
        else:
            raise InputError(f"{path} is not a CSV, Excel or Parquet file; save the assignments as CSV with "
                             "columns account_id,territory_id")
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path} cannot be read as a table ({type(exc).__name__}: {exc}); save it as UTF-8 CSV "
                         "with columns account_id,territory_id") from exc
    if not suffix.endswith(".parquet"):
        # Text files written by workbench (align --out, export) quote formula-like cells ("'=1+1"): undo that.
        from workbench.export.tables import unescape_cell

        table.columns = [unescape_cell(str(c)) for c in table.columns]
        table = table.apply(lambda column: column.map(unescape_cell, na_action="ignore"))
    return str(path), table
