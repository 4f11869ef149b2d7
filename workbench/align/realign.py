"""Realignment: bring today's territories back within tolerance, moving little and staying compact.

The recurring job of territory management. Starting from each account's
current territory (ids kept), accounts move only to a territory bordering
their own (:mod:`workbench.align.bounds`), chosen by one linear program
(:mod:`workbench.align._transfer`) that prices both the moved workload (a
move penalty in km) and the distance to the receiving centre, re-solved as
the centres follow their accounts, then spends the move slack the target
leaves (up to 1.0695x the bordering bound) on compactness. Headcount changes open new
territories where the excess is or close the territories whose closure
disrupts least (:mod:`workbench.align.headcount`). The report gives two
lower bounds on the movement: the plain one and the one that respects
geography (load only crosses borders of bordering territories).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np

from workbench.align import _balance, _transfer, bounds as _bounds, headcount
from workbench.align.balanced import current_setup, repair
from workbench.align.base import (
    N_CANDIDATES, Distance, TerritoryEstimator, balance_columns, check_accounts, check_tolerance, metric_shares,
    progress_bar, unit_centres,
)
from workbench.align.report import ToleranceWarning
from workbench.errors import InputError
from workbench.schema import (
    CAPACITY_HOURS, COUNTY_FIPS, CURRENT_TERRITORY, DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, TERRITORY_ID, WORKLOAD,
)

#: The program aims a hair inside the tolerance, so rounding its few split accounts stays within.
_INSIDE = 0.98
#: With several balanced metrics it aims further inside: its split accounts must round within the band on every
#: metric at once, and an account can hold several percent of a territory's target in one metric (on the sample
#: one holds 8.6% of a target's revenue). At 0.98 on the sample's three metrics no round ended within tolerance,
#: so no round capped the next one's moves and the closing repair moved 21.3% -> 25.6% of the workload.
_INSIDE_SEVERAL = 0.9

#: Default move penalty, as a multiple of the current plan's compactness (km of distance to centre).
PENALTY_SHARE = 4.0

#: Linear programs solved at most (each from the last one's plan, as the centres follow their accounts)
#: and at least (when the first one is already within tolerance).
_ROUNDS = 6
_MIN_ROUNDS = 5
#: With several balanced metrics, the rounds after the first plan within tolerance stop as soon as one lowers the
#: best score (compactness plus the move penalty) by less than this share: each round costs several times more
#: (the sample on three metrics: 12-28 s a round) and its fourth and fifth rounds changed compactness by 0.3%.
_SEVERAL_GAIN = 0.01

#: Trade-off rounds: once within tolerance, the exact budgeted problem is solved in turns with re-centring: the
#: program (every move of the pool, distances to the centres, the move penalty times _TRADE_PENALTY) with a budget of
#: _TRADE_SLACK times the bordering bound, aimed at _TRADE_INSIDE of the tolerance, from today's centres, while a
#: solve lowers compactness by more than _TRADE_GAIN (at most _TRADE_ROUNDS solves). The program keeps _TRADE_AIM of
#: the slack; placing its split accounts at the tolerance (and single moves back within it) may spend the rest.
#: The budget is what prices the moves here (penalty 0). On the sample a quarter of the default penalty, 0.98 of the
#: tolerance and 1.06x the bound, from the rounds' centres, ended at 1.026x today's compactness (penalty 0 alone:
#: 1.021x); 0.995 and 1.0695x from today's centres end at 1.009x. Aim and budget both count: the bands bind on most
#: territories (an LP of the exact problem at 4.9% instead of 5%: 0.7% less compact). The cost is the placement
#: of the split accounts that close to the tolerance: 7 -> 28 CPU s on the sample (0.98: 12 s at 1.015x).
#: 1.0695 keeps the plan under the 1.07x target.
_TRADE_SLACK = 1.0695
_TRADE_PENALTY = 0.0
_TRADE_ROUNDS = 16
_TRADE_AIM = 1.0
_TRADE_INSIDE = 0.995
_TRADE_GAIN = 1e-4
#: Balanced metrics at most for the trade-off rounds. With several, each solve costs several times more and its
#: split accounts are hard to place on every metric at once (40,000 x 40 on three metrics: +80 s for a plan that
#: moves more), and the target there is on movement only (1.3x the bordering bound).
_TRADE_METRICS = 1

#: Nearest open centres an account of a closing territory (or near a new one) may go to.
_NEAREST = 6


class Realignment(TerritoryEstimator):
    """Bring an existing alignment within tolerance, moving little and keeping territories compact.

    Every account may move, but only to a territory that borders its own
    (two territories border when an account of one has an account of the
    other among its k = 8 nearest, or shares a block with one): every move
    crosses one border of the bordering bound's graph, so a plan within
    tolerance never moves less than that bound. Which ones move is one
    linear program (:mod:`workbench.align._transfer`): it minimises, over
    the whole plan, each account's workload times its distance to its
    territory's centre, plus ``move_penalty_km`` times every moved
    account's workload, with every territory within tolerance on every
    balanced metric; its few split accounts are placed by a small integer
    program. The first program prices distances to today's centres; the
    centres then follow their accounts and the program is solved again (a
    few rounds), never moving more than the best plan so far, and a later
    plan replaces the first one within tolerance only when it is no worse
    on moved share and on compactness. With several balanced metrics the
    program aims at :data:`_INSIDE_SEVERAL` (0.9) of the tolerance, so its
    split accounts round within every band at once, and the rounds stop as
    soon as one improves the best plan by less than :data:`_SEVERAL_GAIN` (1%).
    Then, balancing one metric, the
    plan spends the slack the target leaves (moving at most 1.07x the
    bordering bound) on compactness: while it moves less than :data:`_TRADE_SLACK` (1.0695) times
    that bound, the program is solved again from today's centres with that
    budget as the only price of a move, aimed at :data:`_TRADE_INSIDE`
    (0.995) of the tolerance, re-centring between solves, and each plan
    within tolerance that is more compact than the last is kept (never
    beyond the disruption budget, when one is given). A large penalty moves the least
    that bordering moves allow; a small one tidies shapes at the price of
    more moves (see :func:`workbench.align.frontier.realignment_frontier`).

    Headcount changes: with ``n_territories`` above today's count, new
    territories open in the most overloaded areas (ids continue the current
    scheme, e.g. ``T41``; see :func:`workbench.align.headcount.new_territory_ids`);
    below it, or with ``close``, the territories whose closure needs the
    least movement (or those named) close and their accounts go to
    bordering territories. With ``reps``, reps without a current territory
    are new hires (a new territory around their home) and current
    territories whose rep is not in the file close.

    Parameters
    ----------
    n_territories : int, optional
        Territories wanted; default today's count (less ``close``).
    close : list of str, optional
        Current territories to close.
    balance_on : str or sequence of str, default ("workload",)
    tolerance : float, default 0.05
    current_col : str, default "current_territory"
    lock_col : str, optional
        Bool column; locked accounts stay in their current territory.
    locked_territories : list of str, optional
        Territories left untouched: none of their accounts move in or out.
    capacity_col : str, default "capacity_hours"
        With ``reps`` given to ``fit``: targets in proportion to it.
    distance : callable or array, optional
        Replaces the great-circle distance (see
        :class:`~workbench.align.base.Distance`); a matrix needs ``reps``.
        The move penalty is then in that distance's unit.
    n_candidates : int, default 12
    random_state : int, optional
        Unused (the method is deterministic); kept for a uniform interface.
    progress : bool, default False
        Show a bar (a widget in notebooks) over the transfer rounds and the repair.
    max_moved_share : float, optional
        Disruption budget: the most workload (first balanced metric, as a
        share, 0.1 = 10%) that may move. The program then keeps it exactly
        and finds the best balance it allows; the report and a
        :class:`ToleranceWarning` say when the tolerance is out of reach.
    move_penalty_km : float, optional
        Distance (km) one unit of moved workload is worth; default four
        times the current plan's compactness (its workload-weighted mean
        distance to centre, :data:`PENALTY_SHARE`): moves close to the
        bordering bound. Smaller values buy compactness with more moves.
    block_col : str, default "county_fips"
        Accounts sharing a block border every territory present in it
        (used when the column exists).
    n_neighbours : int, default 8
        Nearest accounts that define bordering territories.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"latitude": [40.0, 40.1, 40.2, 40.3], "longitude": [-100.0] * 4,
    ...                          "workload": [1.0, 1.0, 1.0, 1.0],
    ...                          "current_territory": ["A", "A", "A", "B"]})
    >>> model = Realignment().fit(accounts)
    >>> model.labels_.tolist(), model.report_.moved_accounts, round(model.report_.lower_bound_share, 3)
    (['A', 'A', 'B', 'B'], 1, 0.225)
    """

    _method = "realignment"

    def __init__(self, n_territories=None, *, close=None, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE,
                 current_col=CURRENT_TERRITORY, lock_col=None, locked_territories=None, capacity_col=CAPACITY_HOURS,
                 distance=None, n_candidates=N_CANDIDATES, random_state=None, progress=False, max_moved_share=None,
                 move_penalty_km=None, block_col=COUNTY_FIPS, n_neighbours=_bounds.N_NEIGHBOURS):
        self.n_territories = n_territories
        self.close = close
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.current_col = current_col
        self.lock_col = lock_col
        self.locked_territories = locked_territories
        self.capacity_col = capacity_col
        self.distance = distance
        self.n_candidates = n_candidates
        self.random_state = random_state
        self.progress = progress
        self.max_moved_share = max_moved_share
        self.move_penalty_km = move_penalty_km
        self.block_col = block_col
        self.n_neighbours = n_neighbours

    def fit(self, accounts, y=None, *, reps=None):
        """Realign ``accounts``; with ``reps`` the territories are the reps' (centres at their homes).

        Parameters
        ----------
        accounts : pandas.DataFrame
            Latitude, longitude, the balanced metrics and ``current_col``.
        y : ignored
        reps : pandas.DataFrame, optional
            ``rep_id, latitude, longitude[, territory_id, capacity_hours]``.
            A rep's ``territory_id`` (or its ``rep_id``, when the current
            territories are named by rep ids) is its current territory;
            reps without one are new hires. ``reps_`` is then the reps with
            the territory each serves (new hires' ids filled in), for
            :meth:`workbench.plan.Plan.from_fit`.
        """
        with progress_bar(self.progress, _ROUNDS + 1, "realignment") as bar:
            return self._fit(accounts, reps, bar)

    def _fit(self, accounts, reps, bar):
        """:meth:`fit`'s work; ``bar`` advances once per transfer round and once for the repair."""
        start = time.perf_counter()
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        budget = _transfer.check_budget(self.max_moved_share)
        shares = metric_shares(accounts, balance_on)
        weight = shares.mean(axis=1)
        dist = Distance(self.distance, accounts[LATITUDE], accounts[LONGITUDE])
        if reps is None and dist.kind == "matrix":
            raise InputError("a precomputed distance matrix needs fixed sites: pass reps= to fit")
        setup = _Setup.build(self, accounts, reps, dist.xyz, weight, tolerance)
        n_t = len(setup.ids)
        current, fixed, frozen, closed, targets = setup.current, setup.fixed, setup.frozen, setup.closed, setup.targets
        self.reps_ = None if reps is None else reps.assign(**{TERRITORY_ID: setup.served})
        _transfer.check_closures_within_budget(budget, shares[:, 0], closed[current], setup.closed_ids, balance_on[0])
        centres = setup.centres

        def km(rows, territories):
            cost = dist.cost(rows, territories, centres)
            return _transfer.chord_cost_km(cost) if dist.kind == "chord" else np.sqrt(cost)

        loads = _balance.loads_of(current, shares, n_t)
        _, low, high = _balance.bounds(targets, shares.shape[1], tolerance)
        low[frozen], high[frozen] = loads[frozen], loads[frozen]
        plain, bordering, _ = _bounds.realignment_bounds(loads, low, high, setup.adjacency)
        joint = None  # with several metrics: the least workload that brings all of them within at once
        if shares.shape[1] > 1:
            joint = _bounds.joint_lower_bound(shares, current, low, high, setup.adjacency, movable=fixed < 0,
                                              frozen=frozen)
            joint = max(joint, bordering) if np.isfinite(joint) else None  # None: no such plan reaches every band
        penalty = _transfer.check_penalty(self.move_penalty_km)
        if penalty is None:
            penalty = PENALTY_SHARE * _compactness(km, current, weight, ~closed[current])
        movable = fixed < 0
        pool = _pool(current, setup.adjacency)
        best, labels, rounds = None, current, 0
        cap = budget  # once a plan is within tolerance: at most what the best one moved (see _cap)
        first = None  # (moved, compactness) of the first plan within tolerance
        last_excess = None  # the last round's excess beyond the tolerance
        aim = tolerance * (_INSIDE if len(balance_on) == 1 else _INSIDE_SEVERAL)
        for rounds in range(1, _ROUNDS + 1):
            rows, terr = _options(dist, centres, setup, self.n_candidates, labels)
            previous = labels
            result = _transfer.transfer(labels, shares, targets, aim, rows, terr, km, weight,
                                        penalty_km=penalty, movable=movable, frozen=frozen, closed=closed,
                                        budget=cap, origin=current, pool=pool, exact_tolerance=tolerance)
            labels = result.labels
            excess = _transfer._excess(labels, shares, targets, tolerance, frozen)  # the program aimed inside
            if excess > 0:  # rounding the split accounts: single cheapest moves back within tolerance
                labels, excess = self._tidy(labels, current, shares, targets, tolerance, dist, centres, fixed,
                                            frozen, closed, cap, excess, setup.adjacency)
            if not setup.fixed_sites:
                centres = unit_centres(dist.xyz, labels, weight, n_t, previous=centres)
            moved = float(weight[labels != current].sum())
            compact = _compactness(km, labels, weight)
            score = (round(excess, 6), compact + penalty * moved)
            # After the first plan within tolerance, a round counts only if it is no worse on either count.
            no_worse = first is None or (moved <= first[0] * (1 + 1e-9) + 1e-15 and compact <= first[1] * (1 + 1e-9))
            gain = np.inf if best is None or best[0][0] > 0 else 1 - score[1] / best[0][1]
            if no_worse and (best is None or score[0] < best[0][0]
                             or (score[0] == best[0][0] and score[1] < best[0][1] * (1 - 1e-9))):
                best = (score, labels, centres.copy())
                if excess <= 0:
                    cap = _cap(budget, float(shares[labels != current, 0].sum()))
            if first is None and excess <= 0:
                first = (moved, compact)
            bar.set_postfix_str(f"round {rounds}: {excess:.1%} of the workload outside the tolerance")
            bar.update(1)
            if (excess <= 0 and (setup.fixed_sites or rounds >= _MIN_ROUNDS)) or np.array_equal(labels, previous):
                break
            if len(balance_on) > 1 and excess <= 0 and rounds > 1 and gain < _SEVERAL_GAIN:
                break  # several metrics: re-centring no longer pays for another round
            spent = budget is not None and float(shares[labels != current, 0].sum()) >= budget * (1 - 1e-6)
            if spent and excess > 0 and last_excess is not None and excess > last_excess - 1e-3:
                break  # the budget is spent outside the tolerance and re-centring no longer helps
            last_excess = excess
        labels, centres = best[1], best[2]
        within = best[0][0] <= 0
        spend = _spend(budget, bordering, float(shares[labels != current, 0].sum()))
        if within and spend is not None and len(balance_on) <= _TRADE_METRICS:
            bar.set_postfix_str("spending the move slack on compactness")
            labels, centres, r = self._trade(labels, centres, km, spend, penalty * _TRADE_PENALTY, current, shares,
                                             targets, tolerance, dist, weight, setup, fixed, frozen, closed, movable,
                                             pool)
            rounds += r
        if not within:
            bar.set_postfix_str("single moves into the tolerance")
            labels, within, r = self._repair(labels, current, shares, targets, tolerance, dist, centres, fixed,
                                             frozen, closed, budget, setup.adjacency)
            rounds += r
        bar.update(1)
        if not setup.fixed_sites:
            centres = unit_centres(dist.xyz, labels, weight, n_t, previous=centres)
        open_ = np.flatnonzero(~closed)
        index = np.full(n_t, -1)
        index[open_] = np.arange(len(open_))
        if (index[labels] < 0).any():  # cannot happen: a closed territory holds no account after the repair
            raise RuntimeError("accounts were left in a closed territory")
        ids = setup.ids
        self._set_results(
            accounts, index[labels], ids[open_], centres[open_], balance_on=balance_on, tolerance=tolerance,
            targets=None if reps is None else targets[open_], current=ids[current].astype(str),
            lower_bound_share=plain, n_iter=rounds, converged=within, seconds=time.perf_counter() - start,
            distance=self.distance, extra_warnings=())
        notes = list(self.report_.warnings)
        least = bordering if joint is None else joint  # every balanced metric within at once
        if budget is not None and self.report_.moved_share is not None and not self.report_.within_tolerance:
            notes.append(f"disruption budget {budget:.1%} of {balance_on[0]} kept (moved "
                         f"{self.report_.moved_share:.1%}): the best balance within it is a max deviation of "
                         + ", ".join(f"{m} {v:.1%}" for m, v in self.report_.max_deviation.items())
                         + f"; reaching {tolerance:.1%} needs at least {least:.1%} moved between bordering "
                         "territories: raise the budget or the tolerance")
            warnings.warn(notes[-1], ToleranceWarning, stacklevel=2)
        unfilled = _unfilled_openings(budget, labels, shares[:, 0], targets, tolerance, ids, setup.opened, balance_on[0])
        if unfilled:
            notes.append(unfilled)
            warnings.warn(unfilled, ToleranceWarning, stacklevel=2)
        self.move_penalty_km_ = float(penalty)
        self.opened_ = tuple(setup.opened)
        self.closed_ = tuple(setup.closed_ids)
        self.report_ = replace(self.report_, warnings=tuple(notes), bordering_lower_bound_share=bordering,
                               joint_lower_bound_share=joint, opened=self.opened_, closed=self.closed_)
        return self

    def _trade(self, labels, centres, km, spend, penalty, current, shares, targets, tolerance, dist, weight, setup,
               fixed, frozen, closed, movable, pool):
        """Trade-off rounds: spend up to ``spend`` (first-metric share moved) on compactness; (labels, centres, solves).

        The exact budgeted problem, in turns with re-centring: each round
        solves the program over the whole pool against the last round's
        centres (the first against today's: the current plan's centres, where
        it is not a plan of fixed sites) at ``penalty`` with that budget
        (keeping :data:`_TRADE_AIM` of the slack for placing the split
        accounts), aimed at :data:`_TRADE_INSIDE` of the tolerance, then
        re-centres. A plan replaces ``labels`` only when it is within
        tolerance, within ``spend`` and more compact; the rounds go on (from
        the last plan, kept or not) while a round lowers compactness by more
        than :data:`_TRADE_GAIN`. ``km`` prices distances to ``centres``,
        which this method updates in place.
        """
        n_t = len(setup.ids)
        best = (labels, centres.copy(), _compactness(km, labels, weight))
        if not setup.fixed_sites:  # from today's centres: on the sample a better basin than the rounds' own
            centres[:] = unit_centres(dist.xyz, current, weight, n_t, previous=centres)
        last = np.inf
        moved = float(shares[labels != current, 0].sum())
        aim = moved + _TRADE_AIM * (spend - moved)
        solves = 0
        for solves in range(1, _TRADE_ROUNDS + 1):
            rows, terr = _options(dist, centres, setup, self.n_candidates, labels)
            result = _transfer.transfer(labels, shares, targets, tolerance * _TRADE_INSIDE, rows, terr, km, weight,
                                        penalty_km=penalty, movable=movable, frozen=frozen, closed=closed, budget=aim,
                                        origin=current, pool=pool, exact_tolerance=tolerance, exact_budget=spend)
            trial = result.labels
            excess = _transfer._excess(trial, shares, targets, tolerance, frozen)
            if excess > 0:
                trial, excess = self._tidy(trial, current, shares, targets, tolerance, dist, centres, fixed, frozen,
                                           closed, spend, excess, setup.adjacency)
            if not setup.fixed_sites:
                centres[:] = unit_centres(dist.xyz, trial, weight, n_t, previous=centres)
            compact = _compactness(km, trial, weight)
            valid = excess <= 0 and float(shares[trial != current, 0].sum()) <= spend + 1e-12
            if valid and compact < best[2] * (1 - 1e-6):
                best = (trial, centres.copy(), compact)
            if compact >= last * (1 - _TRADE_GAIN):
                break
            labels, last = trial, compact
        centres[:] = best[1]
        return best[0], centres, solves

    def _tidy(self, labels, current, shares, targets, tolerance, dist, centres, fixed, frozen, closed, budget,
              excess, graph):
        """Greedy single moves (cheapest first) after rounding; kept only if they help and fit the budget."""
        cand, cost = dist.candidates(centres, self.n_candidates, allowed=~frozen & ~closed)
        cand = _balance.neighbour_candidates(labels, _bounds.within_graph(cand, current, graph), cost)
        target, low, high = _balance.bounds(targets, shares.shape[1], tolerance * 0.999)
        tidied, _, _ = _balance.greedy_repair(labels, shares, target, low, high, cand, cost,
                                              lambda rows, t: dist.cost(rows, t, centres), fixed < 0, frozen, aim=0.9)
        after = _transfer._excess(tidied, shares, targets, tolerance, frozen)
        if after >= excess or (budget is not None and float(shares[tidied != current, 0].sum()) > budget + 1e-12):
            return labels, excess
        return tidied, after

    def _repair(self, labels, current, shares, targets, tolerance, dist, centres, fixed, frozen, closed, budget,
                graph):
        """The exact single-move repair, when rounding or lumpy accounts left a territory outside."""
        allowed = ~frozen & ~closed
        cand, cost = dist.candidates(centres, self.n_candidates, allowed=allowed)
        cand = _bounds.within_graph(cand, current, graph)

        def own_cost(rows, territories):
            return dist.cost(rows, territories, centres)

        repaired, _, within = repair(labels, shares, targets, tolerance, cand, cost, own_cost, fixed, frozen,
                                     aim=0.9)
        in_closed = closed[repaired]
        if in_closed.any():  # nowhere to go but the nearest open territory
            repaired[in_closed] = cand[in_closed, 0]
            within = False
        if budget is not None and float(shares[repaired != current, 0].sum()) > budget + 1e-12:
            return labels, False, 1
        return repaired, within, 1


class _Setup:
    """Territories of a realignment: ids (open, new and closing), targets, centres, bordering graph."""

    @classmethod
    def build(cls, est, accounts, reps, xyz, weight, tolerance):
        self = cls()
        found = np.unique(accounts[est.current_col].astype(str).to_numpy())
        close = headcount.check_close(est.close, found)
        self.fixed_sites = reps is not None
        if reps is not None:
            ids, homes, targets, closed_ids, opened = headcount.rep_territories(reps, est.capacity_col, found, close,
                                                                         est.n_territories)
        else:
            ids, homes, targets, closed_ids, opened = found.astype(object), None, None, list(close), []
        self.ids = np.asarray(ids, dtype=object)
        self.served = None if reps is None else self.ids[:len(reps)].astype(str)  # each rep's territory, in order
        self.ids, self.current, self.fixed, self.frozen = current_setup(
            accounts, est.current_col, est.lock_col, est.locked_territories, ids=self.ids)
        n_cur = len(self.ids)
        groups = accounts[est.block_col] if est.block_col and est.block_col in accounts.columns else None
        centres = unit_centres(xyz, self.current, weight, n_cur)
        if homes is not None:  # reps' homes; a closing territory keeps its accounts' centre
            centres = np.where(np.isin(self.ids.astype(str), closed_ids)[:, None], centres, homes)
        borders = _bounds.bordering_options(xyz, self.current, n_cur, groups=groups, k=est.n_neighbours,
                                            centres=centres)
        self.borders, self.adjacency = borders, borders.adjacency
        self.groups, self.n_neighbours = groups, est.n_neighbours
        closed = np.isin(self.ids.astype(str), closed_ids)
        if reps is None:
            wanted = headcount.check_n_territories(est.n_territories, n_cur - len(close), len(accounts))
            load = np.bincount(self.current, weights=weight, minlength=n_cur)
            if wanted < n_cur - closed.sum():
                n_more = int(n_cur - closed.sum() - wanted)
                allowed = ~closed & ~self.frozen

                def bound(is_open):
                    return np.where(is_open, 1.0 / max(is_open.sum(), 1), 0.0)

                picked = headcount.closures_that_disrupt_least(
                    load, lambda o: bound(o & ~closed) * (1 - tolerance), lambda o: bound(o & ~closed) * (1 + tolerance),
                    self.adjacency, n_more, allowed=allowed)
                closed[picked] = True
                closed_ids = list(closed_ids) + [str(self.ids[p]) for p in picked]
            n_open = int(wanted - (n_cur - closed.sum()))
            targets = np.where(closed, 0.0, 1.0 / wanted)
            if n_open > 0:
                opened = headcount.new_territory_ids(self.ids, n_open)
                seeds = headcount.opening_seeds(xyz, self.current, load, np.where(closed, 0.0, 1.0 / wanted),
                                                self.adjacency, centres, n_open)
                centres = np.vstack([centres, seeds])
                self.ids = np.r_[self.ids, np.asarray(opened, dtype=object)]
                targets = np.r_[targets, np.full(n_open, 1.0 / wanted)]
                closed = np.r_[closed, np.zeros(n_open, dtype=bool)]
                self.frozen = np.r_[self.frozen, np.zeros(n_open, dtype=bool)]
        n_t = len(self.ids)
        if (closed & self.frozen).any():
            raise InputError(f"territories {self.ids[closed & self.frozen].tolist()[:5]} are locked "
                             "(locked_territories) and cannot close; unlock them or close others")
        pinned = (self.fixed >= 0) & closed[np.maximum(self.current, 0)]
        if pinned.any():
            rows = accounts.index[pinned][:5].tolist()
            raise InputError(f"locked accounts (rows {rows}) are in closing territories "
                             f"{sorted(map(str, set(self.ids[self.current[pinned]])))[:5]}; unlock them "
                             f"(column {est.lock_col!r}) or keep those territories")
        if n_t > n_cur:
            self.borders = _bounds.bordering_options(xyz, self.current, n_t, groups=groups, k=est.n_neighbours,
                                                     centres=centres)
        if len(opened):  # a new (still empty) territory borders the territory of its seed and that one's neighbours
            new = np.flatnonzero(np.isin(self.ids.astype(str), opened))
            hubs = self.current[[int(np.argmin(np.linalg.norm(xyz - centres[j], axis=1))) for j in new]]
            self.adjacency = headcount.opening_adjacency(self.borders.adjacency, new, hubs)
        if closed.any():  # the territories around a closing one border each other through it
            self.adjacency = headcount.closing_adjacency(self.adjacency, closed)
        self.targets = np.asarray(targets, dtype=float)
        self.closed = closed
        self.centres = centres
        self.opened = list(opened)
        self.closed_ids = [str(c) for c in closed_ids]
        return self


def _unfilled_openings(budget, labels, share, targets, tolerance, ids, opened, basis):
    """What to say when a disruption budget leaves new territories short of their target (None when it does not).

    A new territory starts empty: filling the new ones to within the
    tolerance moves at least their targets less the tolerance, whatever
    else moves. Names each new territory short of its target with its
    share, and the budget that filling them needs.

    Examples
    --------
    >>> ids = np.array(["A", "B", "C"], dtype=object)
    >>> print(_unfilled_openings(0.05, np.array([0, 0, 1, 2]), np.array([0.6, 0.35, 0.03, 0.02]),
    ...                          np.full(3, 1 / 3), 0.05, ids, ["B", "C"], "workload"))
    disruption budget 5.0% of workload cannot fill the new territories: B holds 3.0% and C 2.0% of workload against a target of 33.3% each; filling them to within 5.0% moves at least 63.3%: raise the budget (max_moved_share / --max-moved) to at least 63.3%, open fewer territories (n_territories / --territories) or drop the budget
    """
    if budget is None or not len(opened):
        return None
    new = np.flatnonzero(np.isin(ids.astype(str), list(opened)))
    load = np.bincount(labels, weights=share, minlength=len(ids))
    short = new[load[new] < targets[new] * (1 - tolerance) - 1e-12]
    if not short.size:
        return None
    need = float((targets[new] * (1 - tolerance)).sum())
    held = [f"{ids[j]} holds {load[j]:.1%}" if i == 0 else f"{ids[j]} {load[j]:.1%}" for i, j in enumerate(short)]
    held = held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]
    same = np.allclose(targets[short], targets[short][0])
    against = (f"a target of {targets[short][0]:.1%}" + (" each" if len(short) > 1 else "") if same else
               "targets of " + ", ".join(f"{targets[j]:.1%}" for j in short))
    return (f"disruption budget {budget:.1%} of {basis} cannot fill the new territories: {held} of {basis} against "
            f"{against}; filling them to within {tolerance:.1%} moves at least {need:.1%}: raise the budget "
            f"(max_moved_share / --max-moved) to at least {need:.1%}, open fewer territories (n_territories / "
            "--territories) or drop the budget")


