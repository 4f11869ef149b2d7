"""Read an assignments file (``account_id,territory_id``): the one reader, for every caller.

Files written by workbench (``align --out``, the export's ``assignments.csv``)
quote formula-like text (``'=1+1``, see :func:`workbench.safeio.escape_cell`);
reading undoes exactly that, so ids come back with their exact spelling
(leading zeros, ``NA``, ``=cmd``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.errors import InputError
from workbench.labels import clean_text, show
from workbench.present import count
from workbench.safeio import unescape_frame
from workbench.schema import ACCOUNT_ID, TERRITORY_ID



def _be(n) -> str:
    return "is" if n == 1 else "are"


def _have(n) -> str:
    return "has" if n == 1 else "have"

def read_assignments(source, accounts: pd.DataFrame | None = None, *, what: str = "the accounts") -> pd.Series:
    """Read ``account_id,territory_id`` rows; with ``accounts``, check them against the accounts.

    An empty ``territory_id`` leaves the account unassigned (NaN). With
    ``accounts`` every account must appear exactly once and no other id may;
    all problems are reported at once, each with up to 5 examples (and their
    lines) and the fix.

    Parameters
    ----------
    source : path or pandas.DataFrame
        CSV (``.csv``, ``.csv.gz``, ``.txt``, ``.tsv``), Excel (``.xlsx``) or
        Parquet file, or a frame. In CSV and Excel files the leading quote
        workbench writes before formula-like text is removed again.
    accounts : pandas.DataFrame, optional
        The accounts (``account_id``) the assignments must cover.
    what : str
        How to name the accounts in messages (e.g. their file name).

    Returns
    -------
    pandas.Series
        ``territory_id`` indexed by ``account_id``: in the accounts' row order
        with ``accounts``, else in file order (then it equals the
        ``assignments`` of the exported plan).

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b"]})
    >>> rows = pd.DataFrame({"account_id": ["b", "a"], "territory_id": ["T2", "T1"]})
    >>> read_assignments(rows, accounts).to_dict()
    {'a': 'T1', 'b': 'T2'}
    >>> read_assignments(rows.iloc[:1], accounts)
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: assignments: no row for 1 account of the accounts: ['a']; add one row per account (leave territory_id empty to leave it unassigned)
    """
    name, table = _read(source)
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
        problems.append(f"{count(ids.isna().sum(), 'row')} {_have(ids.isna().sum())} an empty account_id ({where}s {show(line[ids.isna()])}); "
                        "fill in the id or delete the row")
    duplicated = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(duplicated):
        examples = [f"{a!r} ({where}s {', '.join(map(str, line[duplicated.index[duplicated == a]]))})"
                    for a in duplicated.unique()[:5]]
        more = f" and {duplicated.nunique() - 5} more" if duplicated.nunique() > 5 else ""
        problems.append(f"{count(duplicated.nunique(), 'account')} {_be(duplicated.nunique())} listed more than once: {', '.join(examples)}{more}; "
                        "keep one row per account")
    if accounts is not None:
        known = pd.Index(_account_ids(accounts, what))
        listed = pd.Index(ids.dropna().unique())
        unknown = listed.difference(known)
        if len(unknown):
            problems.append(f"{count(len(unknown), 'account')} {_be(len(unknown))} not in {what}: {show(unknown)}; remove those rows or "
                            f"add the accounts to {what}")
        absent = known.difference(listed)
        if len(absent):
            absent = known[known.isin(absent)]  # keep the accounts' order in the message
            problems.append(f"no row for {count(len(absent), 'account')} of {what}: {show(absent)}; add one row per "
                            "account (leave territory_id empty to leave it unassigned)")
    if problems:
        raise InputError(f"{name}: " + "; ".join(problems))
    mapping = pd.Series(territories.to_numpy(), index=pd.Index(ids.to_numpy(), name=ACCOUNT_ID), name=TERRITORY_ID)
    if accounts is None:
        return mapping
    return mapping.reindex(pd.Index(known, name=ACCOUNT_ID))


def _account_ids(accounts, what: str) -> pd.Series:
    if not isinstance(accounts, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(accounts).__name__}")
    if ACCOUNT_ID not in accounts.columns:
        raise InputError(f"{what} have no {ACCOUNT_ID!r} column (columns: {list(accounts.columns)[:10]}); "
                         "load them with workbench.io.load_accounts or rename the id column to 'account_id'")
    return clean_text(accounts[ACCOUNT_ID].reset_index(drop=True))


def _read(source) -> tuple[str, pd.DataFrame]:
    if isinstance(source, pd.DataFrame):
        return "assignments", source
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no assignments file {path}")
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=_separator(path), engine="python",
                                encoding="utf-8-sig")
        elif suffix.endswith(".xlsx"):
            table = pd.read_excel(path, dtype=str)
        elif suffix.endswith(".parquet"):
            return str(path), pd.read_parquet(path)
        else:
            raise InputError(f"{path} is not a CSV, Excel or Parquet file; save the assignments as CSV with "
                             "columns account_id,territory_id")
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path} cannot be read as a table ({type(exc).__name__}: {exc}); save it as UTF-8 CSV "
                         "with columns account_id,territory_id") from exc
    return str(path), unescape_frame(table)


def _separator(path: Path):
    """Comma when the header has one (every file workbench writes), else let pandas sniff (; or tab)."""
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
            header = handle.readline()
    except OSError:
        return None
    return "," if "," in header else None


__all__ = ["read_assignments"]
