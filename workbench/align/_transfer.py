"""Compact realignment as one linear program: which accounts move where.

Every account may be in its own territory or in one bordering it (the
pool: for realignment, every territory bordering its territory of today
on the bordering bound's graph, :func:`workbench.align.bounds.bordering_options`);
``x_ij`` is the share of account ``i`` in territory ``j``. The program
(HiGHS, through :mod:`highspy`) minimises

    sum_ij  w_i * (km_ij + move_penalty_km * [j is not i's current territory])  +  big * z

subject to every account being placed once and every territory's load of
every metric within ``target * (1 -+ (tolerance + z))``. ``km_ij`` is the
distance of the account to the centre of ``j``, so among the realignments
that reach the tolerance it picks the one that is most compact for the
workload it moves; the move penalty (km of extra distance one unit of moved
workload is worth) sets the trade-off. ``z`` (how far beyond the tolerance
the worst territory stays) is 0 whenever the tolerance can be reached; with
a disruption budget (``sum of moved first-metric share <= budget``) the
program instead finds the best balance the budget allows.

The pool has an account-territory pair per bordering territory of every
account (hundreds of thousands on 40,000 accounts), but few of them ever
pay. The program starts from the accounts on a border and adds the rest by
column generation: after each solve, every pool move whose reduced cost
(its cost less what the solution's prices make its account and its load
worth) is negative joins, until none is; that is the optimum over the
whole pool. The model lives on between those solves and each one restarts
from the last basis (kept primal feasible as accounts join), so the later
solves take a few pivots instead of a solve from scratch.

A vertex of this program has at most as many fractional (split) accounts
as there are load constraints (a few per territory). A small integer
program places them, every other account fixed, at the real tolerance
(the linear program aims a hair inside it); where a territory is still
outside, a second one also lets the marginal accounts of those
territories (cheapest other column by the solution's prices) choose again.
Both have a node limit, so a plan depends on its input only. Where a
territory is still outside, the *lumpy* split accounts (those holding more
of a territory's target than the margin between the two tolerances) are
fixed where most of each is and the linear program is solved again from its
basis, so smaller accounts take up the difference; then the placement again
(at most :data:`_FIX_ROUNDS` times, keeping the best placement). With
several metrics this is what brings a round within: on the sample's three
metrics one account holds 8.6% of a territory's revenue target. Where no
integer program solves, a split account goes where most of it is (home,
when that keeps a disruption budget).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from workbench.align._highs import hold_basis, run_highs, solve_milp
from workbench.errors import InputError
from workbench.geo import EARTH_RADIUS_KM

_FRACTION = 1e-6


@dataclass
class Transfer:
    """Result of :func:`transfer`: labels, the excess beyond the tolerance left, whether the LP solved, and its cost.

    ``objective`` is the cost of the program's (fractional) optimum over
    every account, before the split accounts are placed, in the distance's
    unit (``inf`` when it did not solve).
    """

    labels: np.ndarray
    excess: float
    solved: bool
    objective: float


def chord_cost_km(cost: np.ndarray) -> np.ndarray:
    """Great-circle km from a squared chord on the unit sphere (the default assignment cost)."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.sqrt(np.maximum(cost, 0)) / 2, 0, 1))


