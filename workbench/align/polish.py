"""Greenfield polish: exact balanced assignment to the nearest centres, alternated with re-centring.

:func:`exact_assignment` solves, for fixed centres, the balanced assignment
exactly: every account goes to one of its ``n_candidates`` nearest centres,
every territory's load stays within the tolerance on every metric, and the
workload-weighted great-circle distance to the centres is as small as it
can be. It is a linear program (a min-cost flow when one metric is
balanced) solved by HiGHS (:class:`_Program`, warm-started) with **column generation**, so that only
the accounts near a border enter it:

1. territory prices (the program's duals: estimated by a few dual-ascent
   steps on the first round, the last round's afterwards, a warm start)
   price every candidate; an account whose current territory is its
   cheapest priced option, with no other within ``MARGIN_KM``, stays there
   and out of the program (the others enter with their current territory
   and every option within the margin);
2. the program over the rest (elastic: a steep cost on any load beyond the
   bounds keeps it feasible) gives new prices; any left-out option that now
   prices below its account's cost enters, and the program is solved again
   until none does (or the Lagrangian bound shows the whole program can be
   at most ``GAP`` better). The result is then optimal for the full program
   over every account and candidate, not only for the part solved.

The program keeps every territory within ``LP_SHARE`` of the tolerance (or
within its load in the plan given, where that is farther out but within the
tolerance, so that plan is always a solution). A
vertex splits at most about one account per binding load bound; each goes
where most of it is, and where that pushes a territory out of the tolerance
the cheapest single moves of border accounts bring it back.

:func:`polish_alignment` alternates it with re-centring (weighted spherical
means, the centres compactness is measured from) until a round gains less
than ``MIN_GAIN``; it is the last step of
:class:`~workbench.align.balanced.BalancedTerritories` (see its
``exact_polish``). It never returns a less compact plan than it was given,
nor one outside the tolerance, and it uses no randomness.
"""

from __future__ import annotations

import numpy as np

from workbench.align._highs import hold_basis, run_highs
from workbench.align.base import Distance, unit_centres
from workbench.geo import chord_to_km

#: Nearest centres an account may be assigned to: a balanced optimum sends an account past its 4th-nearest
#: centre only in the thinnest corridors (measured: 8 candidates gave the same plan to 0.01% on 20,000 x 40).
N_POLISH_CANDIDATES = 5
#: An account enters the program when another candidate prices within this many km of its cheapest one
#: (per unit of workload). Smaller is a smaller program but more column-generation solves; exactness does not
#: depend on it.
MARGIN_KM = 4.0
#: The program keeps every territory within this share of the tolerance, so that rounding the few split
#: accounts rarely pushes one out (at 99.5%, heavy split accounts left no single move that could fix it).
LP_SHARE = 0.95
#: Over-relaxation of the re-centring (1: plain means). Alternating assignment and means creeps towards its
#: fixed point, often by less than 0.1% a round for several rounds before larger gains; aiming 1.5x as far as
#: the means moved got as far in 7 rounds as plain means in 10 (20,000 x 40); 2x overshot.
RELAX = 1.5
#: Polish rounds stop when one gains less than this share of the compactness (0.1% stopped after 3 rounds of
#: 10 that together gained 1%).
MIN_GAIN = 1e-4
#: Most polish rounds (each: one exact assignment and a re-centring).
MAX_ROUNDS = 12
#: Dual-ascent steps of the first round's price estimate (each: one vectorised pass over the candidates).
WARM_ROUNDS = 40
#: Single moves the repair after rounding may make (it needs a handful: about one per split account).
MAX_REPAIR_MOVES = 500
#: ``exact_polish="auto"`` polishes inputs of up to this many accounts (above, not at all: the 1,000,000 x 500
#: fit has to stay within the time of one k-means fit).
POLISH_MAX_ACCOUNTS = 250_000
#: Account-rounds the default polish spends: ``MAX_ROUNDS`` up to ~16,000 accounts, 10 on 20,000 (enough to
#: converge there), 2 on 100,000 (a round costs about 0.5 CPU seconds per 100,000 accounts; the whole CLI
#: process on 100,000 x 100 has to stay within 2x a k-means process).
ROUND_BUDGET = 200_000
#: Split-and-merge trials of the default greenfield fit (:func:`split_merge_trials`): account-trials spent
#: (8 on 20,000 accounts, where the 3rd of them found a plan 2.1% more compact than the fixed point the polish
#: had reached; each trial costs about one fit), ...
SEARCH_BUDGET = 160_000
#: ... at most this many trials (on small inputs a trial's dozen small programs cost ~0.3 s: 8 trials add ~2.5 s
#: to a 0.15 s fit of 3,000 accounts) ...
MAX_TRIALS = 8
#: ... and none above this many accounts (a trial costs about a whole fit: the CLI process on 100,000 x 100 has
#: to stay within 2x a k-means process).
SEARCH_MAX_ACCOUNTS = 50_000
#: Margin (a share of the target) between a load bound widened to hold the plan given and that plan's load: more
#: than HiGHS's feasibility tolerance (1e-7), so that the plan does not sit on the bound.
_HAIR = 1e-6
#: HiGHS's simplex strategies: the dual for a solve from scratch, the primal for a restart from the last basis
#: (still primal feasible when the options that entered start at 0, see :meth:`_Program._keep_feasible`).
_COLD_SIMPLEX, _WARM_SIMPLEX = 1, 4
#: Column generation stops when the full program can be at most this share better than the part solved.
GAP = 1e-4
#: Column-generation solves per exact assignment before the best plan so far is taken.
MAX_SOLVES = 12


