"""Contiguous realignment: today's territories of whole blocks back within tolerance, each still connected.

:class:`ContiguousRealignment` is :class:`~workbench.align.realign.Realignment`
for territories made of blocks (counties, ZIP areas). Blocks start in the
territory most of their workload is in today; then (block moves in
:mod:`workbench.align._block_moves`):

1. bordering flows (a little inside the tolerance; priced per unit at a
   hop, the lower bound's price, plus the distance it adds) are carried
   out with whole boundary blocks, never splitting a donor, in rounds
   re-computed from the moved plan; blocks of a closing territory go to the
   lightest bordering open one; a piece cut off from its territory goes back;
2. the contiguous search of :mod:`workbench.align.contiguous_search` then
   repairs the bands and lowers the distance to the centres plus
   ``move_penalty_km`` per unit of workload away from today's territory
   (so it takes back moves that are not needed and keeps the rest compact);
   where its repair leaves a territory out of band (lumpy blocks: a
   territory short of load whose neighbours sit at their own lower ends), one
   0/1 program chooses chains of whole-block moves across the territories
   around it (:func:`~workbench.align._block_moves.repair_moves`; on the
   sample at 10% this replaced a general local search that moved 25% of the
   workload for a 0.1% shortfall: 1.84x -> 1.15x the bordering bound; where
   it finds nothing, a block that alone holds a small piece of its territory
   may move with that piece, to finish the repair), then
   single moves (home first) and the contiguous local search of
   :func:`workbench.align._partition.partition` only if still needed, and a
   last search; last, moved blocks go back home
   wherever balance and connectivity allow (:func:`~workbench.align._block_moves.take_back`),
   then one 0/1 program returns more by sending lighter blocks the other way
   (:func:`~workbench.align._block_moves.exchange_home`; on the scattered
   counties benchmark 1.26x -> 1.23x the bordering bound).
   The search runs on iteration budgets (``max_kicks`` perturbations a
   pass, ``patience`` in a row without a better plan, a bounded repair):
   repeatable for a ``random_state``. Balance is aimed at what whole blocks
   allow (:func:`reachable_targets`): once a block too heavy for any
   territory is all its territory is over by, that territory counts as
   balanced, and a second pass runs only from a better balanced plan.

Far moves are priced everywhere a block moves: the distance it adds to the
receiving territory's rep's home (with ``reps``; else its centre) is part
of the bordering flows' prices (:func:`~workbench.align._block_moves.flow_prices`),
of the single moves and of the search's move penalty; a block that would end
beyond the receiving territory's reach (farther than the approval review's
far-move distance, :data:`workbench.schema.FAR_FROM_HOME_KM`, and than any
block it holds today) is not carried by a flow and costs :data:`FAR_PRICE`
times the move penalty more elsewhere (in the flows' prices too, with reps),
so it goes to a far rep only when no nearer option keeps the balance.

Locked accounts keep their current territory as account-level exceptions
while their block may move; their load counts where they stay: the search
of step 2 and what follows it aim each territory's blocks at its target
less its locked load (a band inside the true one by the locked load times
the tolerance). With a disruption budget only step 1 runs, booking every
move against it.

With a reps file (``fit(..., reps=)``) there is one territory per rep, as
in :class:`~workbench.align.realign.Realignment`: reps without a current
territory are new hires (a new territory grown from the block nearest their
home), current territories no rep serves close, targets follow the reps'
capacities (the report measures deviation from them) and distances are to
the reps' homes.

The report gives both lower bounds; the bordering one uses queen adjacency
of the blocks (two territories border when two of their blocks touch).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from workbench.align import _balance, _blocks, _transfer, bounds as _bounds, headcount
from workbench.align._block_moves import (
    Budget, connect, empty_closed, exchange_home, fit_moves, flow_moves, flow_prices, grow_graph, majority,
    repair_moves, settle, sharing_graph, take_back,
)
from workbench.align._contiguous_notes import giant_block_notes
from workbench.align._partition import is_contiguous, partition
from workbench.align.base import (
    TerritoryEstimator, balance_columns, check_accounts, check_tolerance, lock_mask, metric_shares, unit_centres,
)
from workbench.align.report import ToleranceWarning
from workbench.errors import InputError
from workbench.geo import EARTH_RADIUS_KM
from workbench.schema import (
    CAPACITY_HOURS, COUNTY_FIPS, CURRENT_TERRITORY, DEFAULT_TOLERANCE, FAR_FROM_HOME_KM, TERRITORY_ID, WORKLOAD,
)

#: Share of the tolerance the block flows aim at: whole blocks overshoot their share, so aim inside it.
_INSIDE = 0.9

#: A deviation beyond the band this small is rounding (a territory of one giant block sits on its widened band).
_ROUNDING = 1e-12
#: Rounds of bordering flows carried out with whole blocks.
_ROUNDS = 8
#: The stages a fit's progress bar names, in order (it reads "done" when all are).
_STAGES = ("bounds", "bordering flows", "single moves and connecting", "contiguous search")
#: Default move penalty, as a multiple of the current plan's compactness: a whole block moves at once, so
#: the search prices disruption higher than the account-level realignment does
#: (:data:`workbench.align.realign.PENALTY_SHARE`).
BLOCK_PENALTY_SHARE = 9.0
#: Perturbations of each pass of the contiguous search (its iteration budget): the same plan for the same
#: ``random_state`` on any machine at any load. A CPU-time budget made the plan depend on the machine's speed
#: and load (the scattered counties benchmark moved 1.25x to 1.36x the bound from run to run with 3 s).
SEARCH_KICKS = 60
#: A pass of that search also stops after this many perturbations in a row without a better plan (an
#: iteration count too, so still repeatable): on the sample (3,107 counties x 40) later kicks rarely paid and
#: each costs a local search over the whole map.
SEARCH_PATIENCE = 15
#: Rounds of the search's repair without a less violating plan before it stops (where the bands cannot all
#: be met, e.g. lumpy counties around a giant one; its default, 100 + 10 per territory, took 84 CPU s there
#: for a 2.7% smaller violation than its first round).
REPAIR_PATIENCE = 20
#: What a block moved beyond a territory's reach costs on top of its distance, as a multiple of the move
#: penalty (as much as a second move): far from the rep's home (or the centre) means farther than the approval
#: review's far-move distance (:data:`workbench.schema.FAR_FROM_HOME_KM`) and than any block the territory
#: holds today.
FAR_PRICE = 1.0
#: Regions the repair program (:func:`~workbench.align._block_moves.repair_moves`) may move blocks in after the
#: first search, tried in turn while none brings the plan nearer its bands: the territories within this many
#: borders of those still out of band (on the sample at 10%, 2 borders held no chain of whole counties, 3 did).
REPAIR_HOPS = (2, 3, 5, 8)
#: At most this many programs in all (each one border of blocks deep, so repeated from every better plan).
REPAIR_CALLS = 8
#: Branch-and-bound nodes of each solve of that program (an iteration budget: repeatable). The root node only:
#: its heuristics found the same solutions as 50 nodes on every program of the sample with a hire (6 of 6), at
#: about half the time (HiGHS spends most of it at the root).
REPAIR_NODES = 1
#: The same for the last program, :func:`~workbench.align._block_moves.exchange_home` (3 of 3 the same as 20
#: nodes there).
EXCHANGE_NODES = 1



def _oversized_blocks(block_ids, block_shares, open_targets, balance_on, tolerance) -> list[str]:
    """Blocks whose own load exceeds the largest free territory's maximum: no whole-block plan is within tolerance."""
    if not len(open_targets):
        return []
    largest = float(np.max(open_targets))
    unequal = float(np.ptp(open_targets)) > 1e-12
    return giant_block_notes(np.asarray(block_ids), block_shares / largest, balance_on, tolerance, len(open_targets),
                             target="largest target" if unequal else "mean")

