"""Resource levels: how busy each rep is, how many reps the workload needs, and where to hire.

Pure functions on frames (accounts with a ``workload`` column in hours per
year, reps with ``capacity_hours``):

- :func:`rep_utilisation`: per rep, the workload of the territory they cover
  against their capacity (utilisation as a share, over/under the target);
  :func:`team_utilisation` totals it for the team.
- :func:`count_reps_needed`: how many reps the workload needs at a target
  utilisation (default 85%: time left for travel, training and growth).
- :func:`suggest_hires`: home locations for the extra reps, where the workload
  per rep is highest (a capacitated location-allocation heuristic on the
  accounts that keeps the existing reps where they are), each with the
  workload it takes over and from which territories.
- :func:`assess_capacity`: all of it at once, as a :class:`CapacityAssessment`
  (``to_dict()`` is what ``workbench capacity --json`` prints).

How hires are placed (``suggest_hires``)
----------------------------------------
Accounts are grouped into small cells (a latitude/longitude grid, coarsened
until at most ``max_cells`` cells remain; a cell keeps its territories apart).
Every rep offers ``target x capacity_hours`` of time; a new rep offers
``target x new_rep_capacity``. An allocation is a linear programme (HiGHS):
each cell's workload goes to its nearest reps at the least workload-weighted
travel, no rep over their time, workload that nobody can take left
*unserved* at a high price. Hires are added one at a time at the cell where
unserved workload is densest (the most unserved workload within
``radius_km``): that is where the workload per rep is highest. Then, as in
Cooper's location-allocation, each hire moves to the weighted medoid of the
workload allocated to them and the allocation is solved again, until no hire
moves; existing reps never move. A hire's ``workload`` is what the final
allocation gives them and ``from_territories`` the current territories it
comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from workbench.errors import InputError
from workbench.geo import chord_to_km, great_circle_km, to_unit_xyz, xyz_to_latlon
from workbench.metrics import assigned_mask
from workbench.schema import CAPACITY_HOURS, LATITUDE, LONGITUDE, REP_ID, REP_NAME, TERRITORY_ID, WORKLOAD

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
    if isinstance(target, bool) or not isinstance(target, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(target)) or not 0 < float(target) <= 1:
        raise InputError(f"{name} must be a share of the reps' hours in (0, 1] (0.85 = 85%), got {target!r}")
    return float(target)


def _capacities(reps: pd.DataFrame, capacity_col: str) -> np.ndarray:
    if not isinstance(reps, pd.DataFrame):
        raise TypeError(f"reps must be a pandas DataFrame, got {type(reps).__name__}")
    missing = [c for c in (REP_ID, LATITUDE, LONGITUDE) if c not in reps.columns]
    if missing:
        raise InputError(f"reps have no column(s) {missing} (columns: {list(reps.columns)}); reps need rep_id, "
                         "latitude, longitude and capacity_hours (load them with workbench.io.load_reps)")
    if capacity_col not in reps.columns:
        raise InputError(f"reps have no {capacity_col!r} column (columns: {list(reps.columns)}); utilisation needs "
                         f"each rep's available hours per year. Fix: add a {capacity_col} column (e.g. 1600)")
    capacity = pd.to_numeric(reps[capacity_col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(capacity) | (capacity <= 0)
    if bad.any():
        ids = reps[REP_ID].astype(str).to_numpy()[bad][:5].tolist()
        raise InputError(f"reps {ids} have no usable {capacity_col!r} (got "
                         f"{reps[capacity_col].to_numpy()[bad][:5].tolist()}); fill in each rep's hours per "
                         "year as a positive number")
    return capacity


def _workload(accounts: pd.DataFrame, workload_col: str) -> np.ndarray:
    if not isinstance(accounts, pd.DataFrame):
        raise TypeError(f"accounts must be a pandas DataFrame, got {type(accounts).__name__}")
    if workload_col not in accounts.columns:
        raise InputError(f"accounts have no {workload_col!r} column (columns: {list(accounts.columns)}); "
                         "utilisation needs the hours each account takes per year (--balance-on COL names it)")
    values = pd.to_numeric(accounts[workload_col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InputError(f"accounts column {workload_col!r} must hold hours >= 0; rows {rows} do not "
                         f"(values {accounts[workload_col].to_numpy()[bad][:5].tolist()})")
    return values


def _territory_of_reps(reps: pd.DataFrame) -> np.ndarray:
    """Territory each rep covers: ``territory_id``, else the rep id (missing = none, a new hire)."""
    if TERRITORY_ID in reps.columns:
        values = reps[TERRITORY_ID].to_numpy(dtype=object)
        mask = assigned_mask(values)
        return np.array([str(v).strip() if ok else None for v, ok in zip(values, mask)], dtype=object)
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
    capacity = _capacities(reps, capacity_col)
    workload = _workload(accounts, workload_col)
    values = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels, dtype=object)
    if len(values) != len(accounts):
        raise InputError(f"labels has {len(values)} entries but accounts has {len(accounts)} rows; "
                         "pass one territory per account row")
    assigned = assigned_mask(values)
    territory = pd.Series(values[assigned]).astype(str).str.strip().to_numpy()
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
        raise InputError("new_rep_capacity (hours per year of a new rep) is needed when there are no reps, and must "
                         f"be positive; got {new_rep_capacity!r}")
    covered = target * float(capacities.sum())
    if workload > covered * (1 + 1e-9):
        return len(capacities) + math.ceil((workload - covered) / (target * new) - 1e-9)
    if workload == 0:
        return 0
    return max(1, math.ceil(workload / (target * mean) - 1e-9))


# --------------------------------------------------------------------------- where to hire

@dataclass(frozen=True)
class _Demand:
    """Workload grouped by grid cell and current territory."""

    lat: np.ndarray
    lon: np.ndarray
    workload: np.ndarray
    territory: np.ndarray


def _demand(lat, lon, workload, territory, max_cells: int) -> _Demand:
    keep = workload > 0
    lat, lon, workload, territory = lat[keep], lon[keep], workload[keep], territory[keep]
    xyz = to_unit_xyz(lat, lon) * workload[:, None]
    step = 0.05
    while True:
        cell = pd.MultiIndex.from_arrays([np.floor(lat / step), np.floor(lon / step)])
        codes = pd.factorize(cell)[0]
        if codes.max(initial=-1) + 1 <= max_cells or step >= 90:
            break
        step *= 2
    group, keys = pd.factorize(pd.MultiIndex.from_arrays([codes, territory]))
    n = len(keys)
    weight = np.bincount(group, weights=workload, minlength=n)
    centre = np.column_stack([np.bincount(group, weights=xyz[:, i], minlength=n) for i in range(3)])
    clat, clon = xyz_to_latlon(centre)
    first = np.zeros(n, dtype=int)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return _Demand(clat, clon, weight, territory[first])


def _allocate(demand: _Demand, site_lat, site_lon, capacity, n_fixed: int, n_nearest: int = 10):
    """Least-travel allocation of the demand to the sites within capacity: (share matrix, unserved share).

    The first ``n_fixed`` sites are the existing reps: on equal travel they
    keep the workload (a new site costs a hair more), so a hire takes over
    what the existing reps cannot carry, not an arbitrary part of it.
    """
    n_d, n_s = len(demand.workload), len(site_lat)
    if n_s == 0:
        return sparse.csr_matrix((n_d, 0)), np.ones(n_d)
    km = great_circle_km(demand.lat[:, None], demand.lon[:, None], site_lat[None, :], site_lon[None, :])
    k = min(n_nearest, n_s)
    nearest = np.argsort(km, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(n_d), k)
    cols = nearest.ravel()
    dist = km[rows, cols] + np.where(cols >= n_fixed, 0.01, 0.0)
    penalty = 10.0 * (float(km.max()) + 1.0)
    w = demand.workload
    cost = np.concatenate([w[rows] * (dist + 1e-3), w * penalty])
    n_x = len(rows)
    a_eq = sparse.hstack([sparse.csr_matrix((np.ones(n_x), (rows, np.arange(n_x))), shape=(n_d, n_x)),
                          sparse.identity(n_d, format="csr")]).tocsr()
    a_ub = sparse.hstack([sparse.csr_matrix((w[rows], (cols, np.arange(n_x))), shape=(n_s, n_x)),
                          sparse.csr_matrix((n_s, n_d))]).tocsr()
    result = linprog(cost, A_ub=a_ub, b_ub=np.asarray(capacity, dtype=float), A_eq=a_eq, b_eq=np.ones(n_d),
                     bounds=(0, 1), method="highs")
    if result.status != 0:  # pragma: no cover - the unserved slack keeps the programme feasible
        raise RuntimeError(f"hire allocation did not solve: {result.message}")
    x = result.x
    share = sparse.csr_matrix((x[:n_x], (rows, cols)), shape=(n_d, n_s))
    share.eliminate_zeros()
    return share, np.clip(x[n_x:], 0.0, 1.0)


def _densest(demand: _Demand, amount: np.ndarray, radius_km: float) -> int:
    """Index of the demand cell with the most ``amount`` within ``radius_km`` (ties: the nearer mass)."""
    order = np.argsort(-amount, kind="stable")
    heavy = order[amount[order] > 0]
    if len(heavy) == 0:
        return int(np.argmax(demand.workload))
    candidates = heavy[:300]
    points = heavy[:3000]
    km = great_circle_km(demand.lat[candidates][:, None], demand.lon[candidates][:, None],
                         demand.lat[points][None, :], demand.lon[points][None, :])
    score = (amount[points][None, :] * np.clip(1.0 - km / radius_km, 0.0, None)).sum(axis=1)
    return int(candidates[int(np.argmax(score))])


def _medoid(demand: _Demand, weights: np.ndarray) -> int:
    """The demand cell minimising the weighted travel to the cells with weight."""
    rows = np.flatnonzero(weights > 1e-9)
    if len(rows) > 1500:
        rows = rows[np.argsort(-weights[rows], kind="stable")[:1500]]
    km = great_circle_km(demand.lat[rows][:, None], demand.lon[rows][:, None],
                         demand.lat[rows][None, :], demand.lon[rows][None, :])
    return int(rows[int(np.argmin(km @ weights[rows]))])


def suggest_hires(accounts: pd.DataFrame, labels, reps: pd.DataFrame, n_hires: int, *,
                  target: float = TARGET_UTILISATION, new_rep_capacity: float | None = None,
                  workload_col: str = WORKLOAD, capacity_col: str = CAPACITY_HOURS, radius_km: float = 150.0,
                  max_cells: int = 1500, max_iter: int = 20) -> pd.DataFrame:
    """Home locations for ``n_hires`` new reps, where the workload per rep is highest.

    See the module docstring for the method. Existing reps stay at their homes.

    Parameters
    ----------
    accounts : pandas.DataFrame
        ``latitude``, ``longitude`` and ``workload_col``.
    labels : array-like
        Current territory of each account row (reported in ``from_territories``).
    reps : pandas.DataFrame
        Current reps: ``rep_id``, ``latitude``, ``longitude``, ``capacity_col``.
    n_hires : int
        How many new reps to place (e.g. ``count_reps_needed(...) - len(reps)``).
    target : float, default 0.85
        Each rep (old or new) is allocated at most this share of their hours,
        or the team's utilisation after the hires if that is higher.
    new_rep_capacity : float, optional
        Hours per year of a new rep; default the current reps' mean.
    radius_km : float, default 150
        Reach used to find where unserved workload is densest.
    max_cells, max_iter : int

    Returns
    -------
    pandas.DataFrame
        One row per hire, ``rep_id`` ``NEW01``..., ``latitude``, ``longitude``,
        ``workload`` (hours the hire takes over), ``capacity_hours``,
        ``utilisation``, ``from_territories`` (dict territory -> hours, largest
        first).

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 0.01, 1.0, 1.0, 1.01],
    ...                          "longitude": [0.0, 0.01, 0.0, 1.0, 1.01, 1.0],
    ...                          "workload": [100.0, 100.0, 100.0, 500.0, 500.0, 500.0],
    ...                          "territory": ["W", "W", "W", "E", "E", "E"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "latitude": [0.0, 1.0], "longitude": [0.0, 1.0],
    ...                      "capacity_hours": [1000.0, 1000.0]})
    >>> hires = suggest_hires(accounts, accounts["territory"], reps, 1)
    >>> round(hires.at[0, "latitude"]), list(hires.at[0, "from_territories"])
    (1, ['E'])
    """
    target = check_target(target)
    if isinstance(n_hires, bool) or not isinstance(n_hires, (int, np.integer)) or n_hires < 0:
        raise InputError(f"n_hires must be a whole number >= 0, got {n_hires!r}")
    capacity = _capacities(reps, capacity_col) if len(reps) else np.zeros(0)
    workload = _workload(accounts, workload_col)
    new = float(capacity.mean()) if new_rep_capacity is None and len(capacity) else new_rep_capacity
    columns = [REP_ID, LATITUDE, LONGITUDE, "workload", CAPACITY_HOURS, "utilisation", "from_territories"]
    if n_hires == 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c in (REP_ID, "from_territories") else float)
                             for c in columns})
    if new is None or not float(new) > 0:
        raise InputError(f"new_rep_capacity must be a positive number of hours, got {new_rep_capacity!r}")
    new = float(new)
    values = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels, dtype=object)
    territory = np.where(assigned_mask(values), pd.Series(values).astype(str).str.strip().to_numpy(), "(none)")
    demand = _demand(accounts[LATITUDE].to_numpy(dtype=float), accounts[LONGITUDE].to_numpy(dtype=float),
                     workload, territory.astype(object), max_cells)
    home_lat = reps[LATITUDE].to_numpy(dtype=float) if len(reps) else np.zeros(0)
    home_lon = reps[LONGITUDE].to_numpy(dtype=float) if len(reps) else np.zeros(0)
    total = float(demand.workload.sum())
    hires: list[int] = []

    def sites(chosen):
        return (np.concatenate([home_lat, demand.lat[chosen]]), np.concatenate([home_lon, demand.lon[chosen]]))

    for _ in range(n_hires):  # greedy: each hire where the unserved workload is densest
        lat, lon = sites(hires)
        caps = target * np.concatenate([capacity, np.full(len(hires), new)])
        _, unserved = _allocate(demand, lat, lon, caps, len(capacity))
        amount = unserved * demand.workload
        if amount.sum() <= 1e-9 * max(total, 1.0):  # nobody is short: the hire relieves the busiest territory
            amount = _busiest(demand, lat, lon, caps)
        hires.append(_densest(demand, amount, radius_km))
    level = max(target, total / (capacity.sum() + n_hires * new))
    caps = level * np.concatenate([capacity, np.full(n_hires, new)]) * (1 + 1e-9)
    for _ in range(max_iter):  # location-allocation: hires move to the medoid of what they serve
        lat, lon = sites(hires)
        share, _ = _allocate(demand, lat, lon, caps, len(capacity))
        moved = []
        for j in range(n_hires):
            served = share[:, len(capacity) + j].toarray().ravel() * demand.workload
            moved.append(_medoid(demand, served) if served.sum() > 0 else hires[j])
        if moved == hires:
            break
        hires = moved
    lat, lon = sites(hires)
    share, _ = _allocate(demand, lat, lon, caps, len(capacity))
    rows = []
    for j, cell in enumerate(hires):
        served = share[:, len(capacity) + j].toarray().ravel() * demand.workload
        by_territory = pd.Series(served).groupby(demand.territory).sum()
        by_territory = by_territory[by_territory > 0.05].round(1).sort_values(ascending=False, kind="stable")
        rows.append({REP_ID: f"{HIRE_PREFIX}{j + 1:02d}", LATITUDE: round(float(demand.lat[cell]), 6),
                     LONGITUDE: round(float(demand.lon[cell]), 6), "workload": round(float(served.sum()), 1),
                     CAPACITY_HOURS: new, "utilisation": float(served.sum()) / new,
                     "from_territories": {str(k): float(v) for k, v in by_territory.items()}})
    return pd.DataFrame(rows, columns=columns)


def _busiest(demand: _Demand, lat, lon, caps) -> np.ndarray:
    """Workload of the cells whose nearest site has the least spare time (when nobody is short)."""
    km = great_circle_km(demand.lat[:, None], demand.lon[:, None], lat[None, :], lon[None, :])
    nearest = np.argmin(km, axis=1)
    load = np.bincount(nearest, weights=demand.workload, minlength=len(lat))
    pressure = load / np.maximum(caps, 1e-9)
    return demand.workload * (nearest == int(np.argmax(pressure)))


# --------------------------------------------------------------------------- everything at once

@dataclass(frozen=True)
class CapacityAssessment:
    """Utilisation, reps needed and suggested hires, as :func:`assess_capacity` returns them.

    Attributes
    ----------
    reps : pandas.DataFrame
        :func:`rep_utilisation` table.
    team : dict
        :func:`team_utilisation` totals.
    reps_needed : int
        Reps the workload needs at ``target``.
    hires : pandas.DataFrame
        :func:`suggest_hires` rows, ``reps_needed - current reps`` of them (none when overstaffed).
    surplus_territories : list of str
        When overstaffed: the least utilised territories, one per rep too many
        (candidates to close or merge; ``Realignment(close=...)`` takes them).
    target : float
    new_rep_capacity : float
    """

    reps: pd.DataFrame
    team: dict
    reps_needed: int
    hires: pd.DataFrame
    surplus_territories: list = field(default_factory=list)
    target: float = TARGET_UTILISATION
    new_rep_capacity: float = float("nan")

    @property
    def current_reps(self) -> int:
        """Number of reps today."""
        return int(self.team["reps"])

    @property
    def change(self) -> int:
        """Reps to add (positive) or that the workload does not need (negative)."""
        return self.reps_needed - self.current_reps

    def to_dict(self) -> dict:
        """Plain JSON-ready data: what ``workbench capacity --json`` prints."""
        def number(value):
            value = float(value)
            return value if math.isfinite(value) else None

        reps = [{REP_ID: r[REP_ID], "name": r[REP_NAME], TERRITORY_ID: r[TERRITORY_ID], "accounts": int(r["accounts"]),
                 "workload": round(float(r["workload"]), 1), CAPACITY_HOURS: number(r[CAPACITY_HOURS]),
                 "utilisation": number(r["utilisation"]),
                 "spare_hours": None if number(r["spare_hours"]) is None else round(float(r["spare_hours"]), 1),
                 "status": r["status"]}
                for r in self.reps.to_dict("records") if r[REP_ID] is not None and not pd.isna(r[REP_ID])]
        hires = [{REP_ID: h[REP_ID], LATITUDE: float(h[LATITUDE]), LONGITUDE: float(h[LONGITUDE]),
                  "workload": float(h["workload"]), CAPACITY_HOURS: float(h[CAPACITY_HOURS]),
                  "utilisation": float(h["utilisation"]), "from_territories": dict(h["from_territories"]),
                  **({"near": h["near"]} if "near" in h else {})}
                 for h in self.hires.to_dict("records")]
        team = self.team
        return {
            "reps_needed": int(self.reps_needed),
            "current_reps": self.current_reps,
            "change": int(self.change),
            "utilisation": number(team["utilisation"]),
            "target_utilisation": float(self.target),
            "workload": round(float(team["workload"]), 1),
            "capacity_hours": float(team["capacity_hours"]),
            "new_rep_capacity_hours": number(self.new_rep_capacity),
            "over": team["over"], "under": team["under"], "on_target": team["on_target"],
            "territories_without_rep": list(team["territories_without_rep"]),
            "reps": reps,
            "hires": hires,
            "surplus_territories": list(self.surplus_territories),
        }


def assess_capacity(accounts: pd.DataFrame, reps: pd.DataFrame, *, labels=None, current_col: str | None = None,
                    workload_col: str = WORKLOAD, capacity_col: str = CAPACITY_HOURS,
                    target: float = TARGET_UTILISATION, new_rep_capacity: float | None = None,
                    band: float = DEFAULT_BAND, **hire_options) -> CapacityAssessment:
    """Utilisation per rep and for the team, the reps needed at ``target``, and where to hire.

    Parameters
    ----------
    accounts, reps : pandas.DataFrame
    labels : array-like, optional
        Territory of each account; default ``accounts[current_col]``.
    current_col : str, optional
        Column of the current territory (default ``current_territory``).
    workload_col, capacity_col : str
    target : float, default 0.85
    new_rep_capacity : float, optional
        Hours of a new rep; default the current reps' mean.
    band : float, default 0.10
    **hire_options
        Passed to :func:`suggest_hires` (``radius_km``, ``max_cells``, ``max_iter``).

    Returns
    -------
    CapacityAssessment

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0], "longitude": [0.0, 0.01, 1.0, 1.01],
    ...                          "workload": [400.0, 400.0, 700.0, 700.0], "current_territory": ["W", "W", "E", "E"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["W", "E"], "latitude": [0.0, 1.0],
    ...                      "longitude": [0.0, 1.0], "capacity_hours": [1000.0, 1000.0]})
    >>> result = assess_capacity(accounts, reps)
    >>> result.reps_needed, round(result.team["utilisation"], 2), result.hires["from_territories"].tolist()
    (3, 1.1, [{'E': 850.0}])
    """
    from workbench.schema import CURRENT_TERRITORY

    target = check_target(target)
    if labels is None:
        column = current_col or CURRENT_TERRITORY
        if column not in accounts.columns:
            raise InputError(f"accounts have no current territory column {column!r} (columns: "
                             f"{list(accounts.columns)}); utilisation needs each account's territory (--current COL)")
        labels = accounts[column]
    table = rep_utilisation(accounts, labels, reps, workload_col=workload_col, capacity_col=capacity_col,
                            target=target, band=band)
    team = team_utilisation(table, target)
    capacity = _capacities(reps, capacity_col)
    new = float(capacity.mean()) if new_rep_capacity is None else float(new_rep_capacity)
    needed = count_reps_needed(team["workload"], capacity, target, new)
    n_hires = max(0, needed - len(reps))
    hires = suggest_hires(accounts, labels, reps, n_hires, target=target, new_rep_capacity=new,
                          workload_col=workload_col, capacity_col=capacity_col, **hire_options)
    surplus = []
    if needed < len(reps):
        staffed = table[table[REP_ID].notna() & table[TERRITORY_ID].notna()]
        staffed = staffed.sort_values(["utilisation", TERRITORY_ID], kind="stable")
        surplus = staffed[TERRITORY_ID].astype(str).head(len(reps) - needed).tolist()
    return CapacityAssessment(table, team, needed, hires, surplus, target, new)


def nearest_places(latitude, longitude, *, max_km: float = 60.0) -> list:
    """Name of the nearest populated US ZIP place ("Frisco, TX") of each point, or None beyond ``max_km``.

    Uses the bundled ZIP points (offline), so a hire's suggested home reads
    as a place a person knows.

    Examples
    --------
    >>> nearest_places([40.7128, -33.87], [-74.006, 151.21])
    ['New York, NY', None]
    """
    from scipy.spatial import cKDTree

    from workbench.bundled import load_zip_points

    lat = np.atleast_1d(np.asarray(latitude, dtype=float))
    lon = np.atleast_1d(np.asarray(longitude, dtype=float))
    if len(lat) == 0:
        return []
    zips = load_zip_points()
    zips = zips[(zips["population"].fillna(0) > 0) & zips[LATITUDE].notna() & zips[LONGITUDE].notna()]
    tree = cKDTree(to_unit_xyz(zips[LATITUDE].to_numpy(dtype=float), zips[LONGITUDE].to_numpy(dtype=float)))
    chord, index = tree.query(to_unit_xyz(lat, lon), k=1)
    km = chord_to_km(chord)
    names = (zips["primary_city"].astype(str) + ", " + zips["state"].astype(str)).to_numpy()
    return [str(names[i]) if d <= max_km else None for i, d in zip(index, km)]


def format_utilisation(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`rep_utilisation` table for people: whole hours, utilisation in percent, readable headers.

    Examples
    --------
    >>> table = pd.DataFrame({"rep_id": ["R1"], "name": ["Ann"], "territory_id": ["T1"], "accounts": [1200],
    ...                       "workload": [1530.4], "capacity_hours": [1800.0], "utilisation": [0.85022],
    ...                       "spare_hours": [269.6], "status": ["on target"]})
    >>> format_utilisation(table).iloc[0].tolist()
    ['R1', 'Ann', 'T1', '1,200', '1,530 h', '1,800 h', '85.0%', '270 h', 'on target']
    """
    from workbench.present import MISSING, hours, integer, percent

    return pd.DataFrame({
        "Rep": table[REP_ID].fillna(MISSING), "Name": table[REP_NAME].fillna(MISSING),
        "Territory": table[TERRITORY_ID].fillna("(none)"), "Accounts": table["accounts"].map(integer),
        "Workload": table["workload"].map(hours), "Capacity": table[CAPACITY_HOURS].map(hours),
        "Utilisation": table["utilisation"].map(lambda v: percent(v, fraction=True)),
        "Spare": table["spare_hours"].map(lambda v: hours(v)), "Status": table["status"]})