def _nearest_open(dist, centres, setup, n_candidates):
    """Nearest open centres of every account, nearest first: (n, _NEAREST) int array."""
    cand, cost = dist.candidates(centres, n_candidates, allowed=~setup.closed & ~setup.frozen)
    order = np.argsort(cost, axis=1, kind="stable")
    return np.take_along_axis(cand, order, axis=1)[:, :_NEAREST]


def _options(dist, centres, setup, n_candidates, labels):
    """The moves a round's program starts from (account row, territory), from the plan ``labels`` of the last round.

    Every account may go to a bordering territory its nearest accounts are
    in; accounts of closing territories may go to any open territory
    bordering theirs; accounts near a new territory may join it; and an
    account moved in an earlier round may go back. The program then adds
    any other move of the pool (:func:`_pool`) that pays (column
    generation), so accounts deeper inside move where a one-account-deep
    border cannot carry the flow. Every move ends in the account's
    territory of today or one bordering it on the graph of the bordering
    lower bound (``setup.adjacency``), so a plan within tolerance never
    moves less than that bound.
    """
    n_t = len(setup.ids)
    if not hasattr(setup, "near"):
        setup.near = _bounds.nearest_accounts(dist.xyz, setup.n_neighbours)
    borders = setup.borders if labels is setup.current else _bounds.bordering_options(
        dist.xyz, labels, n_t, groups=setup.groups, centres=centres, near=setup.near)
    rows, terr = [borders.rows], [borders.territories]
    new = np.isin(setup.ids.astype(str), setup.opened)
    cand = _nearest_open(dist, centres, setup, n_candidates)
    in_closed = np.flatnonzero(setup.closed[labels])  # to every open territory bordering theirs
    r, t = np.nonzero(setup.adjacency[setup.current[in_closed]] & ~setup.closed & ~setup.frozen)
    rows.append(in_closed[r])
    terr.append(t)
    r, c = np.nonzero(new[cand])
    rows.append(r)
    terr.append(cand[r, c])
    back = np.flatnonzero(labels != setup.current)
    rows.append(back)
    terr.append(setup.current[back])
    rows, terr = np.concatenate(rows).astype(np.int64), np.concatenate(terr).astype(np.int64)
    # Every move stays on the graph of the bordering bound (from today's territory), so the bound holds.
    keep = (terr == setup.current[rows]) | setup.adjacency[setup.current[rows], terr]
    key = np.unique(rows[keep] * n_t + terr[keep])
    return key // n_t, key % n_t


