"""Validation and normalisation of the frames inside a plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.labels import clean_text, show
from workbench.schema import (ACCOUNT_ID, AREA, CAPACITY_HOURS, LATITUDE, LONGITUDE, REGION, REP_ID,
                              REP_NAME, TERRITORY_ID, TERRITORY_NAME)

#: Territory attribute columns, in order, with their dtypes.
TERRITORY_COLUMNS = {
    TERRITORY_NAME: "str",
    REP_ID: "str",
    "rep_name": "str",
    "rep_latitude": "float64",
    "rep_longitude": "float64",
    CAPACITY_HOURS: "float64",
    REGION: "str",
    AREA: "str",
}


def plan_accounts(accounts, what: str = "accounts") -> pd.DataFrame:
    """Copy of the accounts with a RangeIndex and unique, non-empty str ids."""
    if not isinstance(accounts, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(accounts).__name__}")
    if ACCOUNT_ID not in accounts.columns:
        raise InputError(
            f"{what} have no {ACCOUNT_ID!r} column (columns: {list(accounts.columns)[:10]}); "
            "load them with workbench.io.load_accounts or rename the id column to 'account_id'"
        )
    frame = pd.DataFrame(accounts).reset_index(drop=True)
    if hasattr(accounts, "geometry") and "geometry" in frame.columns:
        # Points are kept as latitude/longitude; the plan stores plain, pandas-readable tables.
        frame = pd.DataFrame(frame.drop(columns="geometry"))
    ids = clean_text(frame[ACCOUNT_ID])
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())
        raise InputError(f"{what} have empty {ACCOUNT_ID!r} in rows {show(rows)}; every account needs an id")
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise InputError(f"{what} have duplicate {ACCOUNT_ID!r} values {show(duplicated)}; keep one row per account")
    check_spellings(ids, f"{what}' {ACCOUNT_ID!r} values", "account")
    frame[ACCOUNT_ID] = ids.astype("str")
    return as_stored(frame, what)


def as_stored(frame: pd.DataFrame, what: str = "accounts") -> pd.DataFrame:
    """The frame exactly as it reads back from Parquet (one Arrow round trip).

    A plan holds its accounts in the form they are saved in, so that a saved
    and reloaded plan has the same frames and the same input hash (an object
    column of ints and None, for example, comes back as float64).
    """
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(frame, preserve_index=False).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        mixed = [c for c in frame.columns if frame[c].dtype == object]
        raise InputError(f"{what} cannot be stored in a plan ({type(exc).__name__}: {exc}); columns holding mixed "
                         f"values: {mixed[:5]}; convert them to one type (e.g. .astype(str)) or drop them") from exc


def check_spellings(values, what: str, thing: str, raw=None) -> None:
    """Refuse distinct values that are one id once whitespace is stripped or Unicode forms are unified.

    ``"T1"``, ``"T1 "`` and ``"\\tT1"`` would silently become one territory, and ``"Café"`` written
    with a combining accent (NFD) would be a second account beside ``"Café"`` (NFC), although both
    look the same. ``values`` are the cleaned (stripped) texts; ``raw`` the texts as given, when they
    differ.

    Examples
    --------
    >>> check_spellings(pd.Series(["T1", "T1", "T2"]), "labels", "territory", raw=["T1", "T1 ", "T2"])
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: labels spell one territory id in 2 ways: 'T1' / 'T1 '; ids that differ only in surrounding whitespace or Unicode form (NFC/NFD) look the same to people: write each one way
    """

    cleaned = pd.Series(values, dtype=object).reset_index(drop=True)
    if raw is None and _all_ascii(cleaned):
        return  # ASCII text is its own NFC form: distinct ASCII ids stay distinct (100,000 account ids, 0.06 s)
    given = cleaned if raw is None else pd.Series(np.asarray(raw, dtype=object)).reset_index(drop=True)
    pairs = pd.DataFrame({"key": cleaned, "given": given}).dropna().drop_duplicates()
    if pairs.empty:
        return
    # Vectorised (a Python call per id cost 0.1 s on 100,000 accounts).
    pairs["key"] = pairs["key"].astype(str).astype(object).str.normalize("NFC")
    pairs["given"] = pairs["given"].astype(str).astype(object)
    pairs = pairs.drop_duplicates()
    # Only keys seen with more than one spelling are grouped (a Python-level groupby of 100,000 one-spelling
    # ids took seconds).
    pairs = pairs[pairs["key"].duplicated(keep=False)]
    spellings = pairs.groupby("key", sort=False)["given"].agg(list)
    clashes = spellings[spellings.map(len) > 1]
    if len(clashes):
        first = clashes.iloc[0]
        first = [ascii(v) for v in first]  # 'Caf\\xe9' / 'Cafe\\u0301': shows how look-alikes differ
        more = f" (and {len(clashes) - 1} more ids)" if len(clashes) > 1 else ""
        raise InputError(f"{what} spell one {thing} id in {len(first)} ways: {' / '.join(first[:5])}"
                         f"{more}; ids that differ only in surrounding whitespace or Unicode form (NFC/NFD) look "
                         "the same to people: write each one way")


def _all_ascii(values: pd.Series) -> bool:
    """Whether every present value is ASCII text (a ``str``; anything else is left to the full check)."""
    return all(type(v) is str and v.isascii() for v in values.dropna().to_numpy())


def normalise_territories(territories: pd.DataFrame) -> pd.DataFrame:
    """Territories with exactly the attribute columns and dtypes, index territory_id, sorted."""
    out = pd.DataFrame(index=pd.Index(territories.index.astype(str), name=TERRITORY_ID))
    for column, dtype in TERRITORY_COLUMNS.items():
        if column in territories.columns:
            values = territories[column].to_numpy()
        else:
            values = np.full(len(territories), np.nan)
        out[column] = clean_text(pd.Series(values, index=out.index)) if dtype == "str" else pd.to_numeric(
            pd.Series(values, index=out.index), errors="coerce").astype(dtype)
    extra = [c for c in territories.columns if c not in TERRITORY_COLUMNS]
    for column in extra:
        out[column] = territories[column].to_numpy()
    out[TERRITORY_NAME] = out[TERRITORY_NAME].fillna(pd.Series(out.index, index=out.index))
    return out.sort_index()


def territories_from_labels(territory_ids, reps=None, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Territory table for the given ids: attributes from ``previous``, reps from ``reps``."""
    index = pd.Index(sorted(set(territory_ids)), name=TERRITORY_ID, dtype="str")
    if previous is not None:
        frame = previous.reindex(index)
    else:
        frame = pd.DataFrame(index=index)
    if reps is not None:
        frame = attach_reps(frame, reps)
    return normalise_territories(frame)