def reachable_targets(labels, block_shares, targets, tolerance, free) -> np.ndarray:
    """Targets ``(territory, metric)`` the balancing aims at: a territory holding a block too heavy for any is widened.

    A block whose own load exceeds the largest free territory's maximum
    (``target * (1 + tolerance)``; :func:`_oversized_blocks` names them)
    keeps its territory over the tolerance whatever the plan. That
    territory's target becomes the block's load ``/ (1 + tolerance)`` on
    that metric, so its band ends at the block's load: the search stops
    balancing once the block is all that is left over (alone, the least
    deviation whole blocks allow), instead of spending its whole repair on
    a violation that data force. Others are ``targets`` as given.

    Examples
    --------
    Block 0 (0.8) is heavier than any territory's maximum (0.5 x 1.1):

    >>> reachable_targets(np.array([0, 1, 1]), np.array([[0.8], [0.1], [0.1]]), np.array([0.5, 0.5]), 0.1,
    ...                   np.array([True, True])).round(3).tolist()
    [[0.727], [0.5]]
    """
    shares = np.asarray(block_shares, dtype=float).reshape(len(labels), -1)
    out = np.broadcast_to(np.asarray(targets, dtype=float).reshape(len(targets), -1),
                          (len(targets), shares.shape[1])).copy()
    if not np.any(free):
        return out
    highest = out[free].max(axis=0) * (1 + tolerance)
    for block in np.flatnonzero((shares > highest + 1e-12).any(axis=1)):
        holder = labels[block]
        if free[holder]:
            out[holder] = np.maximum(out[holder], shares[block] / (1 + tolerance))
    return out


