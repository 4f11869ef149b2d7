"""Utilisation: how busy each rep is against their hours, for the team, and how many reps the workload needs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.checks import amount_column, real_number, rep_capacity, rep_columns, share_hint, territory_per_row
from workbench.errors import InputError

from workbench.schema import CAPACITY_HOURS, REP_ID, REP_NAME, TERRITORY_ID, WORKLOAD


#: Default target utilisation: the share of a rep's hours the workload should fill.
TARGET_UTILISATION = 0.85
#: Utilisation within this distance of the target counts as on target (0.10 = +-10 points).
DEFAULT_BAND = 0.10
#: Columns of :func:`rep_utilisation`.
UTILISATION_COLUMNS = (REP_ID, REP_NAME, TERRITORY_ID, "accounts", "workload", CAPACITY_HOURS, "utilisation",
                       "spare_hours", "status")
#: Ids given to suggested hires: ``NEW01``, ``NEW02``, ...
HIRE_PREFIX = "NEW"


# --------------------------------------------------------------------------- validation

def check_target(target, name: str = "target") -> float:
    """A target utilisation share in (0, 1], or an :class:`InputError` saying so.

    Examples
    --------
    >>> check_target(0.85)
    0.85
    """
    number = real_number(target)
    if number is None or not 0 < number <= 1:
        raise InputError(f"{name} must be a share of the reps' hours in (0, 1] (0.85 = 85%; CLI: --utilisation), "
                         f"got {target!r}{share_hint(target)}")
    return float(target)


def rep_capacities(reps: pd.DataFrame, capacity_col: str) -> np.ndarray:
    """Each rep's hours per year (the reps need ``rep_id``, a home and ``capacity_col``)."""
    rep_columns(reps, need="rep_id, latitude, longitude and capacity_hours")
    if capacity_col not in reps.columns:
        raise InputError(f"reps have no {capacity_col!r} column (columns: {list(reps.columns)}); utilisation needs "
                         f"each rep's available hours per year. Fix: add a {capacity_col} column (e.g. 1600)")
    return rep_capacity(reps, capacity_col)


def workload_hours(accounts: pd.DataFrame, workload_col: str) -> np.ndarray:
    """Each account's workload in hours per year (>= 0)."""
    return amount_column(accounts, workload_col, unit="hours",
                         missing_hint="utilisation needs the hours each account takes per year "
                                      "(--balance-on COL names it)")


def _territory_of_reps(reps: pd.DataFrame) -> np.ndarray:
    """Territory each rep covers: ``territory_id``, else the rep id (missing = none, a new hire)."""
    if TERRITORY_ID in reps.columns:
        return territory_per_row(reps[TERRITORY_ID].to_numpy(dtype=object), reps)
    return reps[REP_ID].astype(str).to_numpy(dtype=object)


# --------------------------------------------------------------------------- utilisation

def rep_utilisation(accounts: pd.DataFrame, labels, reps: pd.DataFrame, *, workload_col: str = WORKLOAD,
                    capacity_col: str = CAPACITY_HOURS, target: float = TARGET_UTILISATION,
                    band: float = DEFAULT_BAND) -> pd.DataFrame:
    """Workload of each rep's territory against the rep's capacity.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Accounts with ``workload_col`` (hours per year).
    labels : array-like
        Territory of each account row (e.g. ``accounts["current_territory"]``).
    reps : pandas.DataFrame
        ``rep_id``, ``capacity_hours`` and ``territory_id`` (the territory the
        rep covers; without it rep ids are the territory ids).
    workload_col, capacity_col : str
    target : float, default 0.85
        Target utilisation.
    band : float, default 0.10
        ``status`` is ``"over"`` above ``target + band``, ``"under"`` below
        ``target - band``, else ``"on target"``.

    Returns
    -------
    pandas.DataFrame
        One row per rep in the reps' order, then one per territory that has
        accounts but no rep (``rep_id`` missing, status ``"no rep"``):
        ``rep_id``, ``name``, ``territory_id``, ``accounts``, ``workload``
        (hours), ``capacity_hours``, ``utilisation`` (workload / capacity, a
        share), ``spare_hours`` (capacity - workload; negative = overloaded),
        ``status``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"workload": [900.0, 600.0, 500.0], "territory": ["T1", "T1", "T2"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["T1", "T2"], "latitude": [0.0, 0.0],
    ...                      "longitude": [0.0, 1.0], "capacity_hours": [1500.0, 1000.0]})
    >>> table = rep_utilisation(accounts, accounts["territory"], reps)
    >>> table[["rep_id", "workload", "utilisation", "status"]].to_dict("records")
    [{'rep_id': 'R1', 'workload': 1500.0, 'utilisation': 1.0, 'status': 'over'}, {'rep_id': 'R2', 'workload': 500.0, 'utilisation': 0.5, 'status': 'under'}]
    """
    target = check_target(target)
    capacity = rep_capacities(reps, capacity_col)
    workload = workload_hours(accounts, workload_col)
    values = territory_per_row(labels, accounts)
    assigned = pd.notna(values)
    territory = values[assigned].astype(str)
    loads = pd.Series(workload[assigned]).groupby(territory).agg(["sum", "size"])
    served = _territory_of_reps(reps)
    shared = pd.Series(served).dropna()
    shared = sorted(set(shared[shared.duplicated()]))
    if shared:
        raise InputError(f"reps: territories {shared[:5]} have more than one rep; utilisation is per rep, so give "
                         "each territory one rep (or split the territory)")
    named = set(pd.Series(served).dropna())
    if len(loads) and named and not named & set(loads.index):
        raise InputError(f"none of the reps' territories (e.g. {sorted(named)[:3]}) is a territory of the accounts "
                         f"(e.g. {sorted(loads.index)[:3]}); give the reps a territory_id column naming the "
                         "territory each covers, or pass the matching --current column")
    names = reps[REP_NAME].astype(str).to_numpy() if REP_NAME in reps.columns else reps[REP_ID].astype(str).to_numpy()
    known = pd.Series(served).notna().to_numpy()
    rep_load = loads.reindex(pd.Index(np.where(known, served, "\x00none"))).fillna(0.0)
    frame = pd.DataFrame({
        REP_ID: reps[REP_ID].astype(str).to_numpy(dtype=object),
        REP_NAME: names.astype(object),
        TERRITORY_ID: served,
        "accounts": rep_load["size"].to_numpy().astype(int),
        "workload": rep_load["sum"].to_numpy(dtype=float),
        capacity_col: capacity,
    })
    orphans = loads.loc[~loads.index.isin(set(shared) | set(pd.Series(served).dropna()))]
    if len(orphans):
        extra = pd.DataFrame({REP_ID: None, REP_NAME: None, TERRITORY_ID: orphans.index.to_numpy(dtype=object),
                              "accounts": orphans["size"].to_numpy().astype(int),
                              "workload": orphans["sum"].to_numpy(dtype=float), capacity_col: np.nan})
        frame = pd.concat([frame, extra], ignore_index=True)
    frame["utilisation"] = frame["workload"] / frame[capacity_col]
    frame["spare_hours"] = frame[capacity_col] - frame["workload"]
    util = frame["utilisation"].to_numpy()
    frame["status"] = np.select([np.isnan(util), util > target + band, util < target - band],
                                ["no rep", "over", "under"], "on target")
    return frame.rename(columns={capacity_col: CAPACITY_HOURS}) if capacity_col != CAPACITY_HOURS else frame


