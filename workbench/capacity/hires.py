"""Where to hire: home locations for new reps, where the workload per rep is highest.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from workbench.checks import territory_per_row
from workbench.errors import InputError
from workbench.geo import chord_to_km, great_circle_km, to_unit_xyz, xyz_to_latlon
from workbench.schema import CAPACITY_HOURS, LATITUDE, LONGITUDE, REP_ID, WORKLOAD

from workbench.capacity.utilisation import (HIRE_PREFIX, TARGET_UTILISATION, check_target, rep_capacities,
                                            workload_hours)


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
    capacity = rep_capacities(reps, capacity_col) if len(reps) else np.zeros(0)
    workload = workload_hours(accounts, workload_col)
    new = float(capacity.mean()) if new_rep_capacity is None and len(capacity) else new_rep_capacity
    columns = [REP_ID, LATITUDE, LONGITUDE, "workload", CAPACITY_HOURS, "utilisation", "from_territories"]
    if n_hires == 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c in (REP_ID, "from_territories") else float)
                             for c in columns})
    if new is None or not float(new) > 0:
        raise InputError(f"new_rep_capacity must be a positive number of hours, got {new_rep_capacity!r}")
    new = float(new)
    values = territory_per_row(labels, accounts)
    territory = np.where(pd.notna(values), values, "(none)")
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