def attach_reps(territories: pd.DataFrame, reps) -> pd.DataFrame:
    """Set rep_id, rep_name, rep home and capacity from a reps table (see :func:`Plan.from_labels`)."""
    if not isinstance(reps, pd.DataFrame):
        raise TypeError(f"reps must be a pandas DataFrame, got {type(reps).__name__}")
    needed = [REP_ID, LATITUDE, LONGITUDE]
    missing = [c for c in needed if c not in reps.columns]
    if missing:
        raise InputError(f"reps have no column(s) {missing} (columns: {list(reps.columns)}); "
                         "load them with workbench.io.load_reps")
    reps = reps.reset_index(drop=True)
    rep_ids = clean_text(reps[REP_ID])
    if TERRITORY_ID in reps.columns:
        key = clean_text(reps[TERRITORY_ID])
    elif set(rep_ids.dropna()) & set(territories.index):
        key = rep_ids  # territories named after their reps (rep-anchored alignments)
    else:
        raise InputError(
            f"reps have no {TERRITORY_ID!r} column and their rep ids (e.g. {show(rep_ids.dropna(), 3)}) are not "
            f"territory ids (e.g. {show(territories.index, 3)}); add a territory_id column to the reps"
        )
    taken = key.dropna()
    duplicated = taken[taken.duplicated()].unique()
    if len(duplicated):
        raise InputError(f"reps list more than one rep for territory {show(duplicated)}; "
                         "give each territory at most one rep")
    table = pd.DataFrame({
        REP_ID: rep_ids.to_numpy(),
        "rep_name": clean_text(reps[REP_NAME]).to_numpy() if REP_NAME in reps.columns else np.nan,
        "rep_latitude": pd.to_numeric(reps[LATITUDE], errors="coerce").to_numpy(),
        "rep_longitude": pd.to_numeric(reps[LONGITUDE], errors="coerce").to_numpy(),
        CAPACITY_HOURS: pd.to_numeric(reps[CAPACITY_HOURS], errors="coerce").to_numpy()
        if CAPACITY_HOURS in reps.columns else np.nan,
    }, index=pd.Index(key.to_numpy(), name=TERRITORY_ID))
    table = table[table.index.notna()]
    out = territories.copy()
    for column in table.columns:
        out[column] = table[column].reindex(out.index).to_numpy()
    return out


def as_list(values) -> list:
    if isinstance(values, (str, bytes)) or np.isscalar(values):
        return [values]
    return list(values)


def check_ids(accounts: pd.DataFrame, account_ids, verb: str) -> frozenset:
    ids = clean_text(pd.Series(as_list(account_ids), dtype=object)).dropna()
    unknown = pd.Index(ids.unique()).difference(accounts[ACCOUNT_ID])
    if len(unknown):
        raise InputError(f"cannot {verb}: account ids {show(unknown)} are not in the plan; check the ids")
    return frozenset(ids)