def exact_assignment(dist: Distance, shares, centres, targets, tolerance, labels, *, fixed=None,
                     n_candidates=N_POLISH_CANDIDATES, prices=None, margin_km=MARGIN_KM):
    """Most compact assignment of the accounts to fixed ``centres`` within the tolerance.

    Parameters
    ----------
    dist : Distance
    shares : (n, m) array
        Metric shares of each account (columns sum to 1).
    centres : (t, 3) array
        Unit-sphere centres.
    targets : (t,) array
        Target share per territory.
    tolerance : float
    labels : (n,) int array
        A plan within the tolerance, returned unchanged when no better
        integral plan is found.
    fixed : (n,) int array, optional
        Territory of accounts that must stay (-1 for free ones).
    prices : (t, m) array, optional
        Territory prices of an earlier solve (warm start).

    Returns
    -------
    labels : (n,) int array
    prices : (t, m) array
        The program's prices (duals of the load bounds, in km per unit of
        workload) for the next call.
    """
    n, n_m = shares.shape
    n_t = len(targets)
    weight = shares.mean(axis=1)
    fixed = np.full(n, -1) if fixed is None else fixed
    movable = fixed < 0
    cand, cost = _candidates_with_own(dist, centres, labels, min(n_candidates, n_t))
    km = _km(dist, cost)
    # Load coefficients in shares of each territory's target: a[i, c, m] = shares[i, m] / targets[cand[i, c]].
    coef = shares[:, None, :] / np.asarray(targets, float)[cand][:, :, None]
    unit = weight / max(weight.sum(), 1e-300)
    price = _warm_prices(unit, km, coef, cand, movable, n_t) if prices is None else np.asarray(prices, float)
    big = 1e3 * max(float((unit[:, None] * km).sum()), 1.0)
    # Bounds: LP_SHARE of the tolerance, widened per territory to hold the plan given (when that is within the
    # tolerance), so that the plan itself is a solution: the round after a rounding that left a territory at
    # 99.9% of the tolerance no longer starts elastic (a steep slack cost made its prices huge and the next solve
    # three times as large).
    given = np.stack([np.bincount(labels, weights=shares[:, m], minlength=n_t) for m in range(n_m)], 1)
    given = given / np.asarray(targets, float)[:, None] - 1
    inside = np.abs(given) <= tolerance
    lp_tol = tolerance * LP_SHARE
    # A hair beyond the plan's own load: a bound the plan sits on exactly is degenerate, and the dual simplex may
    # then price it anywhere up to the slack's steep cost (the next round's warm-start prices).
    lp_tol = (np.where(inside, np.minimum(given - _HAIR, -lp_tol), -lp_tol),
              np.where(inside, np.maximum(given + _HAIR, lp_tol), lp_tol))
    q = _priced(unit, km, coef, cand, price)
    # Every account's own option is in the program: the plan given is (nearly) feasible from the first solve.
    select = (q <= q.min(axis=1, keepdims=True) + unit[:, None] * margin_km) | (cand == labels[:, None])
    pinned = ~movable  # pinned accounts are in no option: their load is fixed
    select[pinned] = False
    pinned_rows = np.flatnonzero(pinned)
    base = np.zeros((n_t, n_m))
    for m in range(n_m):
        base[:, m] = np.bincount(fixed[pinned_rows], weights=shares[pinned_rows, m], minlength=n_t) / targets
    solved = column_generation(select, movable, unit, km, coef, cand, base, lp_tol, big)
    if solved is None:
        return labels, price
    x, price, _, select = solved
    out = labels.copy()
    out[movable] = cand[movable, np.argmax(np.where(select, x, -1.0), axis=1)[movable]]
    if not _within(out, shares, targets, tolerance * 0.999):
        # Rounding the few split accounts left a territory out: cheapest single moves among the border accounts.
        out = _round_repair(out, np.flatnonzero(movable & (select.sum(axis=1) >= 2)), shares, targets,
                            tolerance * 0.999, cand, unit[:, None] * km)
        if out is None:
            return labels, price
    return out, price