def _excess_over(labels, shares, targets, tolerance, frozen) -> tuple[float, float]:
    """Deviation beyond ``tolerance`` from ``targets`` ``(territory, metric)``: ``(largest, summed)``, live territories.

    Compared as a pair: a plan is better balanced when its worst
    territory is nearer its band, or as near and the others nearer too.
    """
    load = _balance.loads_of(labels, shares, len(targets))
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(targets > 0, np.abs(load / np.where(targets > 0, targets, 1) - 1),
                       np.where(load > 1e-15, np.inf, 0))
    over = np.maximum(dev[~frozen] - tolerance, 0.0)
    return (float(over.max()), float(over.sum())) if over.size else (0.0, 0.0)


class ContiguousRealignment(TerritoryEstimator):
    """Realign territories made of whole blocks: within tolerance, each connected, moving little.

    Parameters
    ----------
    n_territories : int, optional
        Territories wanted; default today's count (less ``close``). New ones
        open where the excess is (ids continue the current scheme).
    close : list of str, optional
        Current territories to close.
    balance_on : str or sequence of str, default ("workload",)
    tolerance : float, default 0.05
    block_col : str, default "county_fips"
    current_col : str, default "current_territory"
    lock_col : str, optional
        Locked accounts keep their current territory (as exceptions to their block).
    locked_territories : sequence of str, optional
        Territories none of whose blocks move in or out.
    adjacency : networkx.Graph, optional
        Prebuilt block graph; default queen adjacency of ``blocks``.
    max_moved_share : float, optional
        Disruption budget (share of the first metric), kept exactly.
    move_penalty_km : float, optional
        Km one unit of moved workload is worth in the search of step 2;
        default nine times the current compactness
        (:data:`BLOCK_PENALTY_SHARE`): moves close to the bordering bound.
    max_kicks : int, default 60
        Perturbations of each pass of that search (:data:`SEARCH_KICKS`): an
        iteration budget, so the same ``random_state`` gives the same plan on
        any machine at any load (about 5-10 s per pass on 3,000 counties x 30
        territories).
    patience : int, default 15
        A pass also stops after this many perturbations in a row without a
        better plan (:data:`SEARCH_PATIENCE`; an iteration count too).
    max_seconds : float or None, default None
        Optional cap on each pass of that search, in nominal seconds of
        deterministic work (about CPU seconds; see
        :class:`~workbench.align._search_state.WorkMeter`): the same seed
        still gives the same plan, unless a machine more than twice as slow
        as the cost model's is cut by the CPU clock.
    max_iter : int, default 2000
        Rounds of the contiguous local search, when it has to finish.
    random_state : int, optional
        Seeds the search's perturbations: the same seed, the same plan.
    progress : bool, default False
        Show a bar (a widget in notebooks) over the fit's stages: bounds,
        bordering flows, single moves and connecting, the contiguous search.
    capacity_col : str, default "capacity_hours"
        With ``reps`` given to ``fit``: targets in proportion to it.

    Examples
    --------
    A 4 x 2 strip of unit squares, today 6 blocks in ``A`` and 2 in ``B``:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = [(x, y) for x in range(4) for y in range(2)]
    >>> blocks = gpd.GeoDataFrame({"block_id": [f"{x}{y}" for x, y in cells]},
    ...                           geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"account_id": blocks["block_id"], "county_fips": blocks["block_id"],
    ...                          "latitude": [y + 0.5 for _, y in cells], "longitude": [x + 0.5 for x, _ in cells],
    ...                          "workload": 1.0, "current_territory": ["A"] * 6 + ["B"] * 2})
    >>> model = ContiguousRealignment().fit(accounts, blocks=blocks)
    >>> model.labels_.tolist(), model.report_.contiguous
    (['A', 'A', 'A', 'A', 'B', 'B', 'B', 'B'], True)
    """

    _method = "contiguous_realignment"

    def __init__(self, n_territories=None, *, close=None, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE,
                 block_col=COUNTY_FIPS, current_col=CURRENT_TERRITORY, lock_col=None, locked_territories=(),
                 adjacency=None, max_moved_share=None, move_penalty_km=None, max_kicks=SEARCH_KICKS,
                 patience=SEARCH_PATIENCE, max_seconds=None, max_iter=2000,
                 random_state=None, progress=False, capacity_col=CAPACITY_HOURS):
        self.n_territories = n_territories
        self.close = close
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.block_col = block_col
        self.current_col = current_col
        self.lock_col = lock_col
        self.locked_territories = locked_territories
        self.adjacency = adjacency
        self.max_moved_share = max_moved_share
        self.move_penalty_km = move_penalty_km
        self.max_kicks = max_kicks
        self.patience = patience
        self.max_seconds = max_seconds
        self.max_iter = max_iter
        self.random_state = random_state
        self.progress = progress
        self.capacity_col = capacity_col

    def fit(self, accounts, y=None, *, blocks=None, reps=None):
        """Realign ``accounts`` (with ``block_col`` and ``current_col``) over ``blocks``; return self.

        Parameters
        ----------
        accounts : pandas.DataFrame
            Latitude, longitude, the balanced metrics, ``block_col`` and ``current_col``.
        y : ignored
        blocks : geopandas.GeoDataFrame
            The blocks (``block_id`` or ``block_col``, geometry).
        reps : pandas.DataFrame, optional
            ``rep_id, latitude, longitude[, territory_id, capacity_hours]``:
            one territory per rep, as in
            :meth:`workbench.align.realign.Realignment.fit`. A rep's
            ``territory_id`` (or its ``rep_id``, when the current territories
            are named by rep ids) is its current territory; reps without one
            are new hires (a new territory from the block nearest their home,
            ids per :func:`workbench.align.headcount.rep_territories`);
            current territories no rep serves close. Targets are in
            proportion to ``capacity_col`` (equal without it), the report's
            deviations are measured against them, and distances are to the
            reps' homes. ``reps_`` is then the reps with the territory each
            serves (new hires' ids filled in), for
            :meth:`workbench.plan.Plan.from_fit`.
        """
        from workbench import progress

        with progress.steps(_STAGES, desc="contiguous realignment", enabled=bool(self.progress)) as bar:
            return self._fit(accounts, blocks, reps, bar)

    def _fit(self, accounts, blocks, reps, bar):
        """:meth:`fit`'s work; ``bar.step()`` marks each of ``_STAGES`` done."""
        start = time.perf_counter()
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        budget = _transfer.check_budget(self.max_moved_share)
        full, acc_block, acc_xyz = _blocks.accounts_on_blocks(accounts, blocks, self.adjacency, self.block_col)
        bg, acc_block, kept = _blocks.near_accounts(full, acc_block)
        n_b = len(bg.ids)
        shares = metric_shares(accounts, balance_on)
        notes = list(bg.notes)

        # Territories today, closures and openings.
        found = np.unique(accounts[self.current_col].astype(str).to_numpy())
        close = headcount.check_close(self.close, found)
        ids = found.astype(object)
        acc_current = pd.Index(found).get_indexer(accounts[self.current_col].astype(str).to_numpy())
        locked_t = [str(t) for t in (self.locked_territories or ())]
        unknown = [t for t in locked_t if t not in set(found)]
        if unknown:
            raise InputError(f"locked_territories {unknown[:5]} are not current territories")
        locked = lock_mask(accounts, self.lock_col)
        weight = shares.mean(axis=1)
        block_w = np.zeros((n_b, shares.shape[1]))
        np.add.at(block_w, acc_block[~locked], shares[~locked])
        block_weight = block_w.mean(axis=1)
        current_b = majority(acc_block, acc_current, weight, n_b, bg.edges)
        n_cur = len(ids)
        frozen = np.isin(ids.astype(str), locked_t)
        load = np.bincount(acc_current, weights=weight, minlength=n_cur)
        adjacency = _bounds.block_territory_graph(bg.edges, current_b, n_cur)
        centres = unit_centres(bg.xyz, current_b, block_weight + 1e-12, n_cur)
        self.reps_ = None
        if reps is None:
            closed, targets, opened, seeds = self._headcount(found, close, frozen, load, adjacency, centres, bg.xyz,
                                                             current_b, tolerance, n_b)
        else:  # one territory per rep: new hires open at their homes, territories without a rep close
            closed, targets, opened, homes, served = headcount.rep_headcount(
                reps, self.capacity_col, found, close, self.n_territories, self.current_col)
            self.reps_ = reps.assign(**{TERRITORY_ID: served})
            centres = np.where(closed[:, None], centres, homes[:n_cur])
            seeds = homes[n_cur:]
        if (closed & frozen).any():
            raise InputError(f"territories {ids[closed & frozen].tolist()[:5]} are locked (locked_territories) and "
                             "cannot close; unlock them or close others")
        _transfer.check_closures_within_budget(budget, shares[:, 0], closed[acc_current], ids[closed].tolist(),
                                               balance_on[0])
        n_open = len(opened)
        labels_b = current_b.copy()
        if n_open > 0:
            ids = np.r_[ids, np.asarray(opened, dtype=object)]
            closed = np.r_[closed, np.zeros(n_open, dtype=bool)]
            frozen = np.r_[frozen, np.zeros(n_open, dtype=bool)]
            centres = np.vstack([centres, seeds])
            hubs = []
            for j, seed in enumerate(seeds):  # the new territory starts as the block at its seed
                free = np.flatnonzero(~frozen[labels_b] & (np.bincount(labels_b, minlength=len(ids))[labels_b] > 1))
                block = free[np.argmin(np.linalg.norm(bg.xyz[free] - seed, axis=1))]
                hubs.append(current_b[block])
                labels_b[block] = n_cur + j
        n_t = len(ids)
        fixed_b = frozen[current_b]
        base = np.zeros((n_t, shares.shape[1]))
        np.add.at(base, acc_current[locked], shares[locked])
        if (locked & closed[acc_current]).any():
            rows = accounts.index[locked & closed[acc_current]][:5].tolist()
            raise InputError(f"locked accounts (rows {rows}) are in closing territories; unlock them "
                             f"(column {self.lock_col!r}) or keep those territories")

        # Bounds: account loads today; territories border when two of their blocks touch or their accounts share
        # a block; a new territory borders the territory its seed block is in and that one's neighbours; the
        # territories around a closing one border each other (they meet where it was).
        adjacency = _bounds.block_territory_graph(bg.edges, labels_b, n_t) | grow_graph(adjacency, n_t)
        adjacency |= sharing_graph(acc_block, acc_current, n_t)
        if n_open > 0:
            adjacency = headcount.opening_adjacency(adjacency, np.arange(n_cur, n_t), hubs)
        if closed.any():
            adjacency = headcount.closing_adjacency(adjacency, closed)
        acc_loads = _balance.loads_of(acc_current, shares, n_t)
        _, low, high = _balance.bounds(targets, shares.shape[1], tolerance)
        low[frozen], high[frozen] = acc_loads[frozen], acc_loads[frozen]
        plain, bordering, _ = _bounds.realignment_bounds(acc_loads, low, high, adjacency)
        notes += _oversized_blocks(bg.ids, block_w, targets[~closed & ~frozen], balance_on, tolerance)
        bar.step()

        def km(rows, territories):
            return EARTH_RADIUS_KM * np.linalg.norm(bg.xyz[rows] - centres[territories], axis=-1)

        penalty = _transfer.check_penalty(self.move_penalty_km)
        if penalty is None:
            penalty = BLOCK_PENALTY_SHARE * float((block_weight * km(np.arange(n_b), current_b)).sum()
                                            / max(block_weight.sum(), 1e-300))
        # A block moved beyond a territory's reach (farther from its rep's home, or centre, than the review's
        # far_km and than any block it holds today) is not carried by a flow and costs an extra
        # FAR_PRICE x penalty in the single moves and the search.
        reach = np.full(n_t, FAR_FROM_HOME_KM)
        np.maximum.at(reach, labels_b, km(np.arange(n_b), labels_b))
        far_price = FAR_PRICE * penalty

        def far(rows, territories):
            return km(rows, territories) > reach[territories]

        def priced_km(rows, territories):
            return km(rows, territories) + far_price * far(rows, territories)

        spend = Budget(accounts_blocks=acc_block[~locked], accounts_current=acc_current[~locked],
                        share=shares[~locked, 0], labels=labels_b, n_b=n_b,
                        budget=None if budget is None else max(budget, float(shares[closed[acc_current], 0].sum())))
        # Bordering flows (a little inside the tolerance, room for lumpy blocks), carried out block by block,
        # recomputed from the moved plan until they are spent.
        rounds = 0
        for rounds in range(1, _ROUNDS + 1):
            loads_now = _balance.loads_of(labels_b, block_w, n_t) + base
            _, f_low, f_high = _balance.bounds(targets, shares.shape[1], tolerance * _INSIDE)
            f_low[frozen], f_high[frozen] = loads_now[frozen], loads_now[frozen]
            adjacency = _bounds.block_territory_graph(bg.edges, labels_b, n_t)
            _bounds.bridge_islands(adjacency, centres, present=np.bincount(labels_b, minlength=n_t) > 0)
            # With reps the flows' prices count far moves too; without, the centres move with their blocks and
            # a surcharge there sent flows round two hops instead of one (the scattered counties case moved
            # 3.4x the bound): the distance added alone.
            prices = flow_prices(labels_b, bg.edges, block_weight, km if reps is None else priced_km, n_t, penalty)
            _, flows = _bounds.bordering_lower_bound(loads_now, f_low, f_high, adjacency, return_flows=True,
                                                     cost=prices)
            flows /= shares.shape[1]
            if flows.sum() <= 1e-9:
                break
            moved_to = flow_moves(labels_b, bg.edges, block_weight, flows, priced_km, fixed_b, closed, spend.take,
                                  far=far)
            if np.array_equal(moved_to, labels_b):
                break
            labels_b = moved_to
        bar.step()
        labels_b = fit_moves(labels_b, bg.edges, block_w, base, targets, tolerance, priced_km, fixed_b,
                             frozen | closed, spend=spend.take)
        labels_b = empty_closed(labels_b, bg.edges, block_weight, targets, closed)
        labels_b = connect(labels_b, bg.edges, block_weight, current_b, targets, n_t, fixed_b)
        if budget is not None:
            # No search follows (see _settle): a piece that connect handed on may have left a territory out of
            # band, so single moves once more (they never split a territory).
            labels_b = fit_moves(labels_b, bg.edges, block_w, base, targets, tolerance, priced_km, fixed_b,
                                 frozen | closed, spend=spend.take)
        if reps is None:  # with reps the centres stay at their homes
            centres = unit_centres(bg.xyz, labels_b, block_weight + 1e-12, n_t, previous=centres)
        excess = _transfer._excess(labels_b, block_w, targets, tolerance, frozen, base)
        bar.step()
        if budget is None:
            # Locked load stays where it is (``base``): the blocks' own load aims at the target less it. With the
            # tolerance kept, that band, (target - base) x (1 +- tolerance), lies inside the true one, target x
            # (1 +- tolerance) - base, by base x tolerance on each side, so a plan within it is within tolerance.
            aim = np.asarray(targets, dtype=float).reshape(n_t, -1) - base if locked.any() else targets
            if locked.any():
                aim = np.maximum(aim, 1e-9 * np.maximum(np.asarray(targets, dtype=float).reshape(n_t, -1), 1e-12))
            labels_b, excess = self._settle(labels_b, bg, block_w, block_weight, aim, tolerance, current_b,
                                            penalty, priced_km, fixed_b, frozen, closed)
            excess = _transfer._excess(labels_b, block_w, targets, tolerance, frozen, base)
        bar.step()
        label_idx = labels_b[acc_block]
        label_idx[locked] = acc_current[locked]
        contiguous = is_contiguous(n_b, bg.edges, labels_b)
        if not contiguous:
            notes.append("some territories are not connected: locked territories are split today; unlock them "
                         "to allow a contiguous plan")
        if locked.any():
            exceptions = int((label_idx[locked] != labels_b[acc_block][locked]).sum())
            if exceptions:
                notes.append(f"{exceptions:,} locked accounts stay in their current territory as exceptions to "
                             "their block's territory")
        open_ = np.flatnonzero(~closed)
        index = np.full(n_t, -1)
        index[open_] = np.arange(len(open_))
        if (index[label_idx] < 0).any() or (index[labels_b] < 0).any():
            notes.append("some blocks could not leave a closing territory (no open territory borders them)")
            nearest = open_[np.argmin(np.linalg.norm(bg.xyz[:, None] - centres[open_][None], axis=2), axis=1)]
            labels_b = np.where(closed[labels_b], nearest, labels_b)
            label_idx = np.where(closed[label_idx], labels_b[acc_block], label_idx)
        acc_centres = centres if reps is not None else unit_centres(acc_xyz, label_idx, weight, n_t,
                                                                    previous=centres)
        # Blocks trimmed as far from every account (near_accounts) join a neighbour, so predict() covers them.
        self.block_labels_ = pd.Series(ids[_blocks.labels_on_all(full, kept, labels_b)],
                                       index=pd.Index(full.ids, name="block_id"), name="territory_id")
        self.adjacency_ = full.graph
        self._set_results(
            accounts, index[label_idx], ids[open_], acc_centres[open_], balance_on=balance_on, tolerance=tolerance,
            targets=None if reps is None else targets[open_],
            current=ids[acc_current].astype(str), lower_bound_share=plain, n_iter=rounds,
            converged=excess <= 0, seconds=time.perf_counter() - start, contiguous=contiguous,
            extra_warnings=notes)
        notes = list(self.report_.warnings)
        if budget is not None and not self.report_.within_tolerance:
            notes.append(f"disruption budget {budget:.1%} of {balance_on[0]} kept (moved "
                         f"{self.report_.moved_share:.1%}); reaching {tolerance:.1%} needs at least "
                         f"{bordering:.1%} moved between bordering territories")
            warnings.warn(notes[-1], ToleranceWarning, stacklevel=2)
        self.move_penalty_km_ = float(penalty)
        self.opened_ = tuple(opened)
        self.closed_ = tuple(str(c) for c in ids[closed])
        self.report_ = replace(self.report_, warnings=tuple(notes), bordering_lower_bound_share=bordering,
                               opened=self.opened_, closed=self.closed_)
        return self

    def _headcount(self, found, close, frozen, load, adjacency, centres, xyz, current_b, tolerance, n_b):
        """Without reps: closures (``close``, then the least disruptive) and openings where the excess is.

        Returns ``(closed, targets, opened, seeds)``: closing current
        territories, targets of the current then the new territories, new
        ids (continuing the current scheme) and their seeds (unit vectors).
        """
        n_cur = len(found)
        closed = np.isin(found.astype(str), close)
        wanted = headcount.check_n_territories(self.n_territories, n_cur - len(close), n_b)
        if wanted < n_cur - closed.sum():
            def band(is_open, factor):
                return np.where(is_open & ~closed, factor / max((is_open & ~closed).sum(), 1), 0.0)

            picked = headcount.closures_that_disrupt_least(
                load, lambda o: band(o, 1 - tolerance), lambda o: band(o, 1 + tolerance), adjacency,
                int(n_cur - closed.sum() - wanted), allowed=~closed & ~frozen)
            closed[picked] = True
        n_open = int(wanted - (n_cur - closed.sum()))
        targets = np.where(closed, 0.0, 1.0 / wanted)
        if n_open <= 0:
            return closed, targets, [], np.zeros((0, 3))
        seeds = headcount.opening_seeds(xyz, current_b, load, targets, adjacency, centres, n_open)
        return closed, np.r_[targets, np.full(n_open, 1.0 / wanted)], headcount.new_territory_ids(found, n_open), seeds

    def _settle(self, labels, bg, shares, weight, targets, tolerance, current, penalty, km, fixed, frozen, closed):
        """The least disruption the contiguous search finds from ``labels``: ``(labels, excess)``.

        The search (:func:`~workbench.align._block_moves.settle`) repairs the
        bands and lowers distance to centre plus, per unit of workload away
        from today's territory, ``penalty`` km and the distance the move adds
        (``km``: to the receiving territory's centre or rep's home, far moves
        priced higher, see :data:`FAR_PRICE`); territories its repair left
        out of band get chains of moves from the repair program
        (:meth:`_repair`), then single moves (home first) and the contiguous
        local search (:func:`~workbench.align._partition.partition`) only if
        still needed; a last search takes back the moves that are no longer needed,
        then :func:`~workbench.align._block_moves.take_back` and
        :func:`~workbench.align._block_moves.exchange_home` return what
        balance and connectivity allow.
        """
        no_base = np.zeros((len(targets), shares.shape[1]))
        rows = np.arange(len(labels))
        grid = np.stack([km(rows, np.full(len(rows), t)) for t in range(len(targets))], axis=1)
        move_km = np.maximum(grid - grid[rows, current][:, None], 0.0)
        # Balance is aimed at what whole blocks allow: a territory holding a block too heavy for any territory
        # is within once that block is all it is over by.
        reachable = reachable_targets(labels, shares, targets, tolerance, ~closed & ~frozen)

        def excess(lab):
            return _excess_over(lab, shares, reachable, tolerance, frozen)[0]

        def better(lab, than):  # better balanced: the worst territory nearer its band, or as near and the rest too
            (worst, total), (worst_than, total_than) = (_excess_over(x, shares, reachable, tolerance, frozen)
                                                        for x in (lab, than))
            return worst < worst_than - 1e-12 or (worst <= worst_than + 1e-12 and total < total_than - 1e-12)

        def search(lab):
            found = settle(lab, bg, shares, weight, reachable, tolerance, current, penalty, fixed, frozen, closed,
                           self.max_kicks, self.max_seconds, self.random_state, move_km=move_km,
                           patience=self.patience, repair_patience=REPAIR_PATIENCE)
            return found if excess(found) <= excess(lab) + 1e-12 else lab

        labels = searched = search(labels)
        labels = self._repair(labels, bg, shares, reachable, tolerance, current, fixed, frozen, closed, penalty,
                              grid, better)
        if excess(labels) > _ROUNDING:
            moved = fit_moves(labels, bg.edges, shares, no_base, targets, tolerance, km, fixed, frozen | closed,
                              home=current, penalty_km=penalty)
            moved = connect(moved, bg.edges, weight, current, targets, len(targets), fixed)
            labels = moved if better(moved, labels) else labels
        if excess(labels) > _ROUNDING:
            open_ = np.flatnonzero(~closed)
            index = np.full(len(targets), -1)
            index[open_] = np.arange(len(open_))
            scale = 1.0 / np.maximum(targets[open_], 1e-12)
            if np.allclose(scale, scale[0]) and (index[labels] >= 0).all():
                finish = partition(len(open_), bg.edges, shares * scale[0], bg.xyz, tolerance=tolerance,
                                   initial=index[labels], fixed=fixed,
                                   frozen_parts=np.flatnonzero(frozen[open_]).tolist(), max_iter=self.max_iter,
                                   preferred=np.where(index[current] >= 0, index[current], -1), polish=False,
                                   random_state=self.random_state)
                labels = open_[finish.labels] if better(open_[finish.labels], labels) else labels
        # A second pass only from a better balanced plan (else it would start over where the first one ended).
        if not np.array_equal(labels, searched):
            labels = search(labels)
        labels = take_back(labels, bg.edges, shares, targets, tolerance, current, fixed, frozen, closed)
        labels = exchange_home(labels, bg.edges, shares, targets, tolerance, current, fixed, frozen, closed,
                               penalty_km=penalty, km=grid, node_limit=EXCHANGE_NODES)
        return labels, _transfer._excess(labels, shares, targets, tolerance, frozen, no_base)

    @staticmethod
    def _repair(labels, bg, shares, reachable, tolerance, current, fixed, frozen, closed, penalty, grid, better):
        """Chains of whole-block moves that bring the territories still out of band in, at the least disruption.

        :func:`~workbench.align._block_moves.repair_moves` over the
        territories within ``REPAIR_HOPS[i]`` borders of those out of band
        (a near chain first, a wider region while none brings every
        territory in; a region no wider than the last is skipped), repeated
        from each better balanced plan (at most ``REPAIR_CALLS`` programs).
        A region that only brings the plan nearer its bands is kept only
        when no wider one brings it all in (then the best balanced of them):
        on the regional-growth counties case (seed 2) the near region's part
        repair handed a lumpy New York City county on to an overloaded
        neighbour and took another back, and the chain the wide region then
        needed from there moved 1.32x the bordering bound; from the same
        start the wide region alone moved 1.24x.
        """
        n_t = len(reachable)

        def out_of_band(lab):
            return _balance.out_of_band(lab, shares, reachable, tolerance, skip=frozen | closed)

        calls = 0
        while calls < REPAIR_CALLS:
            out = out_of_band(labels)
            if not out.any():
                break
            adjacency = _bounds.block_territory_graph(bg.edges, labels, n_t)
            tried, nearer, within = None, None, None
            for hops in REPAIR_HOPS:
                region = out.copy()
                for _ in range(hops):
                    region |= adjacency[region].any(axis=0)
                if tried is not None and np.array_equal(region, tried):
                    continue  # the same program again would give the same answer
                tried = region
                calls += 1
                moved = repair_moves(labels, bg.edges, shares, reachable, tolerance, current, fixed, frozen, closed,
                                     penalty_km=penalty, km=grid, pairs=region[:, None] & region[None, :],
                                     node_limit=REPAIR_NODES)
                if better(moved, labels):
                    if not out_of_band(moved).any():
                        within = moved
                        break
                    if nearer is None or better(moved, nearer):
                        nearer = moved
                if region.all() or calls >= REPAIR_CALLS:
                    break
            found = within if within is not None else nearer
            if found is None:
                break
            labels = found
        return labels

    def predict(self, new_accounts, distance=None):
        """Territory of new accounts: the territory of their block."""
        position = _blocks.account_blocks(new_accounts, self.block_col, self.block_labels_.index.to_numpy())
        return self.block_labels_.to_numpy()[position]

