"""Contiguous territories: unions of whole blocks (counties, ZIP areas), each connected, balanced.

The core is :func:`workbench.align._partition.partition` on the block graph;
:class:`ContiguousTerritories` maps accounts onto blocks, checks what is
feasible, and reports what it measured.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from workbench.align import _blocks
from workbench.align._contiguous_notes import giant_block_notes, moved_share_lower_bound, movement_notes
from workbench.align._partition import feasible_deviation, is_contiguous, partition
from workbench.align._search_state import WorkMeter
from workbench.align.contiguous_search import DEFAULT_MAX_SECONDS, improve_partition, rebalance, search_clock
from workbench.align.dispersion import OBJECTIVES, dispersion_summary, objective_points
from workbench.align.balanced import current_setup
from workbench.align.base import (
    TerritoryEstimator, balance_columns, check_accounts, check_tolerance, metric_shares, progress_bar,
    territory_ids, unit_centres,
)
from workbench.errors import InfeasibleError, InputError
from workbench.schema import COUNTY_FIPS, DEFAULT_TOLERANCE, TERRITORY_ID, WORKLOAD


#: Balancing rounds of a fresh start before the improvement phase's repair stage takes over.
_ROUNDS_BEFORE_REPAIR = 100
#: Feasibility before speed: while every start is outside the tolerance, restarts (each with its repair)
#: go on for up to this many times the phase's seconds (on a loaded machine the phase's own share buys too
#: few repair steps, and a fit outside the tolerance is worse than a slow one).
_LAST_REPAIR_PER_PHASE = 3.0
#: On block graphs larger than this (ZIP areas), balancing from the current plan is time-aware: it runs
#: in chunks of ``_CHUNK_ROUNDS`` rounds (each round there costs a fraction of a second) and stops after
#: ``_LARGE_BALANCE_PER_PHASE`` times the phase's seconds ("auto": 42 s on ZIP areas), with a warning.
_LARGE_GRAPH = 10_000
_CHUNK_ROUNDS = 25
_LARGE_BALANCE_PER_PHASE = 7.0


class ContiguousTerritories(TerritoryEstimator):
    """Territories made of whole blocks, each connected, balanced within a tolerance where feasible.

    Blocks (counties, ZIP areas, tracts: any polygons) are the units; every
    territory is a connected set of them under queen adjacency (touching
    edges or corners; water islands are bridged to their nearest block, see
    :func:`workbench.geo.block_adjacency`). Blocks without accounts are
    assigned too, so territories have no holes; those more than one border
    from any account (regional accounts on a national layer) are left out
    of the search and join a neighbour afterwards
    (:func:`workbench.align._blocks.near_accounts`).

    How: a recursive bisection grows each half through the block graph
    along its longest axis until it holds its share of the weight; pieces
    cut off are given to an adjacent territory; then boundary blocks move
    from heavier to lighter neighbours (never disconnecting the donor, never
    pushing another balanced metric out of tolerance, nearest centre first)
    until every territory is within the tolerance; when single moves stall
    (lumpy blocks such as big-city counties), two boundary blocks are
    exchanged, or two adjacent territories are merged and re-split along a
    random spanning tree (GerryChain's ReCom step), and up to ``n_init``
    fresh starts are tried; within the tolerance, blocks move to a nearer
    adjacent centre to tidy the shapes. Finally the improvement phase
    (:func:`workbench.align.contiguous_search.improve_partition`) lowers the
    dispersion (``objective``) for up to ``max_seconds`` by exact-gain block
    moves and swaps, merge-and-re-split of neighbouring territories and
    strategic oscillation, keeping every territory connected and no metric
    further from the target than the tolerance (or than it was); it never
    returns a plan worse than the feasible one it starts from.
    With ``current_col`` the search starts from today's territories (each
    block in the territory most of its workload is in) and moves only what
    is needed, preferring moves back to a block's current territory; the
    improvement phase then runs only when ``move_penalty`` is given.

    Parameters
    ----------
    n_territories : int, optional
        Number of territories; required unless ``current_col`` is given
        (then it must be None or equal to the number of current territories).
    balance_on : str or sequence of str, default ("workload",)
        Metric columns balanced at once.
    tolerance : float, default 0.05
        Largest allowed deviation from the mean load, as a share.
    block_col : str, default "county_fips"
        Accounts' column holding their block id.
    random_state : int, optional
        Seeds the restarts (see ``n_init``); the first attempt is
        deterministic, so a plan found on it does not depend on the seed.
    lock_col : str, optional
        Bool column of locked accounts: their blocks keep the current
        territory (needs ``current_col``).
    current_col : str, optional
        Current territory per account: ids are kept, movement is reported.
    locked_territories : sequence of str, optional
        Current territories left untouched (needs ``current_col``).
    adjacency : networkx.Graph, optional
        Prebuilt block graph (nodes are block ids); default queen adjacency
        of ``blocks``.
    max_iter : int, default 2000
        Rounds of the local search.
    n_init : int, default 4
        Attempts from scratch (without ``current_col``): when the local
        search stalls outside the tolerance (lumpy blocks), it restarts from
        bisection cuts turned at random, up to ``n_init`` attempts in all,
        and keeps the best.
    strict : bool, default False
        Raise :class:`~workbench.errors.InfeasibleError` when a single block
        exceeds the maximum load, instead of returning the best plan with a
        :class:`~workbench.align.report.ToleranceWarning`.
    progress : bool, default False
        Show a tqdm progress bar.
    objective : {"weighted", "median"}, default "weighted"
        Dispersion the improvement phase lowers: ``"weighted"``, the
        workload-weighted mean distance of blocks to their territory's
        centre (what ``report_.compactness_km`` measures, on accounts);
        ``"median"``, the districting literature's unweighted sum of the
        distances of the blocks to their territory's median block. Both are
        reported in ``report_.dispersion`` whichever is chosen.
    max_seconds : float, None or "auto", default "auto"
        Budget of the improvement phase, in nominal seconds of
        deterministic work: node moves, rounds and candidates priced,
        counted and priced by a cost model fitted to CPU time (about CPU
        seconds of the fit's thread on a 2-core CI machine; see
        :class:`~workbench.align._search_state.WorkMeter`), so a busy or
        slow machine makes the fit take longer but neither cuts its search
        short nor changes the plan (0 skips it; None: until it converges;
        "auto": 3 s, or one second per 500 blocks up to 6 s on bigger
        graphs). Determinism: a ``random_state`` gives the same plan on any
        machine at any load, under a budget too; only a machine more than
        twice as slow as the cost model's is cut by the CPU clock at twice
        the budget (``report_.dispersion["search"]["stopped"]`` is then
        ``"clock"``, and the plan may differ between runs). Feasibility
        comes before speed: while every fresh start is outside the
        tolerance, restarts (each repaired) go on until their repairs have
        done three times these seconds of work (with None: up to ``n_init``
        attempts, each repair ending by its patience or a work count). On
        block graphs of more than 10,000 blocks (ZIP areas) it also bounds
        the balancing from ``current_col``, by the CPU clock: that stops
        after seven times these seconds (None: until done) with a warning
        giving the tolerance the plan meets.
    move_penalty : float, optional
        With ``current_col``: run the improvement phase too, a block that
        leaves its current territory costing as much as ``move_penalty`` km
        more distance for its weight. None (default): no phase from current.

    Attributes
    ----------
    labels_ : numpy.ndarray of str
        Territory of every account row.
    block_labels_ : pandas.Series
        Territory of every block (index block id).
    centres_ : pandas.DataFrame
        Index ``territory_id``: latitude, longitude.
    adjacency_ : networkx.Graph
        The block graph used (bridges have ``bridge=True``).
    report_ : AlignmentReport
        Balance, compactness, contiguity (measured on ``adjacency_``), movement.

    Examples
    --------
    A 4 x 4 grid of unit squares, one account of equal workload in each:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = [(x, y) for y in range(4) for x in range(4)]
    >>> blocks = gpd.GeoDataFrame({"block_id": [f"{x}{y}" for x, y in cells]},
    ...                           geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"account_id": blocks["block_id"], "block": blocks["block_id"],
    ...                          "latitude": [y + 0.5 for _, y in cells], "longitude": [x + 0.5 for x, _ in cells],
    ...                          "workload": 1.0})
    >>> model = ContiguousTerritories(n_territories=4, block_col="block").fit(accounts, blocks=blocks)
    >>> model.report_.contiguous, model.report_.max_deviation
    (True, {'workload': 0.0})
    >>> model.block_labels_.value_counts().tolist()
    [4, 4, 4, 4]
    """

    _method = "contiguous"

    def __init__(self, n_territories=None, *, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE,
                 block_col=COUNTY_FIPS, random_state=None, lock_col=None, current_col=None,
                 locked_territories=(), adjacency=None, max_iter=2000, n_init=4, strict=False, progress=False,
                 objective="weighted", max_seconds="auto", move_penalty=None):
        self.n_territories = n_territories
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.block_col = block_col
        self.random_state = random_state
        self.lock_col = lock_col
        self.current_col = current_col
        self.locked_territories = locked_territories
        self.adjacency = adjacency
        self.max_iter = max_iter
        self.n_init = n_init
        self.strict = strict
        self.progress = progress
        self.objective = objective
        self.max_seconds = max_seconds
        self.move_penalty = move_penalty

    def fit(self, accounts, y=None, *, blocks=None):
        """Align ``accounts`` into contiguous territories of whole ``blocks``; return self.

        Parameters
        ----------
        accounts : pandas.DataFrame
            Standard account columns, the balanced metrics and ``block_col``.
        y : None
            Ignored (scikit-learn's place for a target).
        blocks : geopandas.GeoDataFrame, optional
            Block polygons with ``block_id`` (or ``block_col``) and geometry,
            e.g. from :func:`workbench.io.load_blocks`. Optional when
            ``adjacency`` is given.
        """
        start = time.perf_counter()
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        full, acc_block, acc_xyz = _blocks.accounts_on_blocks(accounts, blocks, self.adjacency, self.block_col)
        bg, acc_block, kept = _blocks.near_accounts(full, acc_block)
        n_blocks = len(bg.ids)
        shares = metric_shares(accounts, balance_on)

        setup = self._territories(accounts, n_blocks)
        ids, current_idx, fixed_acc, frozen = setup
        k = len(ids)
        weights = np.zeros((n_blocks, len(balance_on)))
        np.add.at(weights, acc_block, shares * k)
        notes = list(bg.notes)
        notes += giant_block_notes(bg.ids, weights, balance_on, tolerance, k)
        if notes[len(bg.notes):] and self.strict:
            raise InfeasibleError("; ".join(notes[len(bg.notes):]))

        initial = preferred = fixed = None
        frozen_parts = np.flatnonzero(frozen).tolist() if frozen is not None else []
        if current_idx is not None:
            initial, fixed = self._current_blocks(bg, acc_block, current_idx, fixed_acc, shares.mean(axis=1))
            preferred = initial.copy()
            fixed |= np.isin(initial, frozen_parts)
        self._check_search_params()
        self._phase_seconds = self._budget(n_blocks)
        giant = (weights > 1 + tolerance + 1e-12).any(axis=1)
        node_weight, points = objective_points(bg, acc_block, acc_xyz, accounts, self.objective)
        result = self._search(k, bg, weights, tolerance, initial, fixed, frozen_parts, preferred,
                              (points, node_weight, giant))
        search = self._improve(result.labels, bg, weights, points, node_weight, tolerance, fixed, frozen_parts,
                               preferred, giant)
        block_labels = result.labels if search is None else search.labels
        contiguous = is_contiguous(n_blocks, bg.edges, block_labels)
        if self._balance_note is not None:
            notes.append(self._balance_note)
        if not contiguous:
            notes.append("some territories are not connected: locked blocks or locked territories are split "
                         "in the current alignment; unlock them to allow a contiguous plan")
        label_idx = block_labels[acc_block]
        if giant.any():
            loads = np.zeros((k, weights.shape[1]))
            np.add.at(loads, block_labels, weights)
            frozen_mask = np.isin(np.arange(k), frozen_parts)
            rest = feasible_deviation(loads, block_labels, weights, giant, frozen_mask)
            notes.append(f"apart from the territories holding those blocks, the largest deviation from the other "
                         f"territories' own mean is {rest:.1%}")
        if current_idx is not None:
            notes += movement_notes(balance_on[0], shares[:, 0], current_idx, initial[acc_block],
                                     result.repaired[acc_block])
        empty = np.setdiff1d(np.arange(k), label_idx)
        if empty.size:
            notes.append(f"territories {[ids[i] for i in empty[:5]]} hold only blocks without accounts; "
                         "use fewer territories or finer blocks")
        all_labels = _blocks.labels_on_all(full, kept, block_labels)
        self.block_labels_ = pd.Series(np.asarray(ids, dtype=object)[all_labels],
                                       index=pd.Index(full.ids, name="block_id"), name=TERRITORY_ID)
        self.adjacency_ = full.graph
        block_centres = unit_centres(bg.xyz, block_labels, np.ones(n_blocks), k)
        centres = unit_centres(acc_xyz, label_idx, shares.mean(axis=1), k, previous=block_centres)
        current = lower_bound = None
        if current_idx is not None:
            current = accounts[self.current_col].astype(str).to_numpy()
            lower_bound = moved_share_lower_bound(shares[:, 0] * k, current_idx, k, frozen, tolerance)
        self._set_results(
            accounts, label_idx, ids, centres, balance_on=balance_on, tolerance=tolerance, current=current,
            lower_bound_share=lower_bound, n_iter=result.n_iter, converged=result.converged,
            seconds=time.perf_counter() - start, contiguous=contiguous, extra_warnings=notes)
        kept_blocks = None if blocks is None else blocks.iloc[kept]
        summary, per_territory = dispersion_summary(bg, block_labels, ids, kept_blocks, self.objective, search,
                                                    self.report_.compactness_km)
        table = self.report_.territories.join(per_territory)
        self.report_ = dataclasses.replace(self.report_, territories=table, dispersion=summary,
                                           seconds=time.perf_counter() - start)
        return self

    def _budget(self, n_blocks: int, max_seconds=None):
        """The improvement phase's seconds: ``max_seconds``, with "auto" resolved for ``n_blocks``."""
        max_seconds = self.max_seconds if max_seconds is None else max_seconds
        if isinstance(max_seconds, str):
            return float(min(2 * DEFAULT_MAX_SECONDS, max(DEFAULT_MAX_SECONDS, n_blocks / 500)))
        return None if max_seconds is None else float(max_seconds)

    def _check_search_params(self):
        if self.objective not in OBJECTIVES:
            raise InputError(f"objective must be one of {', '.join(map(repr, OBJECTIVES))}, got {self.objective!r}")
        budget = self.max_seconds
        if budget is not None and not (isinstance(budget, str) and budget == "auto") and (
                isinstance(budget, bool) or not isinstance(budget, (int, float, np.number)) or not budget >= 0):
            raise InputError(f"max_seconds must be a number of seconds >= 0, 'auto' or None (until the search "
                             f"converges), got {budget!r}")
        penalty = self.move_penalty
        if penalty is not None and (isinstance(penalty, bool) or not isinstance(penalty, (int, float, np.number))
                                    or not penalty >= 0):
            raise InputError(f"move_penalty must be a distance in km >= 0 (or None), got {penalty!r}")
        if penalty is not None and self.current_col is None:
            raise InputError("move_penalty needs current_col= (the current territory of each account): it prices "
                             "moving a block away from its current territory")

    def _improve(self, labels, bg, weights, points, node_weight, tolerance, fixed, frozen_parts, preferred, giant):
        """The improvement phase (see :mod:`workbench.align.contiguous_search`); None when it does not run."""
        if self._phase_seconds == 0 or (preferred is not None and self.move_penalty is None):
            return None
        penalty = 0.0 if self.move_penalty is None else float(self.move_penalty) * node_weight
        budget = self._phase_seconds
        if budget is not None:  # restarts and repairs of the start count against the phase's budget
            budget = max(float(budget) - getattr(self, "_repair_seconds", 0.0), float(budget) / 4)
        k = len(np.unique(labels))
        frozen = np.isin(np.arange(k), frozen_parts)
        targets = None
        if giant.any():
            # Blocks heavier than a territory: the other territories share what is left, so their target
            # is their own mean (as feasible_deviation measures them); the giants' territories may only shed.
            loads = np.zeros((k, weights.shape[1]))
            np.add.at(loads, labels, weights)
            giant_load = np.zeros_like(loads)
            np.add.at(giant_load, labels[giant], weights[giant])
            rest = ~frozen & ~np.isin(np.arange(k), labels[giant])
            if rest.any():
                rest_mean = (loads[~frozen].sum(axis=0) - giant_load[~frozen].sum(axis=0)) / rest.sum()
                targets = np.ones_like(loads)
                targets[rest] = np.where(rest_mean > 0, rest_mean, 1.0)
        with progress_bar(self.progress, None, "contiguous: dispersion") as bar:
            search = improve_partition(
                labels, bg.edges, weights, points, tolerance=tolerance, objective=self.objective,
                node_weight=node_weight, targets=targets, fixed=fixed, frozen_parts=frozen_parts,
                reference=preferred, move_penalty=penalty, max_seconds=budget, random_state=self.random_state,
                progress=bar)

        def deviation(lab):
            loads = np.zeros((k, weights.shape[1]))
            np.add.at(loads, lab, weights)
            return feasible_deviation(loads, lab, weights, giant, frozen)
        # Giant blocks measure the other territories against their own mean: keep that no worse too.
        if giant.any() and deviation(search.labels) > max(tolerance, deviation(labels)) + 1e-12:
            return None
        return search

    def _search(self, k, bg, weights, tolerance, initial, fixed, frozen_parts, preferred, objective_data):
        """Partition the block graph; from scratch, restart with turned cuts until within tolerance.

        With the improvement phase on, a start outside the tolerance is first
        repaired by its repair stage (:func:`~workbench.align.contiguous_search.rebalance`)
        before another restart is tried.
        """
        restarts = 1 if initial is not None else self.n_init
        if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
            raise InputError(f"n_init must be a positive int, got {self.n_init!r}")
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        rng = np.random.default_rng(seed)
        best, rounds = None, 0
        repairing = initial is None and self._phase_seconds != 0
        giant = objective_data[2]
        # The repair stage does better than long balancing rounds on lumpy multi-metric data.
        max_iter = min(self.max_iter, _ROUNDS_BEFORE_REPAIR) if repairing else self.max_iter
        self._repair_seconds = 0.0
        self._balance_note = None
        if initial is not None and len(bg.ids) > _LARGE_GRAPH and self._phase_seconds is not None:
            return self._balance_in_chunks(k, bg, weights, tolerance, initial, fixed, frozen_parts, preferred, seed)
        # Repairs and restarts are budgeted in nominal seconds of work on one meter (deterministic; see
        # WorkMeter), with its safety stop by the CPU clock at the restarts' limit.
        limit = None if self._phase_seconds is None else _LAST_REPAIR_PER_PHASE * self._phase_seconds
        meter = WorkMeter(math.inf if limit is None else limit)
        with progress_bar(self.progress, max_iter * restarts, "contiguous") as bar:
            for attempt in range(restarts):
                budget = self._repair_budget()
                if repairing and attempt > 0 and budget is not None and budget <= 0:
                    break  # still outside the tolerance after the restarts' limit: keep the best so far
                result = partition(k, bg.edges, weights, bg.xyz, tolerance=tolerance, initial=initial, fixed=fixed,
                                   frozen_parts=frozen_parts, max_iter=max_iter, preferred=preferred,
                                   polish=initial is None and (not repairing or giant.any()), progress=bar,
                                   rng=None if attempt == 0 else rng,
                                   random_state=seed + attempt)
                rounds += result.n_iter
                if not result.converged and repairing:
                    self._repair(result, k, bg, weights, tolerance, fixed, frozen_parts, objective_data, attempt,
                                 meter=meter)
                    self._repair_seconds = meter.seconds()
                if best is None or result.deviation < best.deviation - 1e-12:
                    best = result
                if best.converged:
                    break
        best.n_iter = rounds
        return best

    def _balance_in_chunks(self, k, bg, weights, tolerance, initial, fixed, frozen_parts, preferred, seed):
        """Balance from the current plan on a large graph, chunk by chunk, until within tolerance or out of time.

        Each chunk resumes from the last one's labels; the time limit is
        ``_LARGE_BALANCE_PER_PHASE`` times the phase's seconds. A stop by
        time, or stalled outside the tolerance, leaves a note for the warnings (``self._balance_note``).
        """
        # (max_seconds=0 skips the phase, not the balancing: the limit is then the "auto" one)
        limit = _LARGE_BALANCE_PER_PHASE * (self._phase_seconds or self._budget(len(bg.ids), "auto"))
        began = search_clock()
        labels, rounds, first = initial, 0, None
        with progress_bar(self.progress, self.max_iter, "contiguous") as bar:
            while True:
                chunk = min(_CHUNK_ROUNDS, self.max_iter - rounds)
                result = partition(k, bg.edges, weights, bg.xyz, tolerance=tolerance, initial=labels, fixed=fixed,
                                   frozen_parts=frozen_parts, max_iter=chunk, preferred=preferred, polish=False,
                                   progress=bar, random_state=seed + rounds)
                first = first if first is not None else result.repaired
                rounds += result.n_iter
                labels = result.labels
                spent = search_clock() - began
                if not result.converged and result.n_iter < chunk:
                    self._balance_note = (
                        f"balancing from the current plan stalled after {spent:,.0f} s ({rounds:,} "
                        f"round{'' if rounds == 1 else 's'}) on {len(bg.ids):,} blocks at {result.deviation:.1%} "
                        f"from the mean (no move, exchange, re-split or flow of boundary blocks lowers it): a tolerance "
                        f"of {np.ceil(result.deviation * 1000) / 10:.1f}% is met; for {tolerance:.0%} use coarser "
                        f"blocks or a fresh fit (without current_col)")
                if result.converged or rounds >= self.max_iter or result.n_iter < chunk:
                    break
                if spent >= limit:
                    self._balance_note = (
                        f"balancing from the current plan stopped after {spent:,.0f} s ({rounds:,} "
                        f"round{'' if rounds == 1 else 's'}) on "
                        f"{len(bg.ids):,} blocks at {result.deviation:.1%} from the mean: a tolerance of "
                        f"{np.ceil(result.deviation * 1000) / 10:.1f}% is met; for {tolerance:.0%} give it more "
                        f"time (max_seconds=None balances until done, max_seconds=S allows "
                        f"{_LARGE_BALANCE_PER_PHASE:g} x S seconds) or use coarser blocks")
                    break
        result.repaired, result.n_iter = first, rounds
        return result

    def _repair_budget(self) -> float | None:
        """Seconds the next repair of a start outside the tolerance may take: the one budget rule.

        The repairs of starts outside the tolerance may take ``_LAST_REPAIR_PER_PHASE``
        times the phase's seconds in all; each repair gets half the phase's seconds, or what
        is left of that limit. Seconds are nominal seconds of work on one
        :class:`~workbench.align._search_state.WorkMeter` (a count, so the same seed gives the
        same restarts on any machine). 0: no more restarts. None (with
        ``max_seconds=None``): no clock; each repair stops by its patience or its work count
        (:func:`~workbench.align.contiguous_search.rebalance`) and the restarts by ``n_init``,
        so the plan is the same on any machine at any load.
        """
        if self._phase_seconds is None:
            return None
        phase = self._phase_seconds
        return max(min(phase / 2, _LAST_REPAIR_PER_PHASE * phase - self._repair_seconds), 0.0)

    def _repair(self, result, k, bg, weights, tolerance, fixed, frozen_parts, objective_data, attempt, budget=None,
                meter=None):
        """Try the improvement phase's repair stage on a start outside the tolerance (updates ``result``)."""
        points, node_weight, giant = objective_data
        if budget is None:
            budget = self._repair_budget()
        labels = rebalance(result.labels, bg.edges, weights, points, tolerance=tolerance, objective=self.objective,
                           node_weight=node_weight, fixed=fixed, frozen_parts=frozen_parts, max_seconds=budget,
                           random_state=attempt, meter=meter)
        loads = np.zeros((k, weights.shape[1]))
        np.add.at(loads, labels, weights)
        deviation = feasible_deviation(loads, labels, weights, giant, np.isin(np.arange(k), frozen_parts))
        if deviation < result.deviation - 1e-12:
            result.labels, result.deviation = labels, deviation
            result.converged = bool(deviation <= tolerance + 1e-12)

    def _territories(self, accounts, n_blocks):
        """Territory ids and, with ``current_col``, current index, pinned accounts and frozen territories."""
        if self.current_col is not None:
            ids, current_idx, fixed_acc, frozen = current_setup(
                accounts, self.current_col, self.lock_col, self.locked_territories, self.n_territories)
        else:
            if self.locked_territories:
                raise InputError("locked_territories needs current_col= (the current territory of each account)")
            if self.n_territories is None:
                raise InputError("n_territories is required unless current_col= gives the current territories")
            if isinstance(self.n_territories, bool) or not isinstance(self.n_territories, (int, np.integer)):
                raise TypeError(f"n_territories must be an int, got {self.n_territories!r}")
            if self.n_territories < 1:
                raise InputError(f"n_territories must be at least 1, got {self.n_territories}")
            ids, current_idx, fixed_acc, frozen = territory_ids(int(self.n_territories)), None, None, None
        if len(ids) > n_blocks:
            raise InputError(f"n_territories={len(ids)} is more than the {n_blocks} blocks; every territory needs "
                             "at least one whole block: ask for fewer territories or use finer blocks")
        return ids, current_idx, fixed_acc, frozen

    def _current_blocks(self, bg, acc_block, current_idx, fixed_acc, account_weight):
        """Starting territory per block (where most of its load is today) and blocks that must stay."""
        n = len(bg.ids)
        k = len(np.unique(current_idx))
        load = account_weight + 1e-9 / len(account_weight)  # accounts of zero weight still vote
        votes = pd.DataFrame({"block": acc_block, "territory": current_idx, "load": load})
        table = votes.groupby(["block", "territory"])["load"].sum().reset_index()
        table = table.sort_values(["block", "load", "territory"], ascending=[True, False, True], kind="stable")
        best = table.drop_duplicates("block")
        initial = np.full(n, -1)
        initial[best["block"].to_numpy()] = best["territory"].to_numpy()
        # A territory that leads in no block keeps the block where most of its load is.
        lost = np.setdiff1d(np.arange(k), initial)
        if lost.size:
            own = table[table["territory"].isin(lost)].sort_values(["territory", "load"], ascending=[True, False])
            for territory, block in own.drop_duplicates("territory")[["territory", "block"]].to_numpy():
                if (initial == initial[block]).sum() > 1:
                    initial[block] = territory
        initial = _blocks.fill_blocks(initial, bg.edges)
        fixed = np.zeros(n, dtype=bool)
        pinned = fixed_acc >= 0
        if pinned.any():
            pins = pd.DataFrame({"block": acc_block[pinned], "territory": fixed_acc[pinned]}).drop_duplicates()
            clash = pins["block"].duplicated(keep=False)
            if clash.any():
                blocks = pd.unique(pins.loc[clash, "block"])[:5]
                raise InputError(f"locked accounts in blocks {[bg.ids[b] for b in blocks]} belong to different "
                                 f"current territories; a block-based alignment keeps each block whole: unlock "
                                 f"some of them (column {self.lock_col!r}) or use finer blocks")
            initial[pins["block"].to_numpy()] = pins["territory"].to_numpy()
            fixed[pins["block"].to_numpy()] = True
        return initial, fixed

    def predict(self, new_accounts, distance=None):
        """Territory of new accounts: the territory of their block (``block_col``).

        Raises InputError naming accounts whose block was not in the fit.
        """
        check_is_fitted(self, "block_labels_")
        position = _blocks.account_blocks(new_accounts, self.block_col, self.block_labels_.index.to_numpy())
        return self.block_labels_.to_numpy()[position]