def format_hires(hires: pd.DataFrame, top: int = 4) -> pd.DataFrame:
    """Suggested hires for people: place, coordinates, hours taken over and from which territories."""
    from workbench.present import hours, percent

    def sources(taken: dict) -> str:
        items = list(taken.items())
        text = ", ".join(f"{t} {hours(h)}" for t, h in items[:top])
        return text + (f" and {len(items) - top} more" if len(items) > top else "")

    return pd.DataFrame({
        "Hire": hires[REP_ID], **({"Near": hires["near"].fillna("-")} if "near" in hires else {}),
        "Latitude": hires[LATITUDE].map("{:.4f}".format), "Longitude": hires[LONGITUDE].map("{:.4f}".format),
        "Workload": hires["workload"].map(hours),
        "Utilisation": hires["utilisation"].map(lambda v: percent(v, fraction=True)),
        "Takes over from": hires["from_territories"].map(sources)})


# --------------------------------------------------------------------------- hand-off to the realignment

def headcount_reps(reps: pd.DataFrame, assessment: CapacityAssessment) -> pd.DataFrame:
    """The reps of the headcount the assessment asks for, as the realignment takes them.

    Today's reps, plus one row per suggested hire (``rep_id`` ``NEW01``...,
    named "New rep NEW01", home at the suggested place, no ``territory_id``:
    :class:`~workbench.align.Realignment` opens a new territory around a rep
    without one), less the reps of the ``surplus_territories`` when the team
    is larger than the workload needs (a territory whose rep is not in the
    file closes). ``workbench capacity --reps-out FILE`` writes this table for
    ``workbench align --current COL --reps FILE``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0], "longitude": [0.0, 0.01, 1.0, 1.01],
    ...                          "workload": [400.0, 400.0, 700.0, 700.0], "current_territory": ["W", "W", "E", "E"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["W", "E"], "latitude": [0.0, 1.0],
    ...                      "longitude": [0.0, 1.0], "capacity_hours": [1000.0, 1000.0]})
    >>> headcount_reps(reps, assess_capacity(accounts, reps))[["rep_id", "territory_id"]].to_dict("list")
    {'rep_id': ['R1', 'R2', 'NEW01'], 'territory_id': ['W', 'E', None]}
    """
    keep = reps
    if assessment.surplus_territories and TERRITORY_ID in reps.columns:
        keep = reps[~reps[TERRITORY_ID].astype(str).isin(assessment.surplus_territories)]
    hires = assessment.hires
    taken = set(keep[REP_ID].astype(str))
    clash = sorted(taken & set(hires[REP_ID].astype(str)))
    if clash:
        raise InputError(f"reps already use the ids {clash[:5]} given to suggested hires; rename those reps")
    new = pd.DataFrame({REP_ID: hires[REP_ID].astype(object), REP_NAME: "New rep " + hires[REP_ID].astype(str),
                        TERRITORY_ID: pd.Series([None] * len(hires), dtype=object),
                        LATITUDE: hires[LATITUDE].to_numpy(dtype=float),
                        LONGITUDE: hires[LONGITUDE].to_numpy(dtype=float),
                        CAPACITY_HOURS: hires[CAPACITY_HOURS].to_numpy(dtype=float)})
    if "near" in hires.columns:
        new["home_city"] = hires["near"].to_numpy(dtype=object)
    out = pd.concat([keep.reset_index(drop=True), new], ignore_index=True) if len(new) else keep.reset_index(drop=True)
    out[TERRITORY_ID] = out[TERRITORY_ID].astype(object).where(out[TERRITORY_ID].notna(), None)
    return out