def transfer(current, shares, targets, tolerance, rows, territories, km, weight, *, penalty_km, movable, frozen,
             closed=None, budget=None, origin=None, base=None, pool=None, exact_tolerance=None,
             exact_budget=None) -> Transfer:
    """Solve the compact-realignment program once (see the module docstring).

    Parameters
    ----------
    current : (n,) int array
        Territory each account is in now.
    shares : (n, m) array
        Metric shares of each account (each column sums to 1).
    targets : (t,) array
        Target share per territory (0 for a closed one).
    tolerance : float
    rows, territories : (p,) int arrays
        Allowed moves: account ``rows[q]`` may go to ``territories[q]``.
    km : callable
        ``km(rows, territories) -> array`` distance of accounts to the
        territories' centres (any unit, as long as ``penalty_km`` uses it).
    weight : (n,) array
        Weight of each account in the distance and move cost.
    penalty_km : float
    movable : (n,) bool array
        False for locked accounts.
    frozen : (t,) bool array
        Territories that neither give nor take.
    closed : (t,) bool array, optional
        Territories that must end empty (their accounts need allowed moves).
    budget : float, optional
        Most share of the first metric that may move.
    origin : (n,) int array, optional
        Territory moves are counted against (default ``current``): after a
        first round, accounts already moved may move on or go back.
    base : (t, m) array, optional
        Load every territory holds besides these units (e.g. locked accounts
        kept as exceptions when the units are blocks).
    pool : (rows, territories) pair of int arrays, optional
        Every move allowed (``rows, territories`` are then the first ones
        tried). The program is solved over all of them by column
        generation: after each solve, the pool's moves whose reduced cost
        (their cost less what the solution's prices say their account and
        their load are worth) is negative join, until none is: the optimum
        over the whole pool while the program stays small.
    exact_tolerance : float, optional
        Tolerance of the integer program that places the split accounts
        (default ``tolerance``): the linear program may aim a hair inside
        the real tolerance, the integer one need not.
    exact_budget : float, optional
        Budget of that integer program (default ``budget``; only with
        ``budget``): the linear program may keep a little of the budget
        back, so that placing its split accounts at the tolerance can spend it.
    """
    origin = current if origin is None else origin
    n_t, n_m = len(targets), shares.shape[1]
    closed = np.zeros(n_t, dtype=bool) if closed is None else np.asarray(closed, dtype=bool)
    program = _Program(current, shares, targets, tolerance, km, weight, penalty_km, movable, frozen, closed, budget,
                       origin, base)
    rows, territories = program.allowed(rows, territories)
    labels = current.copy()
    if pool is not None:
        pool_rows, pool_terr = program.allowed(*pool)
        pool_key = pool_rows * n_t + pool_terr
    result = None
    for _ in range(_COLUMN_ROUNDS):
        if rows.size == 0 and (pool is None or pool_rows.size == 0):
            return Transfer(labels, _excess(labels, shares, targets, tolerance, frozen, base), True, 0.0)
        if rows.size == 0:  # nothing to start from: the whole pool
            rows, territories = pool_rows, pool_terr
        result = program.solve(rows, territories)
        if result is None or pool is None:
            break
        add = program.entering(result, pool_rows, pool_terr, np.isin(pool_key, rows * n_t + territories))
        if add.size == 0:
            break
        rows, territories = np.r_[rows, pool_rows[add]], np.r_[territories, pool_terr[add]]
    if result is None:
        return Transfer(labels, _excess(labels, shares, targets, tolerance, frozen, base), False, np.inf)
    x, fun = result
    objective = program.plan_cost(x)
    exact_tolerance = tolerance if exact_tolerance is None else exact_tolerance
    exact_budget = budget if exact_budget is None or budget is None else exact_budget
    p = program.last
    labels[p.active] = p.var_terr[_largest(x, p.account_index)]
    exact = program.integral(x, labels, exact_tolerance, exact_budget)
    left = np.inf if exact is None else _excess(exact, shares, targets, exact_tolerance, frozen, base)
    fixed_x = x
    for _ in range(_FIX_ROUNDS):  # still outside: fix the lumpy split accounts, let the others adjust, place again
        if left <= 0:
            break
        lumpy = program.lumpy_splits(fixed_x, exact_tolerance)
        again = None if lumpy.size == 0 else program.fix(lumpy, fixed_x)
        if again is None:
            break
        fixed_x, last = again[0], program.last
        trial = labels.copy()
        trial[last.active] = last.var_terr[_largest(fixed_x, last.account_index)]
        placed = program.integral(fixed_x, trial, exact_tolerance, exact_budget)
        after = np.inf if placed is None else _excess(placed, shares, targets, exact_tolerance, frozen, base)
        if after < left - 1e-15:  # the best placement so far
            exact, left = placed, after
    if exact is not None:
        labels = exact
    else:  # plain rounding of the first solve; with a budget, split accounts go home
        labels[p.active] = _round(x, p.account_index, p.var_terr, p.moves, len(p.active),
                                  keep_budget=budget is not None,
                                  fallback=np.where(closed[origin[p.active]], current[p.active], origin[p.active]),
                                  closed=closed)
    return Transfer(labels, _excess(labels, shares, targets, tolerance, frozen, base), True, objective)


#: Branch-and-bound nodes the integer programs placing split and marginal accounts may use (then their best so
#: far, or plain rounding): a work limit and no clock, so the same input gives the same plan on any machine.
_INTEGER_NODES = 50

#: Re-solves at most that fix the lumpy split accounts (see :meth:`_Program.lumpy_splits`) before the integer program.
_FIX_ROUNDS = 4

#: A split account is lumpy when its share of a territory's target, in some metric, exceeds this part of the
#: margin between the integer program's tolerance and the linear program's.
_LUMPY = 0.5

#: Marginal accounts per territory outside the tolerance that the second integer program may place again.
_MARGINAL = 20

#: Column-generation solves at most (each adds the pool's moves with a negative reduced cost).
_COLUMN_ROUNDS = 12

#: A move joins when its reduced cost is below minus this share of the mean cost of a variable.
_ENTER = 1e-7

#: Moves joining per solve at most: this many per territory (the most negative first).
_ENTER_PER_TERRITORY = 400

#: Tiers of every territory's slack beyond the tolerance (in shares of its target): widths and relative prices.
#: Convex (a tier's price is its middle: about the square of the excess), so the program evens out what it cannot bring within the tolerance:
#: with a budget too small for the tolerance it takes from the most overloaded territories first and fills the
#: emptiest first, instead of anywhere the worst (``z``) allows.
_TIER_ENDS = np.r_[0.01, 0.03, 0.05, np.arange(0.1, 1.0001, 0.05), 1.2 ** np.arange(1, 10)]  # then one open tier
_TIER_WIDTHS = np.r_[np.diff(np.r_[0.0, _TIER_ENDS]), np.inf]
_TIER_PRICES = np.r_[0.5 * (np.r_[0.0, _TIER_ENDS[:-1]] + _TIER_ENDS), 2 * _TIER_ENDS[-1]] / _TIER_ENDS[0]

