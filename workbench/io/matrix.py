"""Load a travel-time (or distance) matrix from accounts to reps, in the accounts' and reps' order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.io._source import read_table
from workbench.schema import ACCOUNT_ID, REP_ID

#: Value column names recognised in a long matrix (``account_id, rep_id, <value>``).
LONG_VALUES = ("minutes", "travel_minutes", "travel_time", "hours", "km", "distance", "value")


def load_distance_matrix(source, accounts: pd.DataFrame, reps: pd.DataFrame, *, encoding=None,
                         sheet=None) -> np.ndarray:
    """Travel times from every account to every rep: an ``(n_accounts, n_reps)`` array.

    Rows follow ``accounts`` (by ``account_id``), columns follow ``reps`` (by
    ``rep_id``), so the result can be passed as ``distance=`` to the rep-based
    estimators. Two layouts are read:

    * wide: an ``account_id`` column, then one column per rep id;
    * long: ``account_id``, ``rep_id`` and one value column (e.g. ``minutes``).

    Any unit works (minutes, hours, km) as long as it is the same throughout.

    Parameters
    ----------
    source : path or pandas.DataFrame
        CSV, Excel or Parquet file, or a frame.
    accounts, reps : pandas.DataFrame
        Loaded accounts (``account_id``) and reps (``rep_id``).
    encoding, sheet : optional
        As for :func:`workbench.io.load_accounts`.

    Returns
    -------
    numpy.ndarray of float

    Raises
    ------
    InputError
        A missing account or rep, a duplicated row, or a value that is not a
        finite number >= 0 (the message names the file, the ids and the fix).

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b"]})
    >>> reps = pd.DataFrame({"rep_id": ["R2", "R1"]})
    >>> wide = pd.DataFrame({"account_id": ["b", "a"], "R1": [10, 20], "R2": [30, 40]})
    >>> load_distance_matrix(wide, accounts, reps).tolist()
    [[40.0, 20.0], [30.0, 10.0]]
    >>> long = pd.DataFrame({"account_id": ["a", "a", "b", "b"], "rep_id": ["R1", "R2", "R1", "R2"],
    ...                      "minutes": [20, 40, 10, 30]})
    >>> load_distance_matrix(long, accounts, reps).tolist()
    [[40.0, 20.0], [30.0, 10.0]]
    """
    table = read_table(source, what="distance matrix", is_text=lambda name: name in (ACCOUNT_ID, REP_ID),
                       sheet=sheet, encoding=encoding)
    frame, name = table.frame, table.source.name
    if ACCOUNT_ID not in frame.columns:
        raise InputError(f"{name}: no {ACCOUNT_ID!r} column (columns: {list(frame.columns)[:8]}). Fix: the first "
                         f"column names the account, then one column per rep id (or columns account_id, rep_id, "
                         f"minutes).")
    rep_ids = reps[REP_ID].astype(str).to_numpy()
    account_ids = accounts[ACCOUNT_ID].astype(str).to_numpy()
    if REP_ID in frame.columns:
        values = [c for c in frame.columns if c not in (ACCOUNT_ID, REP_ID)]
        if len(values) != 1:
            raise InputError(f"{name}: a long matrix has account_id, rep_id and one value column; found value "
                             f"columns {values}. Fix: keep one (e.g. {LONG_VALUES[0]}).")
        keys = frame[[ACCOUNT_ID, REP_ID]].astype(str)
        doubled = keys.duplicated()
        if doubled.any():
            first = keys[doubled].iloc[0]
            raise InputError(f"{name}: account {first[ACCOUNT_ID]!r} and rep {first[REP_ID]!r} appear more than once; "
                             "keep one row per account and rep")
        wide = pd.Series(_numbers(frame[values[0]], name, values[0]).to_numpy(),
                         index=pd.MultiIndex.from_frame(keys)).unstack(REP_ID)
    else:
        ids = frame[ACCOUNT_ID].astype(str)
        doubled = ids[ids.duplicated()]
        if len(doubled):
            raise InputError(f"{name}: accounts {doubled.unique()[:5].tolist()} have more than one row; keep one "
                             "row per account")
        wide = frame.drop(columns=[ACCOUNT_ID]).set_axis(ids.to_numpy())
        wide.columns = [str(c) for c in wide.columns]
        wide = wide.apply(lambda column: _numbers(column, name, column.name))
    missing_reps = [r for r in rep_ids if r not in wide.columns]
    if missing_reps:
        raise InputError(f"{name}: no column for reps {missing_reps[:5]} ({len(missing_reps)} of {len(rep_ids)}). "
                         f"Fix: give one column per rep_id of the reps file (it has {list(wide.columns)[:5]}).")
    missing_accounts = pd.Index(account_ids).difference(wide.index)
    if len(missing_accounts):
        raise InputError(f"{name}: no row for accounts {missing_accounts[:5].tolist()} ({len(missing_accounts):,} of "
                         f"{len(account_ids):,}). Fix: give every account of the accounts file a row.")
    matrix = wide.reindex(index=account_ids, columns=rep_ids).to_numpy(dtype=float)
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(f"{name}: no value for account {account_ids[row]!r} and rep {rep_ids[col]!r} "
                         f"({int(bad.sum()):,} missing). Fix: fill every pair; use a large number for unreachable.")
    return matrix


def _numbers(column: pd.Series, name: str, label) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna() | (values < 0)
    if bad.any():
        raise InputError(f"{name}: column {label!r} has {int(bad.sum()):,} values that are not numbers >= 0, e.g. "
                         f"{column[bad].head(3).tolist()}. Fix: travel times or distances, one unit throughout.")
    return values.astype(float)