def _spend(budget, bordering, moved):
    """Most first-metric share the trade-off rounds may move (None: no trade-off), after a plan moving ``moved``.

    :data:`_TRADE_SLACK` times the bordering bound (within the disruption
    budget, when one is given), if that is more than the plan moved: the
    rounds then buy compactness with moves the target (1.07x that bound)
    leaves, never moving more than that.

    Examples
    --------
    >>> round(_spend(None, 0.10, 0.102), 5), _spend(None, 0.10, 0.107), round(_spend(0.104, 0.10, 0.102), 3)
    (0.10695, None, 0.104)
    """
    if _TRADE_SLACK <= 0 or bordering <= 0:
        return None
    spend = _TRADE_SLACK * bordering if budget is None else min(budget, _TRADE_SLACK * bordering)
    return spend if spend > moved * (1 + 1e-9) else None


def _cap(budget, moved):
    """The disruption budget of the rounds after the best plan so far, within tolerance, that moved ``moved``.

    Once a round reaches the tolerance, later rounds (against centres that
    followed their accounts) may not move more than the best plan so far:
    they trade which accounts move for compactness. A later plan replaces
    the first one within tolerance only when it is no worse on moved share
    and on compactness, so the realignment is at least as good on both as
    the first program's answer (the least-cost assignment to bordering
    territories from today's centres).
    """
    return moved if budget is None else min(budget, moved)


def _pool(current, adjacency):
    """Every move the program may make: each account to every territory bordering its territory of today.

    Also back to that territory (for accounts moved in an earlier round).
    These are all the moves that keep the bordering bound valid; the
    program solves over all of them by column generation
    (:func:`workbench.align._transfer.transfer`).
    """
    adjacency = np.asarray(adjacency, dtype=bool)
    src, dst = np.nonzero(adjacency)
    start = np.searchsorted(src, np.arange(len(adjacency) + 1))
    degree = np.diff(start)
    rows = np.repeat(np.arange(len(current)), degree[current])
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(degree[current]) - degree[current], degree[current])
    terr = dst[start[current[rows]] + offset]
    return np.r_[rows, np.arange(len(current))], np.r_[terr, current]


def _compactness(km, labels, weight, mask=None):
    """Weighted mean distance of accounts to their territory's centre."""
    rows = np.arange(len(labels)) if mask is None else np.flatnonzero(mask)
    total = float(weight[rows].sum())
    return float((weight[rows] * km(rows, labels[rows])).sum() / max(total, 1e-300))