#: A solve restarts from the last basis unless it adds more than this share of the model's columns.
_WARM = 0.2

#: HiGHS simplex strategies: dual for a solve from scratch, primal for a restart (the last basis stays
#: primal feasible as moves join, see :meth:`_Program._add`; the dual simplex would start from phase 1).
_COLD_SIMPLEX, _WARM_SIMPLEX = 1, 4


class _Program:
    """The program of :func:`transfer` over a set of moves: built, solved, and priced for column generation."""

    def __init__(self, current, shares, targets, tolerance, km, weight, penalty_km, movable, frozen, closed, budget,
                 origin, base):
        self.current, self.shares, self.km, self.weight = current, shares, km, weight
        self.penalty_km, self.movable, self.frozen, self.closed = penalty_km, movable, frozen, closed
        self.budget, self.origin = budget, origin
        n_t, n_m = len(targets), shares.shape[1]
        self.n_t, self.n_m = n_t, n_m
        self.extra = np.zeros((n_t, n_m)) if base is None else np.asarray(base, dtype=float)
        target = np.repeat(np.asarray(targets, float)[:, None], n_m, axis=1)
        self.low, self.high = target * (1 - tolerance), target * (1 + tolerance)
        self.target, self.tolerance = target, tolerance
        self.live = np.flatnonzero(~frozen)
        self.position = -np.ones(n_t, dtype=np.int64)
        self.position[self.live] = np.arange(len(self.live))
        self.scale = self.big = None
        self.model = None

    def allowed(self, rows, territories):
        """The moves of ``(rows, territories)`` the program may make (movable accounts, live open territories)."""
        rows, territories = np.asarray(rows, dtype=np.int64), np.asarray(territories, dtype=np.int64)
        ok = self.movable[rows] & ~self.frozen[self.current[rows]] & ~self.frozen[territories] \
            & ~self.closed[territories] & (territories != self.current[rows])
        return rows[ok], territories[ok]

    def _cost(self, var_rows, var_terr):
        """Objective coefficient of placing accounts ``var_rows`` in ``var_terr``, and whether each is a move."""
        moves = var_terr != self.origin[var_rows]
        dist = np.nan_to_num(np.asarray(self.km(var_rows, var_terr), dtype=float), nan=0.0, posinf=1e12)
        if self.scale is None:  # from every account's distance to its own centre: every solve prices alike
            own = np.asarray(self.km(np.arange(len(self.current)), self.current), dtype=float)
            own = np.nan_to_num(own, nan=0.0, posinf=1e12)
            self.scale = max(float(np.percentile(own, 90)), 1e-9) if own.size else 1.0
        # A hair of squared distance breaks ties towards the account nearest the receiving centre.
        cost = self.weight[var_rows] * (dist + self.penalty_km * moves + 1e-3 * dist ** 2 / self.scale) / self.scale
        return cost, moves

    def _matrices(self, var_rows, var_terr, placed, tiers=True):
        """The program over the columns ``(var_rows, var_terr)``; every other account stays in ``placed``.

        Returns the objective, the inequality and equality matrices and
        right-hand sides, and what rounding and pricing need of it.
        """
        shares, n_t, n_m = self.shares, self.n_t, self.n_m
        active = np.unique(var_rows)
        cost, moves = self._cost(var_rows, var_terr)
        n_v = len(var_rows)
        if self.big is None:
            self.big = 1e3 * max(float(cost.sum()), 1e-9) * n_t + 1e3
        big = self.big
        # Loads of the accounts that stay put, per territory and metric.
        fixed_rows = np.setdiff1d(np.arange(len(placed)), active)
        base = self.extra + np.stack([np.bincount(placed[fixed_rows], weights=shares[fixed_rows, m], minlength=n_t)
                                      for m in range(n_m)], axis=1)
        live, position, target, low, high = self.live, self.position, self.target, self.low, self.high
        # Load rows: one per (live territory, metric), built as a sparse (t*m, n_v) matrix.
        keep = position[var_terr] >= 0
        cols = np.flatnonzero(keep)
        blocks_ = []
        for m in range(n_m):
            blocks_.append(sparse.csr_matrix((shares[var_rows[cols], m], (position[var_terr[cols]], cols)),
                                             shape=(len(live), n_v)))
        load = sparse.vstack(blocks_).tocsr()
        t_flat = np.concatenate([target[live, m] for m in range(n_m)])
        n_u = len(t_flat)
        # Slack u per territory and metric (beyond the tolerance, in shares of its target), all at most z:
        # the program first minimises the worst (z), then every territory's own (sum u), then the moves.
        # Each u is the sum of its tiers (:data:`_TIER_WIDTHS`), priced ever higher.
        widths, prices = (_TIER_WIDTHS, _TIER_PRICES) if tiers else (np.array([np.inf]), _TIER_PRICES[-1:])
        n_s = len(widths)
        slack = sparse.hstack([sparse.diags(-t_flat, format="csr")] * n_s)
        zeros = sparse.csr_matrix((n_u, 1))
        a_ub = [sparse.hstack([load, slack, zeros]), sparse.hstack([-load, slack, zeros]),
                sparse.hstack([sparse.csr_matrix((n_u, n_v)), sparse.hstack([sparse.identity(n_u, format="csr")] * n_s),
                               sparse.csr_matrix(-np.ones((n_u, 1)))])]
        b_ub = [np.concatenate([high[live, m] - base[live, m] for m in range(n_m)]),
                np.concatenate([base[live, m] - low[live, m] for m in range(n_m)]), np.zeros(n_u)]
        if self.budget is not None:
            a_ub.append(sparse.csr_matrix(np.r_[shares[var_rows, 0] * moves, np.zeros(n_u * n_s + 1)][None, :]))
            fixed_rows_moved = np.setdiff1d(np.flatnonzero(placed != self.origin), active)
            spent = float(shares[fixed_rows_moved, 0].sum())
            b_ub.append(np.array([max(float(self.budget), _forced(self.origin, shares, self.closed, self.movable))
                                  - spent]))
        account_index = np.searchsorted(active, var_rows)
        a_eq = sparse.csr_matrix((np.ones(n_v), (account_index, np.arange(n_v))),
                                 shape=(len(active), n_v + n_u * n_s + 1))
        objective = np.r_[cost, _tier_costs(big, n_u, prices), big]
        self.slack_upper = np.r_[np.repeat(widths, n_u), np.inf]
        solved = _Solved(active, account_index, var_rows, var_terr, moves, n_u, None, None)
        return objective, sparse.vstack(a_ub).tocsr(), np.concatenate(b_ub), a_eq, np.ones(len(active)), solved

    def solve(self, rows, territories):
        """Solve over the moves ``(rows, territories)`` (plus staying); ``(x, objective)`` or None.

        The program lives on between the solves of one :func:`transfer`
        (a HiGHS model, :mod:`highspy`): each solve adds only the moves not
        in it yet (with the staying column and the placement row of every
        account new to it), updates the load rows' bounds for the accounts
        that left the fixed part, and restarts the simplex from the last
        basis, so column generation costs a few pivots per round instead of
        a solve from scratch. ``x`` is in the order of the model's columns
        (``self.last.var_rows``, ``self.last.var_terr``).
        """
        if self.model is None:
            self._start()
        key = np.asarray(rows, dtype=np.int64) * self.n_t + np.asarray(territories, dtype=np.int64)
        key = np.unique(key)
        new = key[~np.isin(key, self.keys)] if self.keys.size else key
        h = self.model
        warm = new.size <= _WARM * len(self.keys)
        if not warm:  # many new columns: a fresh solve (with presolve) is faster than a restart
            h.clearSolver()
        h.setOptionValue("simplex_strategy", _WARM_SIMPLEX if warm else _COLD_SIMPLEX)
        if new.size:
            self._add(new // self.n_t, new % self.n_t, warm=warm)
        run_highs(h)
        if warm and h.getModelStatus() != _optimal():  # a restart in numerical trouble: once from scratch
            h.clearSolver()
            h.setOptionValue("simplex_strategy", _COLD_SIMPLEX)
            run_highs(h)
        if h.getModelStatus() != _optimal():
            return None
        return self._read()

    def _read(self):
        """``(x, objective)`` of the model's last run, with what rounding and pricing need in ``self.last``."""
        h = self.model
        solution = h.getSolution()
        col = np.asarray(solution.col_value)
        duals = np.asarray(solution.row_dual)
        n_s = self.n_slack
        order = np.argsort(self.accounts, kind="stable")
        active = self.accounts[order]
        var_rows, var_terr = self.var_rows, self.var_terr
        solved = _Solved(active, np.searchsorted(active, var_rows), var_rows, var_terr,
                         var_terr != self.origin[var_rows], self.n_u, duals[:self.n_ub],
                         duals[self.n_ub:][order])
        self.last = solved
        self.z = float(col[n_s - 1])  # the worst excess beyond the tolerance (0 when it is reached)
        return col[n_s:], float(h.getInfo().objective_function_value)

    def lumpy_splits(self, x, tolerance):
        """Accounts the last solve split whose placement could break a band: (k,) int array of account rows.

        A split account is lumpy when, in some metric, it holds more than
        :data:`_LUMPY` times the margin between ``tolerance`` (the integer
        program's) and the linear program's own, as a share of the target of
        the territory holding most of it: rounding it alone may use up that
        margin. Small split accounts round within it.
        """
        p = self.last
        largest = np.zeros(len(p.active))
        np.maximum.at(largest, p.account_index, x)
        split = np.flatnonzero(largest < 1 - _FRACTION)
        if split.size == 0:
            return split
        where = p.var_terr[_largest(x, p.account_index)][split]
        rows = p.active[split]
        margin = max(tolerance - self.tolerance, 0.0) * self.target[where]
        lumpy = (self.shares[rows] > _LUMPY * margin).any(axis=1)
        return rows[lumpy]

    def fix(self, accounts, x):
        """Re-solve with ``accounts`` fixed in the column holding most of each: ``(x, objective)`` or None.

        Their other columns get an upper bound of 0 and the simplex restarts
        from the last basis (still dual feasible), so the other accounts
        take up what rounding these changed. No column joins.
        """
        p = self.last
        best = _largest(x, p.account_index)
        mine = np.isin(p.var_rows, accounts)
        mine[best] = False
        cols = (self.n_slack + np.flatnonzero(mine)).astype(np.int32)
        h = self.model
        h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.zeros(len(cols)))
        h.setOptionValue("simplex_strategy", _COLD_SIMPLEX)
        run_highs(h)
        if h.getModelStatus() != _optimal():
            return None
        return self._read()

    def _start(self):
        """An empty model: the load, slack and budget rows and the slack columns (no account yet)."""
        import highspy

        from workbench.align._highs import quiet_highs

        h = quiet_highs()
        n_m, live = self.n_m, self.live
        n_u = len(live) * n_m
        t_flat = np.concatenate([self.target[live, m] for m in range(n_m)])
        n_ub = 3 * n_u + (1 if self.budget is not None else 0)
        inf = highspy.kHighsInf
        h.addRows(n_ub, np.full(n_ub, -inf), np.zeros(n_ub), 0, np.zeros(0, np.int32), np.zeros(0, np.int32),
                  np.zeros(0))
        # Slack u_k (beyond the tolerance, in shares of its target) in both load rows of k and in u_k - z <= 0,
        # as tiers (:data:`_TIER_WIDTHS`), tier after tier; then z in every u_k - z row.
        n_s = len(_TIER_WIDTHS)
        k = np.tile(np.arange(n_u), n_s)
        t_k = np.tile(t_flat, n_s)
        idx = np.r_[np.c_[k, n_u + k, 2 * n_u + k].ravel(), 2 * n_u + np.arange(n_u)].astype(np.int32)
        val = np.r_[np.c_[-t_k, -t_k, np.ones(k.size)].ravel(), -np.ones(n_u)]
        starts = np.r_[3 * np.arange(k.size), 3 * k.size].astype(np.int32)
        self.n_u, self.n_ub, self.n_slack, self.t_flat = n_u, n_ub, k.size + 1, t_flat
        self.slack_cost = None  # set with the first accounts (from their cost)
        self._slack = (starts, idx, val)
        self.model = h
        self.keys = np.zeros(0, dtype=np.int64)
        self.var_rows = self.var_terr = np.zeros(0, dtype=np.int64)
        self.accounts = np.zeros(0, dtype=np.int64)
        self.in_model = np.zeros(len(self.current), dtype=bool)
        self.eq_row = np.full(len(self.current), -1, dtype=np.int64)  # each account's placement row

    def _add(self, rows, territories, warm=False):
        """Add the moves ``(rows, territories)`` (new to the model), with staying columns for new accounts."""
        import highspy

        h, n_t, n_m, n_u = self.model, self.n_t, self.n_m, self.n_u
        fresh = np.unique(rows[~self.in_model[rows]])
        stay = fresh[~self.closed[self.current[fresh]]]
        rows = np.r_[rows, stay].astype(np.int64)
        territories = np.r_[territories, self.current[stay]].astype(np.int64)
        # One placement row (sum of the account's columns = 1) per account new to the model.
        first_row = self.n_ub + len(self.accounts)
        h.addRows(len(fresh), np.ones(len(fresh)), np.ones(len(fresh)), 0, np.zeros(0, np.int32),
                  np.zeros(0, np.int32), np.zeros(0))
        self.eq_row[fresh] = first_row + np.arange(len(fresh))
        self.accounts = np.r_[self.accounts, fresh]
        self.in_model[fresh] = True
        cost, moves = self._cost(rows, territories)
        if self.slack_cost is None:  # the slack's price, from the first columns' cost (every solve prices alike)
            self.big = 1e3 * max(float(cost.sum()), 1e-9) * n_t + 1e3
            self.slack_cost = np.r_[_tier_costs(self.big, n_u), self.big]
            starts, idx, val = self._slack
            inf = highspy.kHighsInf
            n_s = self.n_slack
            h.addCols(n_s, self.slack_cost, np.zeros(n_s), np.r_[np.repeat(np.minimum(_TIER_WIDTHS, inf), n_u), inf],
                      len(idx), starts, idx, val)
        # Entries of each new column: its load in the high and low rows of its territory, per metric; the budget
        # row when it is a move; its account's placement row.
        n_v, n_live = len(rows), len(self.live)
        pos = self.position[territories]
        entries_row, entries_val, entries_col = [], [], []
        for m in range(n_m):
            ok = np.flatnonzero(pos >= 0)
            share = self.shares[rows[ok], m]
            entries_col += [ok, ok]
            entries_row += [m * n_live + pos[ok], n_u + m * n_live + pos[ok]]
            entries_val += [share, -share]
        if self.budget is not None:
            mv = np.flatnonzero(moves)
            entries_col.append(mv)
            entries_row.append(np.full(mv.size, 3 * n_u))
            entries_val.append(self.shares[rows[mv], 0])
        entries_col.append(np.arange(n_v))
        entries_row.append(self.eq_row[rows])
        entries_val.append(np.ones(n_v))
        c, r, v = np.concatenate(entries_col), np.concatenate(entries_row), np.concatenate(entries_val)
        order = np.lexsort((r, c))
        c, r, v = c[order], r[order], v[order]
        starts = np.searchsorted(c, np.arange(n_v)).astype(np.int32)
        h.addCols(n_v, cost, np.zeros(n_v), np.full(n_v, highspy.kHighsInf), len(r), starts, r.astype(np.int32), v)
        self.var_rows, self.var_terr = np.r_[self.var_rows, rows], np.r_[self.var_terr, territories]
        self.keys = np.sort(np.r_[self.keys, rows * n_t + territories])
        # Load of the accounts not (yet) in the model, per territory and metric: the load rows' bounds.
        fixed = np.flatnonzero(~self.in_model)
        base = self.extra + np.stack([np.bincount(self.current[fixed], weights=self.shares[fixed, m], minlength=n_t)
                                      for m in range(n_m)], axis=1)
        live = self.live
        upper = np.r_[np.concatenate([self.high[live, m] - base[live, m] for m in range(n_m)]),
                      np.concatenate([base[live, m] - self.low[live, m] for m in range(n_m)])]
        index = np.arange(2 * n_u)
        if self.budget is not None:
            moved_fixed = fixed[self.current[fixed] != self.origin[fixed]]
            spent = float(self.shares[moved_fixed, 0].sum())
            upper = np.r_[upper, max(float(self.budget), _forced(self.origin, self.shares, self.closed, self.movable))
                          - spent]
            index = np.r_[index, 3 * n_u]
        h.changeRowsBounds(len(index), index.astype(np.int32), np.full(len(index), -highspy.kHighsInf), upper)
        if warm and stay.size:
            # Keep the last basis primal feasible: a new account's staying column is basic (at 1, the load it
            # adds is what left the rows' bounds) and its placement row at its bound.
            first_col = self.n_slack + len(self.var_rows) - len(stay)
            hold_basis(h, range(first_col, first_col + len(stay)), self.eq_row[stay])

    def plan_cost(self, x):
        """Cost of the last solve's (fractional) plan over every account, in the distance's unit (no slack)."""
        p = self.last
        cost, _ = self._cost(p.var_rows, p.var_terr)
        fixed = np.setdiff1d(np.arange(len(self.current)), p.active)
        stay, _ = self._cost(fixed, self.current[fixed])
        return float(((cost * x).sum() + stay.sum()) * self.scale)

    def integral(self, x, labels, tolerance, budget=None):
        """Labels with the last solve's split accounts placed by a small integer program (None if it fails).

        ``labels`` has every other account where the solve put it. The
        split accounts (at most as many as there are load rows) choose
        among their columns of the last solve, with the same costs and slack
        beyond ``tolerance``. When that leaves a territory outside, a second
        program also lets the marginal accounts of those territories choose
        again (the :data:`_MARGINAL` accounts per territory whose other
        column is cheapest by the solution's prices, see :meth:`reduced`).
        ``budget`` replaces the disruption budget in both (default the
        linear program's).
        """
        kept, self.budget = self.budget, self.budget if budget is None else budget
        try:
            return self._integral(x, labels, tolerance)
        finally:
            self.budget = kept

    def _integral(self, x, labels, tolerance):
        """:meth:`integral` at the budget in force."""
        p = self.last
        largest = np.zeros(len(p.active))
        np.maximum.at(largest, p.account_index, x)
        split = largest < 1 - _FRACTION
        best = labels if not split.any() else self._place(p.active[split], labels, tolerance)
        if best is None:
            return None
        outside = self._outside(best, tolerance)
        if not outside.any():
            return best
        # Marginal accounts: a column into or out of an outside territory at the smallest reduced cost.
        reduced = self.reduced(p.var_rows, p.var_terr)
        chosen = best[p.var_rows] == p.var_terr
        touches = (outside[p.var_terr] | outside[best[p.var_rows]]) & ~chosen
        cols = np.flatnonzero(touches)
        side = np.where(outside[p.var_terr[cols]], p.var_terr[cols], best[p.var_rows[cols]])
        order = cols[np.lexsort((reduced[cols], side))]
        side = np.where(outside[p.var_terr[order]], p.var_terr[order], best[p.var_rows[order]])
        rank = np.arange(order.size) - np.searchsorted(side, side)
        marginal = np.unique(np.r_[p.var_rows[order[rank < _MARGINAL]], p.active[split]])
        wider = self._place(marginal, best, tolerance)
        if wider is None:
            return best
        before = _excess(best, self.shares, self.target[:, 0], tolerance, self.frozen, self.extra)
        after = _excess(wider, self.shares, self.target[:, 0], tolerance, self.frozen, self.extra)
        return wider if after < before - 1e-15 else best

    def _outside(self, labels, tolerance):
        """(t,) bool: live territories outside ``tolerance`` on some metric."""
        load = self.extra + np.stack([np.bincount(labels, weights=self.shares[:, m], minlength=self.n_t)
                                      for m in range(self.n_m)], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.where(self.target > 0, np.abs(load / np.where(self.target > 0, self.target, 1) - 1),
                           np.where(load > 1e-15, np.inf, 0.0))
        return (dev > tolerance + 1e-12).any(axis=1) & ~self.frozen

    def _place(self, accounts, labels, tolerance):
        """``labels`` with ``accounts`` placed by an integer program over their columns of the last solve."""
        p = self.last
        cols = np.flatnonzero(np.isin(p.var_rows, accounts))
        var_rows, var_terr = p.var_rows[cols], p.var_terr[cols]
        inside = self.low, self.high
        self.low, self.high = self.target * (1 - tolerance), self.target * (1 + tolerance)
        try:
            # The slack's tiers only where the program could not reach the tolerance, even at this integer
            # program's (it aimed inside): they even out what is left outside it; otherwise one tier, and an
            # integer program a tenth the size.
            tiers = self.z > max(tolerance - self.tolerance, 0.0) + 1e-9
            objective, a_ub, b_ub, a_eq, b_eq, _ = self._matrices(var_rows, var_terr, labels, tiers=tiers)
        finally:
            self.low, self.high = inside
        n_v = len(var_rows)
        integrality = np.r_[np.ones(n_v), np.zeros(len(objective) - n_v)]
        upper = np.r_[np.ones(n_v), self.slack_upper]
        matrix = sparse.vstack([sparse.csr_matrix(a_ub), sparse.csr_matrix(a_eq)], format="csr")
        b_ub, b_eq = np.asarray(b_ub, dtype=float), np.asarray(b_eq, dtype=float)
        x = solve_milp(objective, matrix, np.r_[np.full(len(b_ub), -np.inf), b_eq], np.r_[b_ub, b_eq], upper,
                       _INTEGER_NODES, integer=integrality > 0, presolve=False)
        if x is None:
            return None
        out = labels.copy()
        chosen = x[:n_v] > 0.5
        out[var_rows[chosen]] = var_terr[chosen]
        return out

    def reduced(self, rows, terr):
        """Reduced cost of placing accounts ``rows`` in ``terr`` at the last solve's prices (0 or more at its optimum)."""
        p = self.last
        n_live, n_m, n_u = len(self.live), self.n_m, p.n_u
        dual_high, dual_low = p.ineq[:n_u], p.ineq[n_u:2 * n_u]
        # Price of one unit of load (per territory and metric) in the solution; 0 for frozen territories.
        price = np.zeros((self.n_t, n_m))
        price[self.live] = (dual_high - dual_low).reshape(n_m, n_live).T
        budget_price = p.ineq[3 * n_u] if self.budget is not None else 0.0

        def column_price(rows, terr, moves):
            value = (self.shares[rows] * price[terr]).sum(axis=1)
            return value + (budget_price * self.shares[rows, 0] * moves if self.budget is not None else 0.0)

        cost, moves = self._cost(rows, terr)
        # What the account is worth: its row's price when it is in the program, else its staying column's.
        account = np.empty(len(rows))
        slot = np.searchsorted(p.active, rows)
        inside = (slot < len(p.active)) & (p.active[np.minimum(slot, len(p.active) - 1)] == rows)
        account[inside] = p.eq[slot[inside]]
        out = np.flatnonzero(~inside)
        if out.size:
            home = self.current[rows[out]]
            stay_cost, stay_moves = self._cost(rows[out], home)
            account[out] = stay_cost - column_price(rows[out], home, stay_moves)
        return cost - account - column_price(rows, terr, moves)

    def entering(self, solved, pool_rows, pool_terr, present):
        """Positions in the pool of the moves to add: negative reduced cost, the most negative per territory first."""
        candidates = np.flatnonzero(~present)
        if candidates.size == 0:
            return candidates
        rows, terr = pool_rows[candidates], pool_terr[candidates]
        cost, _ = self._cost(rows, terr)
        reduced = self.reduced(rows, terr)
        threshold = -_ENTER * max(float(np.abs(cost).mean()), 1e-12)
        negative = np.flatnonzero(reduced < threshold)
        if negative.size == 0:
            return negative
        order = negative[np.lexsort((reduced[negative], terr[negative]))]
        rank = np.arange(order.size) - np.searchsorted(terr[order], terr[order])
        return candidates[order[rank < _ENTER_PER_TERRITORY]]


def _tier_costs(big, n_u, prices=None):
    """Objective coefficients of the slack tiers, tier after tier (``n_u`` each): all together below ``big`` (z's)."""
    prices = _TIER_PRICES if prices is None else prices
    base = big / (10.0 * n_u * _TIER_PRICES[-1])
    return np.repeat(base * prices, n_u)


def _optimal():
    """HiGHS's status of a solved program."""
    import highspy

    return highspy.HighsModelStatus.kOptimal


@dataclass
class _Solved:
    """What :meth:`_Program.solve` keeps of its last solve for rounding and pricing."""

    active: np.ndarray
    account_index: np.ndarray
    var_rows: np.ndarray
    var_terr: np.ndarray
    moves: np.ndarray
    n_u: int
    ineq: np.ndarray
    eq: np.ndarray


def _largest(x, account_index):
    """Position of each account's largest column (accounts in the order of ``account_index``)."""
    order = np.lexsort((-x, account_index))
    first = np.r_[True, account_index[order][1:] != account_index[order][:-1]]
    return order[first]


def _round(x, account_index, var_terr, moves, n_active, *, keep_budget, fallback, closed):
    """Territory per active account: where most of it is; with a budget, split accounts go home (``fallback``)."""
    order = np.lexsort((-x, account_index))
    first = np.r_[True, account_index[order][1:] != account_index[order][:-1]]
    best = order[first]
    chosen = var_terr[best].copy()
    if keep_budget:
        split = (x[best] < 1 - _FRACTION) & moves[best] & ~closed[fallback]
        chosen[split] = fallback[split]
    return chosen


def _forced(current, shares, closed, movable) -> float:
    """Share of the first metric that must move because its territory closes."""
    return float(shares[closed[current] & movable, 0].sum())


def _excess(labels, shares, targets, tolerance, frozen, base=None) -> float:
    """Largest deviation beyond ``tolerance`` of any live territory and metric (0 when within)."""
    n_t = len(targets)
    load = np.stack([np.bincount(labels, weights=shares[:, m], minlength=n_t) for m in range(shares.shape[1])], 1)
    if base is not None:
        load = load + base
    target = np.asarray(targets, float).reshape(n_t, -1)  # per territory, or (territory, metric)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(target > 0, np.abs(load / np.where(target > 0, target, 1) - 1), np.where(load > 1e-15, np.inf, 0))
    dev = dev[~frozen]
    return float(max(dev.max() - tolerance, 0.0)) if dev.size else 0.0


def check_budget(budget):
    """A disruption budget (``max_moved_share``) as a float share, or None."""
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.floating)) or not 0 < budget <= 1:
        raise InputError(f"max_moved_share (CLI: --max-moved) must be a share of the workload in (0, 1] (0.1 = 10%), "
                         f"got {budget!r}")
    return float(budget)


