"""Rep-anchored territories: one per rep, around fixed home bases, sized by capacity."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from workbench.align import _balance
from workbench.align.base import (
    N_CANDIDATES, Distance, TerritoryEstimator, balance_columns, check_accounts, check_tolerance, metric_shares,
    progress_bar,
)
from workbench.checks import rep_capacity, rep_homes
from workbench.errors import InputError
from workbench.geo import to_unit_xyz
from workbench.schema import CAPACITY_HOURS, DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, REP_ID, TERRITORY_ID, WORKLOAD


def rep_sites(reps, capacity_col: str | None = CAPACITY_HOURS):
    """Rep ids, home unit vectors and target shares (in proportion to capacity, else equal).

    Examples
    --------
    >>> reps = pd.DataFrame({"rep_id": ["r1", "r2"], "latitude": [40.0, 41.0], "longitude": [-100.0, -99.0],
    ...                      "capacity_hours": [1000.0, 3000.0]})
    >>> ids, homes, targets = rep_sites(reps)
    >>> ids.tolist(), targets.tolist()
    (['r1', 'r2'], [0.25, 0.75])
    """
    ids, lat, lon = rep_homes(reps, purpose="rep-anchored territories", need="rep_id, latitude, longitude")
    duplicated = pd.Series(ids).duplicated().to_numpy()
    if duplicated.any():
        raise InputError(f"rep ids are not unique, e.g. {list(ids[duplicated][:5])}; give each rep one row")
    if capacity_col is not None and capacity_col in reps.columns:
        capacity = rep_capacity(reps, capacity_col)
        targets = capacity / capacity.sum()
    else:
        targets = np.full(len(ids), 1.0 / len(ids))
    return ids.astype(object), to_unit_xyz(lat, lon), targets


class RepAnchoredTerritories(TerritoryEstimator):
    """One territory per rep around the rep's home base; ids are rep ids.

    Centres stay at the homes (no Lloyd steps). Targets are equal, or in
    proportion to ``capacity_col`` when the reps have it (a rep with twice
    the hours gets twice the workload). Balance comes from prices on the
    assignment cost and the exact per-account repair of
    :class:`~workbench.align.BalancedTerritories`.

    Parameters
    ----------
    balance_on : str or sequence of str, default ("workload",)
    tolerance : float, default 0.05
    capacity_col : str, default "capacity_hours"
    distance : callable or array, optional
        Travel-time function ``f(lat1, lon1, lat2, lon2)`` or an accounts x
        reps matrix (columns in the reps' order) replacing great-circle cost.
    current_col : str, optional
        Territory (rep id) column: what locked accounts keep.
    lock_col : str, optional
        Bool column of locked accounts (needs ``current_col``).
    locked_territories : list of str, optional
        Rep territories left untouched (needs ``current_col``).
    n_candidates : int, default 12
    max_iter : int, default 100
    random_state : int, optional
        Unused (deterministic); kept for a uniform interface.
    progress : bool, default False

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [40.0, 40.0, 40.0, 40.0], "longitude": [-100.0, -99.9, -99.1, -99.0],
    ...                          "workload": 1.0})
    >>> reps = pd.DataFrame({"rep_id": ["west", "east"], "latitude": [40.0, 40.0], "longitude": [-100.0, -99.0]})
    >>> RepAnchoredTerritories().fit(accounts, reps=reps).labels_.tolist()
    ['west', 'west', 'east', 'east']
    """

    _method = "rep_anchored"

    def __init__(self, *, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE, capacity_col=CAPACITY_HOURS,
                 distance=None, current_col=None, lock_col=None, locked_territories=None,
                 n_candidates=N_CANDIDATES, max_iter=100, random_state=None, progress=False):
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.capacity_col = capacity_col
        self.distance = distance
        self.current_col = current_col
        self.lock_col = lock_col
        self.locked_territories = locked_territories
        self.n_candidates = n_candidates
        self.max_iter = max_iter
        self.random_state = random_state
        self.progress = progress

    def fit(self, accounts, y=None, *, reps=None):
        """Assign ``accounts`` to the ``reps`` (DataFrame: rep_id, latitude, longitude[, capacity_hours])."""
        from workbench.align.balanced import current_setup, polish, repair

        start = time.perf_counter()
        if reps is None:
            raise InputError("RepAnchoredTerritories.fit needs reps= (rep_id, latitude, longitude[, capacity_hours])")
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        ids, homes, targets = rep_sites(reps, self.capacity_col)
        if len(ids) > len(accounts):
            raise InputError(f"there are {len(ids)} reps but only {len(accounts)} accounts; "
                             "every rep needs at least one account")
        shares = metric_shares(accounts, balance_on)
        dist = Distance(self.distance, accounts[LATITUDE], accounts[LONGITUDE])
        if self.current_col is not None:
            ids, current, fixed, frozen = current_setup(accounts, self.current_col, self.lock_col,
                                                        self.locked_territories, ids=ids)
        else:
            if self.locked_territories:
                raise InputError("locked_territories needs current_col= (the territory of each account)")
            current, fixed, frozen = None, np.full(len(accounts), -1), np.zeros(len(ids), dtype=bool)
        cand, cost = dist.candidates(homes, self.n_candidates, allowed=~frozen)
        with progress_bar(self.progress, self.max_iter, "balancing") as bar:
            labels, prices, n_iter, _ = _balance.price_labels_by_metric(
                cand, cost, shares, targets, tolerance * 0.5, max_iter=self.max_iter, fixed=fixed, bar=bar,
                active=~frozen)
        mix = _balance.metric_mix(shares)

        def own_cost(rows, territories):
            return dist.cost(rows, territories, homes) * _balance.price_factors(prices, mix, rows, territories)

        cand_cost = cost * _balance.price_factors(prices, mix, np.arange(len(cand))[:, None], cand)
        labels, rounds, within = repair(labels, shares, targets, tolerance, cand, cand_cost, own_cost, fixed, frozen,
                                        aim=0.5)
        if within:
            labels, r = polish(dist, labels, shares, targets, tolerance, homes, fixed, frozen, self.n_candidates)
            rounds += r
        return self._set_results(
            accounts, labels, ids, homes, balance_on=balance_on, tolerance=tolerance, targets=targets,
            current=None if current is None else np.asarray(ids, dtype=object)[current],
            n_iter=n_iter + rounds, converged=within, seconds=time.perf_counter() - start, distance=self.distance)


def rep_territory_ids(labels, reps: pd.DataFrame) -> np.ndarray:
    """Rep-anchored labels (rep ids) renamed to the reps' ``territory_id``; a rep without one keeps its rep id.

    Use it to compare a rep-anchored alignment with the current territories
    (and as ``labels=`` of :meth:`workbench.plan.Plan.from_fit`).

    Examples
    --------
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["T07", None]})
    >>> rep_territory_ids(np.array(["R2", "R1"]), reps).tolist()
    ['R2', 'T07']
    """
    labels = pd.Series(np.asarray(labels, dtype=object))
    if TERRITORY_ID not in reps.columns:
        return labels.to_numpy(dtype=object)
    mapping = reps.assign(**{REP_ID: reps[REP_ID].astype(str)}).set_index(REP_ID)[TERRITORY_ID].dropna()
    return labels.map(mapping.astype(str)).fillna(labels).to_numpy(dtype=object)