def column_generation(select, movable, unit, km, coef, cand, base, tol, big, *, max_solves=MAX_SOLVES, gap=GAP):
    """Solve the balanced-assignment program over the ``select``-ed options, adding options that price below
    their account's cost until none does (or the Lagrangian gap is below ``gap``).

    ``tol`` is the largest deviation of a load from its target (a share),
    or a pair ``(low, high)`` of (t, m) arrays of the deviations allowed
    below (negative) and above each target.

    Returns ``(x, prices, objective, select)`` (``x`` is (n, k), 0 off the
    final selection) or None when HiGHS fails. The objective is that of the
    full program over every movable account's candidates (to ``gap``).
    """
    solved = None
    program = _Program(unit, km, coef, cand, base, tol, big)
    for _ in range(max_solves):
        solved = program.solve(select)
        if solved is None:
            return None
        x, price, u, objective, q = solved
        short = np.where(movable[:, None] & ~select, q - u[:, None], 0.0)
        enter = short < -1e-12 * (1 + np.abs(u[:, None]))
        # Lagrangian bound: the full program's optimum is at least objective + the sum of each account's most
        # negative reduced cost; stop when that gap is a negligible share of the objective.
        if not enter.any() or -short.min(axis=1).sum() <= gap * abs(objective):
            break
        select = select | enter
    return x, price, objective, select