def check_closures_within_budget(budget, shares, closing, closed_ids, basis):
    """Refuse a disruption budget that the closures alone overspend (every account of a closed territory moves).

    ``shares`` is the first balanced metric's share per account, ``closing``
    a mask of the accounts whose territory closes, ``closed_ids`` those
    territories and ``basis`` the metric's name. Checked before the fit, so
    no plan moving more than the budget is ever made.

    Examples
    --------
    >>> check_closures_within_budget(0.05, np.array([0.5, 0.3, 0.2]), np.array([False, False, True]), ["B"], "calls")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: max_moved_share (CLI: --max-moved) 5.0% cannot be kept: closing B alone moves 20.0% of calls (every account of a closed territory moves); raise the budget to at least 20.0%, close fewer territories (close= / --close, n_territories= / --territories), or drop the budget
    """
    if budget is None or not np.any(closing):
        return
    forced = float(np.asarray(shares, dtype=float)[np.asarray(closing, dtype=bool)].sum())
    if forced <= budget + 1e-12:
        return
    raise InputError(f"max_moved_share (CLI: --max-moved) {budget:.1%} cannot be kept: closing "
                     f"{', '.join(map(str, closed_ids))} alone moves {forced:.1%} of {basis} (every account of a "
                     f"closed territory moves); raise the budget to at least {forced:.1%}, close fewer territories "
                     "(close= / --close, n_territories= / --territories), or drop the budget")


def check_penalty(penalty):
    """A move penalty (``move_penalty_km``) as a float distance, or None."""
    if penalty is None:
        return None
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float, np.floating)) or not np.isfinite(penalty) \
            or penalty < 0:
        raise InputError(f"move_penalty_km (CLI: --move-penalty-km) must be a distance in km, 0 or more, got {penalty!r}")
    return float(penalty)
