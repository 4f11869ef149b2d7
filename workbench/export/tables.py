"""Flat tables of a plan: the assignment file and its exact re-import.

``assignments.csv`` is the file the CRM and the reps receive: one row per
account with its territory, rep and hierarchy, and whether it moved against
the current alignment. Text cells that a spreadsheet would run as a formula
are escaped with a leading quote (:func:`workbench.safeio.escape_cell`);
:func:`workbench.io.read_assignments` undoes exactly that, so the round trip is lossless
(ids such as ``"00123"`` keep their leading zeros).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.safeio import unescape_frame, write_csv
from workbench.schema import (
    ACCOUNT_ID,
    AREA,
    CURRENT_TERRITORY,
    NAME,
    REGION,
    REP_ID,
    TERRITORY_ID,
    TERRITORY_NAME,
)

#: Columns of ``assignments.csv``, in order.
ASSIGNMENT_COLUMNS = (
    ACCOUNT_ID,
    "account_name",
    TERRITORY_ID,
    TERRITORY_NAME,
    REP_ID,
    "rep_name",
    REGION,
    AREA,
    CURRENT_TERRITORY,
    "moved",
    "plan_status",
)

#: Columns of the territory table (before the metric totals).
TERRITORY_COLUMNS = (TERRITORY_NAME, REP_ID, "rep_name", REGION, AREA)

def _text(series: pd.Series) -> pd.Series:
    """Text version of a column: missing values become empty strings."""
    return series.astype(object).where(series.notna(), "").astype(str)


def account_ids(accounts: pd.DataFrame) -> pd.Index:
    """The account ids of a plan's accounts frame (column ``account_id`` or the index)."""
    if ACCOUNT_ID in accounts.columns:
        return pd.Index(accounts[ACCOUNT_ID].astype(str), name=ACCOUNT_ID)
    return pd.Index(accounts.index.astype(str), name=ACCOUNT_ID)


def current_labels(plan, current=None) -> pd.Series | None:
    """Current territory of each of the plan's accounts, or None when unknown.

    ``current`` may be a Plan (its assignments), a Series or mapping
    account_id -> territory_id; without it the accounts' ``current_territory``
    column is used when present.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(accounts=pd.DataFrame({"account_id": ["a", "b"]}))
    >>> current_labels(plan, {"a": "T1", "b": "T2"}).tolist()
    ['T1', 'T2']
    >>> current_labels(plan) is None
    True
    """
    ids = account_ids(plan.accounts)
    if current is None:
        if CURRENT_TERRITORY not in plan.accounts.columns:
            return None
        values = plan.accounts[CURRENT_TERRITORY].to_numpy()
        labels = pd.Series(values, index=ids, name=CURRENT_TERRITORY)
    else:
        if hasattr(current, "assignments"):
            current = current.assignments
        if isinstance(current, dict):
            current = pd.Series(current, dtype=object)
        if not isinstance(current, pd.Series):
            raise TypeError(
                f"current must be a Plan, a pandas Series or a dict account_id -> territory_id, "
                f"got {type(current).__name__}"
            )
        current = current.copy()
        current.index = current.index.astype(str)
        missing = ids.difference(current.index)
        if len(missing):
            raise InputError(
                f"current alignment has no territory for {len(missing)} of the plan's accounts "
                f"(first: {list(missing[:5])}); pass a current alignment covering every account"
            )
        labels = current.reindex(ids).rename(CURRENT_TERRITORY)
    labels = labels.astype(object).where(labels.notna(), None)
    return labels.map(lambda v: None if v is None else str(v))


def territory_frame(plan) -> pd.DataFrame:
    """The plan's territories with every column of :data:`TERRITORY_COLUMNS` as text.

    Territories that have accounts but no row in ``plan.territories`` get
    empty names, so no account is ever dropped.
    """
    territories = plan.territories.copy()
    territories.index = territories.index.astype(str)
    used = pd.Index(pd.unique(plan.assignments.astype(str)))
    index = territories.index.append(used.difference(territories.index))
    territories = territories.reindex(index)
    territories.index.name = TERRITORY_ID
    for column in TERRITORY_COLUMNS:
        if column not in territories.columns:
            territories[column] = ""
        territories[column] = _text(territories[column])
    return territories[list(TERRITORY_COLUMNS)]


def assignment_table(plan, current=None, *, status: str = "approved") -> pd.DataFrame:
    """One row per account: territory, rep, hierarchy, current territory and moved flag.

    Parameters
    ----------
    plan : Plan
        The plan to flatten.
    current : Plan, Series or dict, optional
        Current alignment (see :func:`current_labels`).
    status : str
        Written in the ``plan_status`` column ("approved" or "DRAFT").

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ASSIGNMENT_COLUMNS`, rows in the plan's account order;
        ``moved`` is a nullable boolean (missing without a current alignment).
    """
    accounts = plan.accounts
    ids = account_ids(accounts)
    assignments = plan.assignments.copy()
    assignments.index = assignments.index.astype(str)
    missing = ids.difference(assignments.index)
    if len(missing):
        raise InputError(
            f"plan has no territory for {len(missing)} accounts (first: {list(missing[:5])}); "
            "every account must be assigned before export"
        )
    proposed = _text(assignments.reindex(ids))
    territories = territory_frame(plan)
    table = pd.DataFrame({ACCOUNT_ID: ids.to_numpy(dtype=object)})
    table["account_name"] = _text(accounts[NAME]).to_numpy() if NAME in accounts.columns else ""
    table[TERRITORY_ID] = proposed.to_numpy()
    joined = territories.reindex(proposed.to_numpy())
    for column in TERRITORY_COLUMNS:
        table[column] = joined[column].to_numpy()
    labels = current_labels(plan, current)
    if labels is None:
        table[CURRENT_TERRITORY] = ""
        table["moved"] = pd.array([pd.NA] * len(table), dtype="boolean")
    else:
        known = labels.notna().to_numpy()
        table[CURRENT_TERRITORY] = _text(labels).to_numpy()
        moved = pd.array(table[CURRENT_TERRITORY].to_numpy() != table[TERRITORY_ID].to_numpy(), dtype="boolean")
        moved[~known] = pd.NA
        table["moved"] = moved
    table["plan_status"] = status
    return table[list(ASSIGNMENT_COLUMNS)]


def write_assignments(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write an assignment table as CSV with formula-escaped text cells (see :func:`workbench.safeio.write_csv`)."""
    return write_csv(table, path)


def read_assignments_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``assignments.csv`` back as a table, undoing the formula escaping.

    Every column is text except ``moved`` (nullable boolean); empty cells
    read as empty strings, so ids keep their exact spelling.
    """
    path = Path(path)
    frame = unescape_frame(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig"))
    missing = [c for c in (ACCOUNT_ID, TERRITORY_ID) if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: columns {missing} are missing (found {list(frame.columns)}); "
            "pass an assignments.csv written by export_plan"
        )
    if "moved" in frame.columns:
        values = frame["moved"].str.lower()
        bad = ~values.isin(["true", "false", ""])
        if bad.any():
            raise InputError(
                f"{path}: column 'moved' must hold True/False, found {frame.loc[bad, 'moved'].head(5).tolist()} "
                f"in rows {(np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()}"
            )
        frame["moved"] = pd.array(values.map({"true": True, "false": False, "": None}), dtype="boolean")
    return frame