def default_rounds(n_accounts: int) -> int:
    """Polish rounds of ``exact_polish="auto"`` for ``n_accounts`` accounts (0 above ``POLISH_MAX_ACCOUNTS``).

    Examples
    --------
    >>> default_rounds(20_000), default_rounds(100_000), default_rounds(1_000_000)
    (10, 2, 0)
    """
    if n_accounts > POLISH_MAX_ACCOUNTS:
        return 0
    return int(np.clip(ROUND_BUDGET // max(n_accounts, 1), 1, MAX_ROUNDS))


def split_merge_trials(n_accounts: int, n_territories: int) -> int:
    """Split-and-merge trials of the default greenfield fit (:class:`~workbench.align.balanced.BalancedTerritories`)
    for ``n_accounts`` accounts: ``SEARCH_BUDGET / n_accounts`` (at most ``MAX_TRIALS``), none above
    ``SEARCH_MAX_ACCOUNTS`` or below 3 territories. The rule depends on the size only, never on the clock.

    Examples
    --------
    >>> split_merge_trials(20_000, 40), split_merge_trials(40_000, 40), split_merge_trials(100_000, 100)
    (8, 4, 0)
    """
    if n_accounts > SEARCH_MAX_ACCOUNTS or n_territories < 3:
        return 0
    return int(min(MAX_TRIALS, SEARCH_BUDGET // max(n_accounts, 1)))


def split_merge_centres(dist: Distance, weight, labels, n_t: int, trial: int):
    """Start centres of split-and-merge trial ``trial`` from the plan ``labels`` (None when it cannot split).

    The territories are ranked by the extra distance their accounts would travel to their next-nearest centre
    (the cheapest to share out first) and by their own weighted distance (the most spread-out first); trial
    ``t`` takes the ``t % 3``-th of the first list and the ``t // 3``-th of the second. The first territory's
    centre moves into the second, which is cut in two across its principal axis (each half's weighted mean is
    a centre); then every centre moves to the weighted mean of the accounts nearest it.
    """
    rows = np.arange(len(labels))
    centres = unit_centres(dist.xyz, labels, weight, n_t)
    km = _km(dist, dist.cost(rows, labels, centres))
    spread = np.bincount(labels, weights=weight * km, minlength=n_t)
    cand, cost = dist.candidates(centres, 2)
    other = np.where(cand[:, 0] == labels, cost[:, 1], cost[:, 0])
    removal = np.bincount(labels, weights=weight * (_km(dist, other) - km), minlength=n_t)
    order_a = np.argsort(removal, kind="stable")
    order_b = np.argsort(-spread, kind="stable")
    a = order_a[trial % 3 % n_t]
    b = order_b[(trial // 3) % n_t]
    if b == a:
        b = order_b[(trial // 3 + 1) % n_t]
    inside = np.flatnonzero(labels == b)
    x, w = dist.xyz[inside], weight[inside]
    if len(inside) < 2 or w.sum() <= 0:
        return None
    mean = (x * w[:, None]).sum(axis=0) / w.sum()
    axis = np.linalg.eigh(((x - mean) * w[:, None]).T @ (x - mean))[1][:, -1]
    side = (x - mean) @ axis > 0
    if side.all() or not side.any():
        return None
    out = centres.copy()
    for t, half in ((a, side), (b, ~side)):
        total = x[half].T @ w[half]
        out[t] = total / max(np.linalg.norm(total), 1e-300)
    nearest = dist.candidates(out, 1)[0][:, 0]
    return unit_centres(dist.xyz, nearest, weight, n_t, previous=out)


def polish_alignment(dist: Distance, shares, labels, targets, tolerance, *, fixed=None, max_rounds=MAX_ROUNDS,
                     n_candidates=N_POLISH_CANDIDATES, min_gain=MIN_GAIN):
    """Alternate :func:`exact_assignment` and re-centring until a round gains less than ``min_gain``.

    Returns ``(labels, centres, rounds)``: the most compact plan seen (never
    less compact than ``labels``, and within the tolerance whenever
    ``labels`` is).
    """
    weight = shares.mean(axis=1)
    n_t = len(targets)
    fixed = np.full(len(labels), -1) if fixed is None else fixed
    centres = unit_centres(dist.xyz, labels, weight, n_t)
    best = (_compactness(dist, labels, centres, weight), labels, centres)
    prices = None
    rounds = 0
    aim = centres
    for rounds in range(1, max_rounds + 1):
        new, prices = exact_assignment(dist, shares, aim, targets, tolerance, best[1], fixed=fixed,
                                       n_candidates=n_candidates, prices=prices)
        moved = unit_centres(dist.xyz, new, weight, n_t, previous=centres)
        # Over-relaxed re-centring: the next assignment aims past the new means, along the way they moved.
        aim = moved + (RELAX - 1.0) * (moved - centres)
        aim /= np.linalg.norm(aim, axis=1, keepdims=True)
        centres = moved
        score = _compactness(dist, new, centres, weight)
        gain = (best[0] - score) / max(best[0], 1e-300)
        if score < best[0]:
            best = (score, new, centres)
        if gain < min_gain:
            break
    return best[1], best[2], rounds


def _candidates_with_own(dist, centres, labels, k):
    """The ``k`` nearest centres of every account and, as a last option, its territory in ``labels`` (the
    ``k + 1``-th nearest centre where that is among the first ``k``): the plan given stays feasible.

    Without it the plan could fall outside the program: in a dense city the balanced plan sends accounts
    past their 5th-nearest centre, and the program restricted to the 5 nearest then had one territory 12%
    over its target (100,000 x 100; the polish was dropped).
    """
    n_t = len(centres)
    if k >= n_t:
        return dist.candidates(centres, k)
    cand, cost = dist.candidates(centres, k + 1)
    away = ~(cand[:, :k] == labels[:, None]).any(axis=1)
    rows = np.flatnonzero(away)
    cand[rows, k] = labels[rows]
    cost[rows, k] = dist.cost(rows, labels[rows], centres)
    return cand, cost


def _warm_prices(unit, km, coef, cand, movable, n_t, rounds=WARM_ROUNDS):
    """Territory prices that roughly balance the nearest-priced assignment (dual ascent on the first metric).

    Only a starting point: it makes the first program's border band about
    the right width, and column generation corrects whatever it misses.
    """
    n_m = coef.shape[2]
    price = np.zeros((n_t, n_m))
    rows = np.flatnonzero(movable)
    if rows.size == 0:
        return price
    unit, km, coef, cand = unit[rows], km[rows], coef[rows], cand[rows]
    # Prices in km: q / unit = km - pi * coef / unit; the step is a share of the typical distance.
    per_km = float(np.median(coef[:, 0, 0] / np.maximum(unit, 1e-300)))
    step = 0.5 * float(np.average(km[:, 0], weights=unit))
    pi = np.zeros(n_t)
    index = np.arange(len(rows))
    for r in range(rounds):
        choice = np.argmin(km - pi[cand], axis=1)
        load = np.bincount(cand[index, choice], weights=coef[index, choice, 0], minlength=n_t)
        load = load / max(load.mean(), 1e-300)
        pi -= step / np.sqrt(r + 1) * (load - 1)
        pi -= pi.mean()
    price[:, 0] = pi / per_km
    return price


def _km(dist, cost):
    """Distance in km (or the callable's unit) from an assignment cost (a squared chord or distance)."""
    return chord_to_km(np.sqrt(np.maximum(cost, 0))) if dist.kind == "chord" else np.sqrt(np.maximum(cost, 0))


def _priced(unit, km, coef, cand, price):
    """Cost of every candidate option less the prices of the loads it adds (the LP's reduced cost + u_i)."""
    return unit[:, None] * km - np.einsum("icm,icm->ic", coef, price[cand])


class _Program:
    """The elastic program of one :func:`column_generation`, kept in one HiGHS model between its solves.

    Rows: one load row per (territory, metric), ranged within the bounds
    (less the load of the accounts outside the program), each with a slack
    above and one below at a steep cost; one placement row (its options
    sum to 1) per account with two options or more. An account with one
    option only stays outside, its load in the load rows' bounds. Each
    solve adds the options that entered (and the placement rows of the
    accounts that now have two), moves those accounts' load out of the
    bounds and restarts the dual simplex from the last basis, so that a
    column-generation round costs a few pivots, not a solve from scratch
    (100,000 x 100: 5 cold scipy solves took 0.58 s of HiGHS).
    """

    def __init__(self, unit, km, coef, cand, base, tol, big):
        import highspy

        from workbench.align._highs import quiet_highs

        n, k, n_m = coef.shape
        n_t = len(base)
        self.unit, self.km, self.coef, self.cand, self.base = unit, km, coef, cand, base
        low, high = (np.broadcast_to(-tol, (n_t, n_m)), np.broadcast_to(tol, (n_t, n_m))) if np.ndim(tol) == 0 else tol
        self.lower, self.upper = 1 + np.ravel(low), 1 + np.ravel(high)
        self.n_t, self.n_m, self.n_s = n_t, n_m, n_t * n_m
        self.inf = highspy.kHighsInf
        self.optimal = highspy.HighsModelStatus.kOptimal
        h = quiet_highs()
        n_s = self.n_s
        h.addRows(n_s, self.lower, self.upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        h.addCols(2 * n_s, np.full(2 * n_s, big), np.zeros(2 * n_s), np.full(2 * n_s, self.inf), 2 * n_s,
                  np.arange(2 * n_s, dtype=np.int32), np.r_[np.arange(n_s), np.arange(n_s)].astype(np.int32),
                  np.r_[-np.ones(n_s), np.ones(n_s)])
        self.h = h
        self.n_rows = n_s
        self.in_model = np.zeros(n, dtype=bool)
        self.eq_row = np.full(n, -1, dtype=np.int64)
        self.have = np.zeros((n, k), dtype=bool)
        self.col_r = np.zeros(0, dtype=np.int64)
        self.col_c = np.zeros(0, dtype=np.int64)
        self.one_col = np.full(n, -1, dtype=np.int64)  # the option of an account outside (placed there)
        self.solved = False  # no basis to restart from before the first solve

    def _keep_feasible(self, fresh, r, c, first_col):
        """Keep the last basis primal feasible for a restart by the primal simplex (the first solve: dual).

        An account new to the program (it had one option, outside) starts in
        that option (:func:`workbench.align._highs.hold_basis`). The options
        that entered start at 0, so the last optimum stays a solution and the
        primal simplex goes on from it.
        """
        stays = first_col + np.flatnonzero(np.isin(r, fresh) & (c == self.one_col[r]))
        warm = self.solved and hold_basis(self.h, stays, self.eq_row[fresh])
        self.h.setOptionValue("simplex_strategy", _WARM_SIMPLEX if warm else _COLD_SIMPLEX)

    def solve(self, select):
        """Solve over the ``select``-ed options (a superset of the last call's); None when HiGHS fails.

        Returns ``(x, prices, u, objective, q)``: ``x`` (n, k), 0 off the
        selection; ``prices`` (t, m), the load rows' duals; ``u`` (n,), each
        account's cost at the optimum (its priced option for accounts with
        one option, inf for accounts with none); the objective of the whole
        assignment (the program's part plus the accounts outside it); ``q``
        (n, k), every option priced at ``prices`` (:func:`_priced`).
        """
        h, n_m, n_t, n_s = self.h, self.n_m, self.n_t, self.n_s
        unit, km, coef, cand = self.unit, self.km, self.coef, self.cand
        count = select.sum(axis=1)
        fresh = np.flatnonzero((count >= 2) & ~self.in_model)
        if fresh.size:
            h.addRows(len(fresh), np.ones(len(fresh)), np.ones(len(fresh)), 0, np.zeros(0, np.int32),
                      np.zeros(0, np.int32), np.zeros(0))
            self.eq_row[fresh] = self.n_rows + np.arange(len(fresh))
            self.n_rows += len(fresh)
            self.in_model[fresh] = True
        r, c = np.nonzero(select & self.in_model[:, None] & ~self.have)
        first_col = 2 * n_s + len(self.col_r)
        if r.size:
            n_v = len(r)
            load_rows = cand[r, c][:, None] * n_m + np.arange(n_m)[None, :]
            index = np.c_[self.eq_row[r], load_rows].astype(np.int32)
            value = np.c_[np.ones(n_v), coef[r, c, :]]
            h.addCols(n_v, unit[r] * km[r, c], np.zeros(n_v), np.full(n_v, self.inf), index.size,
                      (np.arange(n_v) * (1 + n_m)).astype(np.int32), index.ravel(), value.ravel())
            self.have[r, c] = True
            self.col_r, self.col_c = np.r_[self.col_r, r], np.r_[self.col_c, c]
        one_rows = np.flatnonzero((count == 1) & ~self.in_model)
        one_col = np.argmax(select[one_rows], axis=1)
        load0 = self.base.copy()
        for m in range(n_m):
            load0[:, m] += np.bincount(cand[one_rows, one_col], weights=coef[one_rows, one_col, m], minlength=n_t)
        flat0 = load0.ravel()
        h.changeRowsBounds(n_s, np.arange(n_s, dtype=np.int32), self.lower - flat0, self.upper - flat0)
        self._keep_feasible(fresh, r, c, first_col)
        self.one_col[one_rows] = one_col
        run_highs(h)
        if h.getModelStatus() != self.optimal:
            return None
        solution = h.getSolution()
        col = np.asarray(solution.col_value)
        dual = np.asarray(solution.row_dual)
        price = dual[:n_s].reshape(n_t, n_m)
        x = np.zeros(select.shape)
        x[self.col_r, self.col_c] = col[2 * n_s:]
        x[one_rows, one_col] = 1.0
        q = _priced(unit, km, coef, cand, price)
        u = np.full(len(unit), np.inf)  # pinned accounts (no option): nothing to price
        rows = np.flatnonzero(self.in_model)
        u[rows] = dual[self.eq_row[rows]]
        u[one_rows] = q[one_rows, one_col]
        # The objective of the whole assignment: the program's part plus the accounts placed outside it.
        objective = float(h.getInfo().objective_function_value)
        self.solved = True
        return x, price, u, objective + float((unit[one_rows] * km[one_rows, one_col]).sum()), q


def _round_repair(labels, rows, shares, targets, tol, cand, cost, max_moves=MAX_REPAIR_MOVES):
    """Single moves of accounts ``rows`` to their candidates until every territory is within ``tol``; None when
    stuck.

    Each move must lower the total violation (the sum, over territories and
    metrics, of the load beyond the bounds, in shares of the target), so the
    repair never cycles; among those the one costing least extra ``cost``
    per unit of violation removed goes first. Loads are updated per move,
    and only accounts of, or next to, a territory out of bounds are priced.
    """
    labels = labels.copy()
    n_t, n_m = len(targets), shares.shape[1]
    target = np.asarray(targets, float)
    low, high = 1 - tol - 1e-12, 1 + tol + 1e-12
    load = np.stack([np.bincount(labels, weights=shares[:, m], minlength=n_t) for m in range(n_m)], 1)
    load = load / target[:, None]
    cand, cost, share = cand[rows], cost[rows], shares[rows]
    gain = share[:, None, :] / target[cand][:, :, None]  # load each option adds to its territory (r, k, m)
    at = np.argmax(cand == labels[rows][:, None], axis=1)
    own = np.where((cand == labels[rows][:, None]).any(axis=1), cost[np.arange(len(rows)), at], cost.max(axis=1))

    def violation(x):
        return (np.maximum(x - high, 0) + np.maximum(low - x, 0)).sum(axis=-1)

    for _ in range(max_moves):
        out_of_bounds = violation(load) > 0
        if not out_of_bounds.any():
            return labels
        src = labels[rows]
        near = np.flatnonzero(out_of_bounds[src] | out_of_bounds[cand].any(axis=1))
        if near.size == 0:
            return None
        s, c = src[near], cand[near]
        lose = share[near] / target[s][:, None]
        delta = (violation(load[s] - lose) - violation(load[s]))[:, None] + violation(load[c] + gain[near]) \
            - violation(load[c])
        ok = (delta < -1e-12) & (c != s[:, None])
        ratio = np.where(ok, (cost[near] - own[near][:, None]) / np.where(ok, -delta, 1.0), np.inf)
        best = np.unravel_index(np.argmin(ratio), ratio.shape)
        if not np.isfinite(ratio[best]):
            return None
        i, j = near[best[0]], best[1]
        load[src[i]] -= lose[best[0]]
        load[cand[i, j]] += gain[i, j]
        labels[rows[i]] = cand[i, j]
        own[i] = cost[i, j]
    return None


def _deviation(labels, shares, targets) -> float:
    """Largest deviation of any territory's load from its target, over the metrics (a share)."""
    n_t = len(targets)
    load = np.stack([np.bincount(labels, weights=shares[:, m], minlength=n_t) for m in range(shares.shape[1])], 1)
    return float(np.abs(load / np.asarray(targets, float)[:, None] - 1).max())


def _within(labels, shares, targets, tol) -> bool:
    return _deviation(labels, shares, targets) <= tol + 1e-12


def _compactness(dist, labels, centres, weight):
    cost = dist.cost(np.arange(len(labels)), labels, centres)
    km = _km(dist, cost)
    return float((weight * km).sum() / max(weight.sum(), 1e-300))
