"""Balanced territories: compact and within a tolerance on one or several metrics."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from workbench.align import _balance, _multirepair
from workbench.align.base import (
    N_CANDIDATES, Distance, TerritoryEstimator, balance_columns, check_accounts, check_n_territories,
    check_tolerance, lock_mask, metric_shares, progress_bar, territory_ids, unit_centres,
)
from workbench.align.polish import (MAX_ROUNDS, _compactness, _km, default_rounds, polish_alignment,
                                    split_merge_centres, split_merge_trials)
from workbench.errors import InputError
from workbench.geo import xyz_to_latlon
from workbench.schema import DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, WORKLOAD

#: The tolerance the repair aims at is a hair inside the requested one (float round-off).
_INSIDE = 0.999

#: The final compactness polish keeps every territory within this share of the tolerance.
_POLISH = 0.8


#: Shares of the tolerance the min-cost-flow repair aims at: first just inside it (95%: the greedy moves after
#: the flow must not push a territory back over), then, if still out, tighter (85%) to leave more room.
FLOW_SHARES = (0.95, 0.85)
#: Rounds of the exact (one account at a time) greedy repair, the last resort: enough to move the few lumpy
#: accounts left over on every sample we measured, bounded so a hopeless case ends in seconds.
EXACT_REPAIR_ROUNDS = 400
#: Cells the start-up aggregates the accounts into: per territory (enough for the bisection to cut each
#: territory's share finely) ...
CELLS_PER_TERRITORY = 200
#: ... and at least this many (below it aggregating saves nothing: the bisection of 20,000 points takes ms).
MIN_CELLS = 20_000


def current_setup(accounts, current_col, lock_col, locked_territories, n_territories=None, ids=None):
    """Territory ids, current index per account, pinned accounts and frozen territories.

    Returns ``(ids, current_idx, fixed, frozen)`` where ``fixed`` is the
    territory index of accounts that must stay (locked, or in a locked
    territory) and -1 elsewhere.
    """
    current = accounts[current_col].astype(str).to_numpy()
    found = np.unique(current)
    if ids is None:
        ids = found.astype(object)
        if n_territories is not None and n_territories != len(ids):
            raise InputError(f"n_territories={n_territories} but column {current_col!r} holds {len(ids)} "
                             "territories; leave n_territories=None to keep the current ones")
    else:
        unknown = np.setdiff1d(found, np.asarray(ids, dtype=str))
        if unknown.size:
            raise InputError(f"column {current_col!r} names territories that are not rep ids: "
                             f"{unknown[:5].tolist()}; use rep ids or drop current_col")
    position = pd.Index(np.asarray(ids, dtype=str))
    current_idx = position.get_indexer(current)
    locked_territories = [] if locked_territories is None else [str(t) for t in locked_territories]
    unknown = [t for t in locked_territories if t not in position]
    if unknown:
        raise InputError(f"locked_territories {unknown[:5]} are not territories (known: {list(position[:5])}...)")
    frozen = position.isin(locked_territories)
    pinned = lock_mask(accounts, lock_col) | frozen[current_idx]
    fixed = np.where(pinned, current_idx, -1)
    return np.asarray(ids, dtype=object), current_idx, fixed, np.asarray(frozen)


def repair(labels, shares, targets, tolerance, cand, cand_cost, own_cost, fixed, frozen, *, aim, flow_first=False):
    """Bring every territory within tolerance: greedy single moves, flows through neighbours if stuck."""
    target, low, high = _balance.bounds(targets, shares.shape[1], tolerance * _INSIDE)
    movable = fixed < 0
    cand = _balance.neighbour_candidates(labels, cand, cand_cost)
    weight = shares.mean(axis=1)
    rounds = 0
    def flow(labels, share):
        _, flow_low, flow_high = _balance.bounds(targets, 1, tolerance * share)
        return _balance.flow_repair(labels, weight, targets, flow_low[:, 0], flow_high[:, 0], cand, cand_cost,
                                    own_cost, movable, frozen)

    # Flow at 95% of the tolerance first (when asked), then greedy; if still out, a tighter flow (85%) and greedy.
    within = False
    for attempt, share in enumerate(FLOW_SHARES):
        if attempt == 1 and within:
            break
        if attempt == 1 or flow_first:
            labels = flow(labels, share)
        labels, r, within = _balance.greedy_repair(labels, shares, target, low, high, cand, cand_cost, own_cost,
                                                   movable, frozen, aim=aim)
        rounds += r
    if not within:
        labels, r, within = _balance.greedy_repair(labels, shares, target, low, high, cand, cand_cost, own_cost,
                                                   movable, frozen, aim=aim, exact=True, max_rounds=EXACT_REPAIR_ROUNDS)
        rounds += r
    if not within:  # several metrics with lumpy accounts: swaps and moves across each border
        labels, r, within = _multirepair.multi_repair(labels, shares, targets, tolerance * _INSIDE, cand, cand_cost,
                                                      own_cost, movable, frozen)
        rounds += r
    return labels, rounds, within


def polish(dist, labels, shares, targets, tolerance, centres, fixed, frozen, n_candidates):
    """Tidy a balanced alignment: accounts move to a nearer neighbouring centre while every territory
    stays within ``_POLISH`` of the tolerance (headroom is kept for new accounts). Returns (labels, rounds)."""
    cand, cost = dist.candidates(centres, n_candidates, allowed=~frozen)
    cand = _balance.neighbour_candidates(labels, cand, cost)
    _, low, high = _balance.bounds(targets, shares.shape[1], tolerance * _POLISH)
    return _balance.polish(labels, shares, low, high, cand, cost, lambda rows, t: dist.cost(rows, t, centres),
                           fixed < 0, frozen)


class BalancedTerritories(TerritoryEstimator):
    """Compact territories balanced on one or several metrics within a tolerance.

    Centres are found on a sample of the accounts (co-located ones merged;
    at most ``200 * n_territories`` points): recursive bisection gives
    balanced starting groups, then multiplicative prices on the squared
    distance are raised on heavy territories and lowered on light ones
    while the centres follow their accounts (damped Lloyd steps). The final
    assignment is per account, warm-started from those prices: an exact
    repair moves single boundary accounts to neighbouring territories,
    cheapest first, until every metric is within the tolerance, so many
    accounts at one address can be split. Several metrics get one price
    each. Then accounts move to a nearer neighbouring centre as long as
    every territory stays within 80% of the tolerance (tidier shapes). Last,
    by default, the exact polish: the most compact assignment within 95% of
    the tolerance to fixed centres (a linear program), alternated with
    re-centring (see ``exact_polish``), and on inputs of up to 50,000
    accounts a few split-and-merge restarts of the assignment and polish
    from moved centres, the most compact plan kept (see ``split_merge``).

    Parameters
    ----------
    n_territories : int, optional
        Number of territories (required unless ``current_col`` is given).
    balance_on : str or sequence of str, default ("workload",)
        Metric columns to balance at once.
    tolerance : float, default 0.05
        Largest allowed deviation from the mean, as a share.
    distance : callable, optional
        ``f(lat1, lon1, lat2, lon2) -> array`` replacing the great-circle
        assignment cost (e.g. drive time); centres stay spherical means.
    current_col : str, optional
        Current territory column: ids and starting centres come from it; it
        is what locked accounts keep.
    lock_col : str, optional
        Bool column; locked accounts keep their current territory.
    locked_territories : list of str, optional
        Territories left untouched (needs ``current_col``).
    n_candidates : int, default 12
        Nearest territories considered per account.
    max_iter : int, default 40
        Price/Lloyd iterations.
    random_state : int, optional
        Seed; the same inputs and seed give the same labels.
    progress : bool, default False
        Show a tqdm progress bar (a widget in notebooks).
    exact_polish : {"auto", True, False}, default "auto"
        Finish with exact balanced assignments to the nearest centres
        alternated with re-centring (:func:`workbench.align.polish.polish_alignment`).
        ``"auto"`` polishes inputs of up to ``POLISH_MAX_ACCOUNTS``
        (250,000) accounts, for as many rounds as
        :func:`workbench.align.polish.default_rounds` gives for their number
        (``200,000 / n_accounts``, at most 12: 10 on 20,000 accounts, 2 on
        100,000, so that the whole CLI process on 100,000 accounts stays
        within about twice a k-means process); larger inputs are not
        polished. ``True`` polishes any input (up to ``MAX_ROUNDS`` rounds);
        ``False`` stops after the greedy tidy (the plans of earlier
        versions). The rule depends on the number of accounts only, never
        on the clock.
    split_merge : {"auto", False} or int, default "auto"
        After the polish, break its fixed point (greenfield fits with the
        polish on, 3 territories or more): each trial moves one centre from
        the territory cheapest to share out among its neighbours into one of
        the most spread-out territories, cut across its principal axis
        (:func:`workbench.align.polish.split_merge_centres`), and runs the
        balanced assignment and the polish again from there; the most
        compact plan within the tolerance is kept, so the result is never
        less compact than without. ``"auto"`` runs
        :func:`workbench.align.polish.split_merge_trials` trials: ``160,000 /
        n_accounts``, at most 8 (8 on 20,000 accounts, 6 on 25,000),
        none above 50,000 accounts (a trial costs about one fit; the CLI on
        100,000 accounts stays within about twice a k-means process). An
        int runs that many; ``False`` none. Deterministic: the trials depend
        on the plan only.

    Examples
    --------
    >>> grid = pd.DataFrame({"latitude": np.repeat([40.0, 40.0, 41.0, 41.0], 5) + np.tile(np.arange(5) * 0.01, 4),
    ...                      "longitude": np.repeat([-100.0, -99.0, -100.0, -99.0], 5),
    ...                      "workload": 1.0})
    >>> model = BalancedTerritories(n_territories=4, random_state=0).fit(grid)
    >>> sorted(pd.Series(model.labels_).value_counts().tolist())
    [5, 5, 5, 5]
    >>> model.report_.max_deviation
    {'workload': 0.0}
    """

    _method = "balanced"

    def __init__(self, n_territories=None, *, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE, distance=None,
                 current_col=None, lock_col=None, locked_territories=None, n_candidates=N_CANDIDATES, max_iter=40,
                 random_state=None, progress=False, exact_polish="auto", split_merge="auto"):
        self.n_territories = n_territories
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.distance = distance
        self.current_col = current_col
        self.lock_col = lock_col
        self.locked_territories = locked_territories
        self.n_candidates = n_candidates
        self.max_iter = max_iter
        self.random_state = random_state
        self.progress = progress
        self.exact_polish = exact_polish
        self.split_merge = split_merge

    def fit(self, accounts, y=None):
        """Align ``accounts`` (DataFrame with latitude, longitude and the metrics); return self."""
        start = time.perf_counter()
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        polish_rounds = self._polish_rounds(len(accounts))
        trials = self._split_merge_trials(len(accounts))
        if self.distance is not None and not callable(self.distance):
            raise InputError("BalancedTerritories takes distance= as a callable (centres move); a precomputed "
                             "matrix needs fixed sites: use RepAnchoredTerritories")
        shares = metric_shares(accounts, balance_on)
        weight = shares.mean(axis=1)
        dist = Distance(self.distance, accounts[LATITUDE], accounts[LONGITUDE])
        xyz = dist.xyz
        current = None
        if self.current_col is not None:
            ids, current, fixed, frozen = current_setup(accounts, self.current_col, self.lock_col,
                                                        self.locked_territories, self.n_territories)
            n_t = len(ids)
            centres = unit_centres(xyz, current, weight, n_t)
        else:
            if self.locked_territories:
                raise InputError("locked_territories needs current_col= (the current territory of each account)")
            n_t = check_n_territories(self.n_territories, len(accounts))
            ids = territory_ids(n_t)
            fixed = np.full(len(accounts), -1)
            frozen = np.zeros(n_t, dtype=bool)
            centres = None
        targets = np.full(n_t, 1.0 / n_t)
        with progress_bar(self.progress, self.max_iter, "balancing") as bar:
            centres, prices, n_iter = self._find_centres(xyz, weight, fixed, frozen, targets, tolerance, centres, bar)
        labels, centres, rounds, within = self._finish(dist, centres, prices, shares, fixed, frozen, targets,
                                                       tolerance, polish_rounds)
        if not (polish_rounds and current is None and within and n_t >= 3):
            trials = 0
        for trial in range(trials):
            # Break the fixed point of assignment and re-centring: one centre moves from the territory that is
            # cheapest to share out among its neighbours into the most spread-out one, and the balanced
            # assignment and the polish run again from there; the plan is kept only when more compact.
            start_centres = split_merge_centres(dist, weight, labels, n_t, trial)
            if start_centres is None:
                continue
            # The first fit's prices warm-start the assignment (measured on 20,000 x 40: 118.7 km at the 3rd
            # trial; from zero prices the best, 118.9 km, came at the 9th).
            new, new_centres, r, ok = self._finish(dist, start_centres, prices, shares, fixed, frozen, targets,
                                                   tolerance, polish_rounds)
            rounds += r
            if ok and _compactness(dist, new, new_centres, weight) < _compactness(dist, labels, centres, weight):
                labels, centres = new, new_centres
        return self._set_results(
            accounts, labels, ids, centres, balance_on=balance_on, tolerance=tolerance,
            current=None if current is None else accounts[self.current_col].astype(str).to_numpy(),
            n_iter=n_iter + rounds, converged=within, seconds=time.perf_counter() - start,
            distance=self.distance)

    def _finish(self, dist, centres, prices, shares, fixed, frozen, targets, tolerance, polish_rounds):
        """From centres and cell prices: the per-account assignment, the repair into the tolerance, the tidy and
        the exact polish. Returns ``(labels, centres, iterations, within)``."""
        xyz, weight, n_t = dist.xyz, shares.mean(axis=1), len(targets)
        labels, prices, cand, cost, n_iter = self._assign(dist, centres, prices, shares, fixed, frozen, targets,
                                                          tolerance)
        mix = _balance.metric_mix(shares)

        def own_cost(rows, territories):
            return dist.cost(rows, territories, centres) * _balance.price_factors(prices, mix, rows, territories)

        cand_cost = cost * _balance.price_factors(prices, mix, np.arange(len(cand))[:, None], cand)
        labels, rounds, within = repair(labels, shares, targets, tolerance, cand, cand_cost, own_cost,
                                        fixed, frozen, aim=0.5)
        centres = unit_centres(xyz, labels, weight, n_t, previous=centres)
        if within:
            labels, r = polish(dist, labels, shares, targets, tolerance, centres, fixed, frozen, self.n_candidates)
            rounds += r
            centres = unit_centres(xyz, labels, weight, n_t, previous=centres)
            if polish_rounds and not frozen.any():
                labels, centres, r = polish_alignment(dist, shares, labels, targets, tolerance, fixed=fixed,
                                                      max_rounds=polish_rounds)
                rounds += r
        return labels, centres, n_iter + rounds, within

    def _split_merge_trials(self, n_accounts):
        """Split-and-merge trials ``split_merge`` asks for on ``n_accounts`` accounts."""
        value = self.split_merge
        if isinstance(value, str) and value == "auto":
            return split_merge_trials(n_accounts, 3)  # fewer territories: none (fit)
        if isinstance(value, (bool, np.bool_)):
            if value:
                raise InputError("split_merge takes 'auto', False or a number of trials (e.g. 8), got True")
            return 0
        if isinstance(value, (int, np.integer)) and value >= 0:
            return int(value)
        raise InputError(f"split_merge must be 'auto', False or a whole number of trials >= 0, got {value!r}")

    def _polish_rounds(self, n_accounts):
        """Rounds of exact polish ``exact_polish`` asks for on ``n_accounts`` (0: none)."""
        if isinstance(self.exact_polish, str) and self.exact_polish == "auto":
            return default_rounds(n_accounts)
        if isinstance(self.exact_polish, (bool, np.bool_)):
            return MAX_ROUNDS if self.exact_polish else 0
        raise InputError(f"exact_polish must be 'auto', True or False, got {self.exact_polish!r}")

    def _find_centres(self, xyz, weight, fixed, frozen, targets, tolerance, centres, bar):
        """Price/Lloyd iterations on grid cells of the free accounts."""
        n_t = len(targets)
        free = fixed < 0
        fixed_load = np.bincount(fixed[~free], weights=weight[~free], minlength=n_t)
        fixed_sum = np.stack([np.bincount(fixed[~free], weights=xyz[~free, a] * weight[~free], minlength=n_t)
                              for a in range(3)], axis=1)
        free_targets = np.maximum(targets - fixed_load, 1e-9)
        rng = check_random_state(self.random_state)
        cell_xyz, cell_w = _balance.aggregate_points(xyz[free], weight[free],
                                                     max(CELLS_PER_TERRITORY * n_t, MIN_CELLS), rng)
        if centres is None:
            groups = _balance.bisection_labels(cell_xyz, cell_w, n_t)
            centres = unit_centres(cell_xyz, groups, cell_w, n_t)
        prices = np.zeros(n_t)
        n_iter = 0
        cells = Distance(None, *xyz_to_latlon(cell_xyz))
        rows = np.arange(len(cell_xyz))[:, None]
        for iteration in range(self.max_iter):
            # Damped centres move little per round: the nearest-territory lists are refreshed every
            # third round (the tree query is most of the cost), the costs every round.
            if iteration % 3 == 0:
                cand, cost = cells.candidates(centres, self.n_candidates, allowed=~frozen)
            else:
                cost = cells.cost(rows, cand, centres)
            labels, prices, inner, converged = _balance.price_labels(
                cand, cost, cell_w, free_targets, tolerance * 0.5, prices=prices, max_iter=5, bar=bar,
                active=~frozen)
            n_iter += inner
            sums = fixed_sum + np.stack([np.bincount(labels, weights=cell_xyz[:, a] * cell_w, minlength=n_t)
                                         for a in range(3)], axis=1)
            norm = np.linalg.norm(sums, axis=1, keepdims=True)
            moved = np.where((norm > 1e-12) & ~frozen[:, None], sums / np.maximum(norm, 1e-12), centres)
            # Damped Lloyd step: prices and centres settle together instead of chasing each other.
            moved = centres + 0.5 * (moved - centres)
            moved /= np.linalg.norm(moved, axis=1, keepdims=True)
            shift = float(np.linalg.norm(moved - centres, axis=1).max())
            centres = moved
            bar.update(1)
            if converged and shift < 1e-3:
                break
        return centres, prices, n_iter

    def _assign(self, dist, centres, prices, shares, fixed, frozen, targets, tolerance):
        """Per-account price assignment (a price per metric), warm-started from the cell prices."""
        cand, cost = dist.candidates(centres, self.n_candidates, allowed=~frozen)
        if dist.kind != "chord":
            prices = np.zeros(len(targets))
        labels, prices, n_iter, _ = _balance.price_labels_by_metric(
            cand, cost, shares, targets, tolerance * 0.5, prices=prices, max_iter=60, fixed=fixed,
            active=~frozen)
        return labels, prices, cand, cost, n_iter