def realign_headcount(accounts: pd.DataFrame, reps: pd.DataFrame, assessment: CapacityAssessment, *,
                      current_col: str | None = None, balance_on=(WORKLOAD,), tolerance: float | None = None,
                      name: str = "headcount", return_model: bool = False, **options):
    """Hand the assessment to the headcount realignment: one call, one draft plan.

    Runs ``Realignment(n_territories=reps_needed, close=surplus_territories)``
    on :func:`headcount_reps`: each hire opens a territory around their home,
    taking workload from the overloaded territories around it; when the team is
    too large, the surplus territories close and their accounts go to their
    neighbours. Current territory ids are kept.

    Parameters
    ----------
    accounts, reps : pandas.DataFrame
        As given to :func:`assess_capacity`.
    assessment : CapacityAssessment
    current_col : str, optional
        Current territory column (default ``current_territory``).
    balance_on, tolerance
        Passed to :class:`~workbench.align.Realignment` (default workload, 5%).
    name : str, default "headcount"
        Name of the draft plan.
    return_model : bool, default False
        Also return the fitted realignment (its ``report_``: moves, lower bounds, opened/closed).
    **options
        Other :class:`~workbench.align.Realignment` parameters (``max_moved_share``, ``lock_col``, ...).

    Returns
    -------
    Plan or (Plan, Realignment)
        A draft plan whose new territories carry their hire as rep.
    """
    from workbench.align import Realignment
    from workbench.plan import Plan
    from workbench.schema import CURRENT_TERRITORY, DEFAULT_TOLERANCE

    current_col = current_col or CURRENT_TERRITORY
    team = headcount_reps(reps, assessment)
    model = Realignment(n_territories=assessment.reps_needed, close=list(assessment.surplus_territories) or None,
                        balance_on=balance_on, current_col=current_col,
                        tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance, **options)
    model.fit(accounts, reps=team)
    team = _name_new_territories(team, model)
    parameters = {"reps_needed": int(assessment.reps_needed), "current_reps": assessment.current_reps,
                  "target_utilisation": float(assessment.target), "hires": team.loc[team[REP_ID].isin(
                      assessment.hires[REP_ID]), REP_ID].tolist(),
                  "closed": list(getattr(model, "closed_", ()) or ()), "opened": list(getattr(model, "opened_", ()) or ()),
                  "balance_on": list(model.report_.balance_on) if hasattr(model.report_, "balance_on") else None,
                  "tolerance": float(model.tolerance)}
    plan = Plan.from_labels(accounts, model.labels_, method="headcount_realignment", parameters=parameters,
                            name=name, reps=team[team[TERRITORY_ID].notna()])
    return (plan, model) if return_model else plan


def _name_new_territories(team: pd.DataFrame, model) -> pd.DataFrame:
    """Give each hire the id of the territory the realignment opened around their home."""
    opened = list(getattr(model, "opened_", ()) or ())
    new = team[TERRITORY_ID].isna().to_numpy()
    if not opened or not new.any():
        return team
    centres = model.centres_.loc[opened] if hasattr(model.centres_, "loc") else None
    out = team.copy()
    rows = np.flatnonzero(new)
    if centres is not None and len(centres) == len(rows):
        km = great_circle_km(out[LATITUDE].to_numpy()[rows][:, None], out[LONGITUDE].to_numpy()[rows][:, None],
                             centres[LATITUDE].to_numpy()[None, :], centres[LONGITUDE].to_numpy()[None, :])
        from scipy.optimize import linear_sum_assignment

        hire, territory = linear_sum_assignment(km)
        out.loc[out.index[rows[hire]], TERRITORY_ID] = np.asarray(opened, dtype=object)[territory]
    return out