def team_utilisation(table: pd.DataFrame, target: float = TARGET_UTILISATION) -> dict:
    """Team totals of a :func:`rep_utilisation` table.

    Returns
    -------
    dict
        ``reps``, ``accounts``, ``workload`` (every territory's, with or
        without a rep), ``capacity_hours``, ``utilisation`` (share),
        ``target``, and how many reps are ``over``, ``under`` and ``on_target``,
        plus ``territories_without_rep``.

    Examples
    --------
    >>> table = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["T1", "T2"], "accounts": [2, 1],
    ...                       "workload": [1500.0, 500.0],
    ...                       "capacity_hours": [1500.0, 1000.0], "status": ["over", "under"]})
    >>> team_utilisation(table)["utilisation"]
    0.8
    """
    has_rep = table[REP_ID].notna().to_numpy()
    capacity = float(table.loc[has_rep, CAPACITY_HOURS].sum())
    workload = float(table["workload"].sum())
    status = table["status"]
    return {
        "reps": int(has_rep.sum()),
        "accounts": int(table["accounts"].sum()),
        "workload": workload,
        "capacity_hours": capacity,
        "utilisation": workload / capacity if capacity > 0 else math.inf,
        "target": float(target),
        "over": int((status == "over").sum()),
        "under": int((status == "under").sum()),
        "on_target": int((status == "on target").sum()),
        "territories_without_rep": table.loc[~has_rep, TERRITORY_ID].astype(str).tolist(),
    }


def count_reps_needed(workload: float, capacities, target: float = TARGET_UTILISATION,
                      new_rep_capacity: float | None = None) -> int:
    """The fewest reps whose hours at ``target`` utilisation cover ``workload``.

    With more workload than the current reps cover at the target, that is the
    current reps plus enough new reps of ``new_rep_capacity`` hours (default:
    the current reps' mean). With less, it is the fewest reps of the current
    mean capacity that still cover it (fewer than today: overstaffed).

    Examples
    --------
    >>> count_reps_needed(3400.0, [1000.0, 1000.0], target=0.85)  # 3400 / 850 = 4
    4
    >>> count_reps_needed(1000.0, [1000.0, 1000.0, 1000.0], target=0.85)  # 1000 / 850 -> 2
    2
    """
    target = check_target(target)
    capacities = np.asarray(capacities, dtype=float)
    if not math.isfinite(workload) or workload < 0:
        raise InputError(f"workload must be a number of hours >= 0, got {workload!r}")
    mean = float(capacities.mean()) if len(capacities) else None
    new = mean if new_rep_capacity is None else float(new_rep_capacity)
    if new is None or not new > 0:
        raise InputError("new_rep_capacity (hours per year of a new rep; CLI: --new-rep-capacity) must be a positive "
                         f"number, and is needed when there are no reps; got {new_rep_capacity!r}")
    covered = target * float(capacities.sum())
    if workload > covered * (1 + 1e-9):
        return len(capacities) + math.ceil((workload - covered) / (target * new) - 1e-9)
    if workload == 0:
        return 0
    return max(1, math.ceil(workload / (target * mean) - 1e-9))
