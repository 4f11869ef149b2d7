"""Numerical core of balanced alignment: prices, exact repair, minimum-movement flows.

All functions work on integer territory indices and metric *shares*
(each metric divided by its total, so a territory's target is its share of
1). Loads are ``(n_territories, n_metrics)`` arrays.

* :func:`bisection_labels` — balanced, compact starting groups by recursive
  bisection (puts as many centres in dense regions as their weight needs).
* :func:`price_labels` — Lagrangian assignment with multiplicative prices:
  account ``i`` goes to ``argmin_j cost_ij * exp(price_j)`` among its
  candidate territories; prices rise on heavy territories until the loads
  are within tolerance. (Additive prices, a power diagram, converged badly
  on real US densities: a price that is small for a rural territory is huge
  for a city one. A multiplicative price is scale-free.)
* :func:`greedy_repair` — exact pass moving individual boundary accounts,
  cheapest cost increase first, from territories over the upper bound to
  neighbours with room (and into territories under the lower bound), all
  metrics at once. This is what separates many accounts at one location.
* :func:`flow_repair` — a territory-level minimum-cost flow (linear program,
  HiGHS) that routes excess workload from heavy to light territories through
  neighbours when they are not adjacent, moving as little as possible.
* :func:`neighbour_candidates` — limits moves to neighbouring territories,
  so repairs never leave an enclave behind a territory in between.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

_EPS = 1e-12

#: Prices are logarithms; beyond this a territory is simply closed or open to all (and exp stays finite).
_MAX_PRICE = 30.0

#: Cheapest alternatives per account that define neighbouring territories.
NEIGHBOUR_RANK = 1


def loads_of(labels: np.ndarray, shares: np.ndarray, n: int) -> np.ndarray:
    """(n, m) totals of each metric share per territory."""
    return np.stack([np.bincount(labels, weights=shares[:, m], minlength=n) for m in range(shares.shape[1])], axis=1)


def out_of_band(labels, shares, targets, tolerance, skip=None) -> np.ndarray:
    """Territories whose load is outside ``targets * (1 +- tolerance)`` on some metric: (t,) bool.

    ``targets`` is per territory or per (territory, metric); ``skip`` (bool
    per territory, e.g. frozen or closing ones) is never out.

    Examples
    --------
    >>> out_of_band(np.array([0, 0, 0, 1]), np.full((4, 1), 0.25), np.array([0.5, 0.5]), 0.1).tolist()
    [True, True]
    >>> out_of_band(np.array([0, 0, 1, 1]), np.full((4, 1), 0.25), np.array([0.5, 0.5]), 0.1).tolist()
    [False, False]
    """
    n_t = len(targets)
    shares = np.asarray(shares, dtype=float).reshape(len(labels), -1)
    band = np.asarray(targets, dtype=float).reshape(n_t, -1)
    load = loads_of(labels, shares, n_t)
    out = ((load < band * (1 - tolerance) - 1e-12) | (load > band * (1 + tolerance) + 1e-12)).any(axis=1)
    return out if skip is None else out & ~np.asarray(skip, dtype=bool)


def bounds(targets: np.ndarray, n_metrics: int, tolerance: float):
    """Target, lower and upper load per territory and metric (shares)."""
    target = np.repeat(np.asarray(targets, dtype=float)[:, None], n_metrics, axis=1)
    return target, target * (1 - tolerance), target * (1 + tolerance)


def lower_bound_share(loads: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Least share of each metric that must move to bring every territory within bounds.

    It is the larger of the total excess above the upper bounds and the total
    deficit below the lower bounds: every unit of either must cross a border.

    Examples
    --------
    >>> loads = np.array([[0.6], [0.3], [0.1]])
    >>> lower_bound_share(loads, np.full((3, 1), 0.3), np.full((3, 1), 0.36)).round(2).tolist()
    [0.24]
    """
    excess = np.maximum(loads - upper, 0).sum(axis=0)
    deficit = np.maximum(lower - loads, 0).sum(axis=0)
    return np.maximum(excess, deficit)


def price_labels(cand, cost, weight, targets, tolerance, *, prices=None, max_iter=100, fixed=None,
                 bar=None, step=0.3, active=None):
    """Iterate prices until the candidate-restricted assignment is balanced.

    Account ``i`` goes to ``argmin_j cost_ij * exp(price_j)`` among its
    candidates (a multiplicatively weighted Voronoi diagram): a heavy
    territory's price rises by ``step * log(load / target)``, which shrinks
    it by the same factor wherever it is, dense city or empty plain. The
    step of each territory shrinks when its error changes sign.

    Parameters
    ----------
    cand, cost : (n, k) arrays
        Candidate territory indices and assignment costs.
    weight : (n,) array
        Combined weight share of each point.
    targets : (t,) array
        Target share per territory.
    tolerance : float
        Stop when every territory is within it.
    prices : (t,) array, optional
        Starting (log) prices, for a warm start.
    fixed : (n,) int array, optional
        Territory index of points that must not move (-1 for free points).
    active : (t,) bool array, optional
        Territories whose balance counts (locked ones cannot change).

    Returns
    -------
    labels, prices, n_iter, converged
    """
    n_t = len(targets)
    active = np.ones(n_t, dtype=bool) if active is None else active
    prices = np.zeros(n_t) if prices is None else np.asarray(prices, dtype=float).copy()
    rows = np.arange(len(cand))
    free = np.ones(len(cand), dtype=bool) if fixed is None else fixed < 0
    lr = np.full(n_t, step)
    last_sign = np.zeros(n_t)
    labels = cand[:, 0].copy()
    converged = False
    it = 0
    floor = 1e-3 * targets
    for it in range(1, max_iter + 1):
        labels = cand[rows, np.argmin(cost * np.exp(prices)[cand], axis=1)]
        if fixed is not None:
            labels[~free] = fixed[~free]
        load = np.bincount(labels, weights=weight, minlength=n_t)
        ratio = load / targets - 1
        worst = float(np.abs(ratio[active]).max()) if active.any() else 0.0
        if bar is not None:
            bar.set_postfix_str(f"max deviation {worst:.1%}")
        if worst <= tolerance:
            converged = True
            break
        lr, last_sign = _price_step(prices, ratio, load, targets, floor, lr, last_sign, step)
    return labels, prices, it, converged


def priced(cost, prices_of_cand):
    """Assignment cost with prices applied (what the repair compares)."""
    return cost * np.exp(prices_of_cand)


def metric_mix(shares: np.ndarray) -> np.ndarray:
    """Each account's mix of the metrics: its shares divided by their sum (rows sum to 1)."""
    total = shares.sum(axis=1, keepdims=True)
    return np.where(total > 0, shares / np.where(total > 0, total, 1.0), 1.0 / shares.shape[1])


def price_factors(prices: np.ndarray, mix: np.ndarray, rows, territories) -> np.ndarray:
    """``exp(mixed_prices(...))``: the factor each account's cost to each territory is multiplied by.

    With one metric every account's mix is exactly 1 (:func:`metric_mix`:
    a share over itself, or 1 / 1), so the factor is the territory's own
    ``exp(price)``: taken from the ``t`` prices instead of exponentiating one
    price per account and candidate, and equal to the last bit (``x * 1.0 ==
    x`` and ``exp`` is taken element by element).

    >>> prices, mix = np.array([[0.5], [-0.25]]), np.ones((3, 1))
    >>> rows, cand = np.arange(3)[:, None], np.array([[0, 1], [1, 0], [1, 1]])
    >>> bool((price_factors(prices, mix, rows, cand) == np.exp(mixed_prices(prices, mix, rows, cand))).all())
    True
    """
    if prices.shape[1] == 1:  # one metric: no per-account check of the mix (this runs in every repair step)
        return np.exp(prices[:, 0])[np.broadcast_arrays(np.asarray(rows), np.asarray(territories))[1]]
    return np.exp(mixed_prices(prices, mix, rows, territories))


def mixed_prices(prices: np.ndarray, mix: np.ndarray, rows, territories) -> np.ndarray:
    """Price of territories for accounts: per-metric prices weighted by the account's metric mix."""
    rows = np.asarray(rows)
    territories = np.asarray(territories)
    mix_rows = mix[rows]
    out = prices[territories, 0] * mix_rows[..., 0]
    for m in range(1, prices.shape[1]):
        out = out + prices[territories, m] * mix_rows[..., m]
    return out


def price_labels_by_metric(cand, cost, shares, targets, tolerance, *, prices=None, max_iter=60, fixed=None,
                           active=None, step=0.3, bar=None):
    """Like :func:`price_labels`, with one price per territory and metric.

    Account ``i`` pays ``cost_ij * exp(sum_m price_jm * mix_im)`` where
    ``mix_i`` is its own mix of the metrics: a territory heavy in revenue
    but light in workload repels revenue-heavy accounts and attracts
    workload-heavy ones, so several metrics can be balanced at once.

    Returns
    -------
    labels, prices (t, m), n_iter, converged
    """
    n_t, n_m = len(targets), shares.shape[1]
    start = np.zeros(n_t) if prices is None else np.asarray(prices, dtype=float)
    prices = np.repeat(start[:, None], n_m, axis=1) if start.ndim == 1 else start.copy()
    active = np.ones(n_t, dtype=bool) if active is None else active
    mix = metric_mix(shares)
    rows = np.arange(len(cand))
    free = np.ones(len(cand), dtype=bool) if fixed is None else fixed < 0
    lr = np.full((n_t, n_m), step)
    last_sign = np.zeros((n_t, n_m))
    target = targets[:, None]
    floor = 1e-3 * target
    labels, converged, it = cand[:, 0].copy(), False, 0
    for it in range(1, max_iter + 1):
        labels = cand[rows, np.argmin(cost * price_factors(prices, mix, rows[:, None], cand), axis=1)]
        if fixed is not None:
            labels[~free] = fixed[~free]
        load = loads_of(labels, shares, n_t)
        ratio = load / target - 1
        worst = float(np.abs(ratio[active]).max()) if active.any() else 0.0
        if bar is not None:
            bar.set_postfix_str(f"max deviation {worst:.1%}")
        if worst <= tolerance:
            converged = True
            break
        lr, last_sign = _price_step(prices, ratio, load, target, floor, lr, last_sign, step)
    return labels, prices, it, converged


def neighbour_candidates(labels, cand, cand_cost, rank=NEIGHBOUR_RANK):
    """Candidates limited to neighbouring territories (others replaced by the account's own).

    Two territories are neighbours when, for some account of one, the other
    is among its ``rank`` cheapest alternatives (ties included): the border
    accounts define the borders, so moves go to a territory next door rather
    than over the ones in between. Territories without accounts neighbour
    every account that has them as a candidate.
    """
    n_t = int(max(labels.max(), cand.max())) + 1
    other = np.where(cand == labels[:, None], np.inf, cand_cost)
    rank = min(rank, cand.shape[1])
    if rank == 1:
        cutoff = other.min(axis=1)
    else:
        cutoff = np.partition(other, rank - 1, axis=1)[:, rank - 1]
    near = np.isfinite(other) & (other <= cutoff[:, None] * (1 + 1e-9) + 1e-15)
    src = np.broadcast_to(labels[:, None], cand.shape)[near]
    dst = cand[near]
    adjacent = np.zeros((n_t, n_t), dtype=bool)
    adjacent[src, dst] = True
    adjacent |= adjacent.T
    adjacent[:, np.bincount(labels, minlength=n_t) == 0] = True
    return np.where(adjacent[labels[:, None], cand], cand, labels[:, None])


def _violation(load, low, high, target):
    """How far ``load`` is outside ``[low, high]``, relative to ``target``.

    A closing territory has a target of 0: any load left in it is then a very
    large (but finite) violation, so moving it out always wins, and no 0/0 or
    inf - inf turns a move's gain into NaN.
    """
    return (np.maximum(load - high, 0) + np.maximum(low - load, 0)) / np.maximum(target, 1e-9)


def greedy_repair(labels, shares, targets, low, high, cand, cand_cost, own_cost, movable, frozen, *,
                  aim=0.5, max_rounds=200, width=6, exact=False):
    """Move single boundary accounts until every territory is within [low, high] on every metric.

    Parameters
    ----------
    labels : (n,) int array
        Current territory of each account (updated copy is returned).
    shares : (n, m) array
        Metric shares of each account.
    targets, low, high : (t, m) arrays
        Target, lower and upper bound per territory and metric.
    cand, cand_cost : (n, k) arrays
        Candidate territories and the cost of each; ``own_cost(rows, territories)``
        gives the cost of accounts ``rows`` to the given territories.
    movable : (n,) bool array
        False for locked accounts. ``frozen`` (t,) marks untouchable territories.
    aim : float
        Heavy territories shed load down to ``target + aim * (high - target)``
        (light ones fill up symmetrically): 0 aims at the target, 1 at the bound.
    exact : bool
        Slow but sure mode for several metrics: each round moves at most one
        account into or out of any territory, each one lowering the total
        violation, so the rounds can never undo each other.

    Returns
    -------
    labels, rounds, within
    """
    labels = labels.copy()
    n_t, n_m = targets.shape
    width = min(width, cand.shape[1])
    cand = cand[:, :width]
    cand_cost = cand_cost[:, :width]
    aim_high = targets + aim * (high - targets)
    aim_low = targets - aim * (targets - low)
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        load = loads_of(labels, shares, n_t)
        over = (load > high + _EPS).any(axis=1)
        under = (load < low - _EPS).any(axis=1)
        if not over.any() and not under.any():
            return labels, rounds, True
        rows = np.flatnonzero(movable & ~frozen[labels] & (over[labels] | under[cand].any(axis=1)))
        if rows.size == 0:
            break
        src = labels[rows]
        dst = cand[rows]
        w = shares[rows]
        valid = (dst != src[:, None]) & ~frozen[dst]
        delta = (_violation(load[src] - w, low[src], high[src], targets[src])
                 - _violation(load[src], low[src], high[src], targets[src])).sum(axis=1)[:, None]
        delta = delta + (_violation(load[dst] + w[:, None, :], low[dst], high[dst], targets[dst])
                         - _violation(load[dst], low[dst], high[dst], targets[dst])).sum(axis=2)
        useful = valid & (delta < -1e-15)
        score = np.where(useful, cand_cost[rows] - own_cost(rows, src)[:, None], np.inf)
        best = np.argmin(score, axis=1)
        chosen = np.isfinite(score[np.arange(len(rows)), best])
        if not chosen.any():
            break
        if exact:
            pick = np.flatnonzero(chosen)
            gain = -delta[pick, best[pick]]
            scale = np.median(np.abs(score[pick, best[pick]])) + _EPS
            order = pick[np.argsort(score[pick, best[pick]] / scale - 1e3 * gain / targets.mean(), kind="stable")]
            s, d = src[order], dst[order, best[order]]
            first = ~pd.Series(s).duplicated().to_numpy()
            order, s, d = order[first], s[first], d[first]
            first = ~pd.Series(d).duplicated().to_numpy()
            order, s, d = order[first], s[first], d[first]
            clash = np.isin(d, s)
            labels[rows[order[~clash]]] = d[~clash]
            if clash.all():
                break
            continue
        moves = pd.DataFrame({
            "row": rows[chosen], "src": src[chosen], "dst": dst[chosen, best[chosen]],
            "dcost": score[chosen, best[chosen]]})
        moves["cls"] = np.where(over[moves["src"]], np.where(under[moves["dst"]], 0, 1), 2)
        moves = moves.sort_values(["cls", "dcost"], kind="stable").reset_index(drop=True)
        mw = shares[moves["row"].to_numpy()]
        s = moves["src"].to_numpy()
        d = moves["dst"].to_numpy()
        src_over = over[s]
        # Sources: never below the lower bound; heavy sources shed only what they need.
        out = pd.DataFrame(mw).groupby(s).cumsum().to_numpy()
        keep = np.all(out <= load[s] - low[s] + _EPS, axis=1)
        need_out = load[s] - aim_high[s]
        keep &= ~src_over | np.any((load[s] > high[s]) & (out - mw < need_out - _EPS), axis=1)
        mw, s, d, src_over = mw[keep], s[keep], d[keep], src_over[keep]
        rows_kept = moves["row"].to_numpy()[keep]
        # Destinations: never above the upper bound; light ones take only what they need from balanced sources.
        inn = pd.DataFrame(mw).groupby(d).cumsum().to_numpy()
        keep = np.all(inn <= high[d] - load[d] + _EPS, axis=1)
        need_in = aim_low[d] - load[d]
        keep &= src_over | np.any((load[d] < low[d]) & (inn - mw < need_in - _EPS), axis=1)
        if not keep.any():
            break
        labels[rows_kept[keep]] = d[keep]
    load = loads_of(labels, shares, n_t)
    within = not ((load > high + _EPS).any() or (load < low - _EPS).any())
    return labels, rounds, within


def flow_repair(labels, weight, targets, low, high, cand, cand_cost, own_cost, movable, frozen, *, unit_cost=1.0):
    """Route load between neighbouring territories with a minimum-cost flow, then move the accounts.

    Territories are nodes; two are neighbours when an account of one has the
    other among its candidates. The linear program finds flows ``f_st >= 0``
    that bring every territory within ``[low, high]`` (one metric: the
    combined ``weight``) at the least cost ``sum f_st * (unit_cost + mean
    cost increase across the border)`` — so excess travels through
    neighbours when the heavy and the light territories do not touch. Each
    flow is then carried out by the border accounts of the source with the
    smallest cost increase. Unreachable balance is allowed at a high penalty.

    Returns
    -------
    labels : (n,) int array
    """
    n_t = len(targets)
    load = np.bincount(labels, weights=weight, minlength=n_t)
    if (load <= high + _EPS).all() and (load >= low - _EPS).all():
        return labels
    rows = np.flatnonzero(movable & ~frozen[labels])
    r_idx, c_idx = np.nonzero((cand[rows] != labels[rows][:, None]) & ~frozen[cand[rows]])
    if r_idx.size == 0:
        return labels
    acc = rows[r_idx]
    s = labels[acc]
    d = cand[rows][r_idx, c_idx]
    dcost = np.nan_to_num(cand_cost[rows][r_idx, c_idx] - own_cost(acc, labels[acc]), nan=0.0, posinf=1e300,
                          neginf=-1e300)
    key = s * n_t + d
    edges, inverse = np.unique(key, return_inverse=True)
    cap = np.bincount(inverse, weights=weight[acc])
    scale = np.median(np.abs(dcost)) + _EPS
    mean_cost = np.bincount(inverse, weights=np.maximum(dcost, 0)) / np.maximum(np.bincount(inverse), 1)
    cost = unit_cost + 0.01 * mean_cost / scale
    es, ed = edges // n_t, edges % n_t
    n_e = len(edges)
    incidence = sparse.csr_matrix(
        (np.r_[np.ones(n_e), -np.ones(n_e)], (np.r_[ed, es], np.r_[np.arange(n_e), np.arange(n_e)])),
        shape=(n_t, n_e))
    # Slack per territory keeps the program feasible; it costs far more than any move.
    eye = sparse.identity(n_t, format="csr")
    a_ub = sparse.vstack([sparse.hstack([incidence, -eye, sparse.csr_matrix((n_t, n_t))]),
                          sparse.hstack([-incidence, sparse.csr_matrix((n_t, n_t)), -eye])]).tocsr()
    b_ub = np.r_[high - load, load - low]
    c = np.r_[cost, np.full(2 * n_t, 1e3 * (cost.max() + 1))]
    bounds_ = np.c_[np.zeros(n_e + 2 * n_t), np.r_[cap, np.full(2 * n_t, np.inf)]]
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds_, method="highs")
    if result.status != 0:
        return labels
    flow = result.x[:n_e]
    use = flow[inverse] > 1e-9
    order = np.flatnonzero(use)
    order = order[np.lexsort((dcost[order], inverse[order]))]
    edge_of = inverse[order]
    starts = np.searchsorted(edge_of, np.unique(edge_of))
    ends = np.r_[starts[1:], len(order)]
    taken = np.zeros(len(labels), dtype=bool)
    labels = labels.copy()
    w_all = weight
    # Edges one at a time (a few hundred at most); accounts within an edge vectorised.
    for a, b in zip(starts, ends):
        block = order[a:b]
        block = block[~taken[acc[block]]]
        if block.size == 0:
            continue
        target_flow = flow[edge_of[a]]
        before = np.cumsum(w_all[acc[block]]) - w_all[acc[block]]
        chosen = block[before < target_flow - 1e-12]
        taken[acc[chosen]] = True
        labels[acc[chosen]] = d[chosen]
    return labels


def aggregate_points(xyz: np.ndarray, weight: np.ndarray, max_points: int, rng, resolution: float = 1e-5):
    """Points for finding centres: co-located accounts merged, then a random sample if still too many.

    Accounts closer than ``resolution`` (chord, ~60 m) are merged with their
    weights summed. If more than ``max_points`` remain, a uniform random
    sample of them is kept with weights scaled up, so that heavy regions keep
    their share and no single point outweighs a territory.

    Returns ``(points_xyz, points_weight)``.
    """
    grid = np.round(xyz / resolution).astype(np.int64)
    grid -= grid.min(axis=0)
    span = grid.max(axis=0) + 1
    key = (grid[:, 0] * span[1] + grid[:, 1]) * span[2] + grid[:, 2]
    _, first, cell = np.unique(key, return_index=True, return_inverse=True)
    cell = cell.ravel()
    points = xyz[first]
    total = np.bincount(cell, weights=weight, minlength=len(first))
    if len(points) > max_points:
        pick = np.sort(rng.choice(len(points), size=max_points, replace=False))
        points, total = points[pick], total[pick] * (total.sum() / max(total[pick].sum(), _EPS))
    keep = total > 0
    return points[keep], total[keep]


def bisection_labels(xyz: np.ndarray, weight: np.ndarray, n_parts: int) -> np.ndarray:
    """Split points into ``n_parts`` groups of (nearly) equal weight by recursive bisection.

    Each group is cut along its widest axis at the weighted point that gives
    both halves weight in proportion to the number of parts they will hold.
    The groups are balanced and compact: a starting point for the centres
    that puts as many centres in dense regions as their weight asks for
    (weighted k-means puts too few there).

    Examples
    --------
    >>> xyz = np.c_[np.arange(8.0), np.zeros(8), np.zeros(8)]
    >>> bisection_labels(xyz, np.ones(8), 4).tolist()
    [0, 0, 1, 1, 2, 2, 3, 3]
    """
    labels = np.zeros(len(xyz), dtype=np.int64)
    stack = [(np.arange(len(xyz)), 0, n_parts)]
    while stack:
        idx, first, parts = stack.pop()
        if parts == 1 or len(idx) <= 1:
            labels[idx] = first
            continue
        pts = xyz[idx]
        axis = int(np.argmax(np.ptp(pts, axis=0)))
        order = idx[np.argsort(pts[:, axis], kind="stable")]
        left_parts = parts // 2
        cum = np.cumsum(weight[order])
        total = cum[-1] if cum[-1] > 0 else 1.0
        if cum[-1] > 0:
            cut = int(np.searchsorted(cum, total * left_parts / parts)) + 1
        else:
            cut = len(order) * left_parts // parts
        cut = min(max(cut, left_parts), len(order) - (parts - left_parts))
        stack.append((order[:cut], first, left_parts))
        stack.append((order[cut:], first + left_parts, parts - left_parts))
    return labels


def polish(labels, shares, low, high, cand, cand_cost, own_cost, movable, frozen, *, max_rounds=10):
    """Within the bounds, move accounts to a cheaper neighbouring territory (tidier, more compact shapes).

    Each round takes, for every account whose cheapest candidate is cheaper
    than its own territory, that move, then keeps the moves (largest saving
    first) that leave every source at or above ``low`` and every destination
    at or below ``high`` on every metric. Returns ``(labels, rounds)``.
    """
    labels = labels.copy()
    n_t = low.shape[0]
    rounds = 0
    # The accounts that may move stay the same (none goes into a frozen territory), and so do the costs: each
    # round only the accounts moved in the last one get their own cost and their options again.
    def options_of(rows):  # each candidate's cost, inf for the own territory and frozen ones
        return np.where((cand[rows] != labels[rows][:, None]) & ~frozen[cand[rows]], cand_cost[rows], np.inf)

    every = np.flatnonzero(movable & ~frozen[labels])
    own = own_cost(every, labels[every])
    options = options_of(every)
    position = np.full(len(labels), -1)
    position[every] = np.arange(len(every))
    for rounds in range(1, max_rounds + 1):
        load = loads_of(labels, shares, n_t)
        best = np.argmin(options, axis=1)
        saving = own - options[np.arange(len(every)), best]
        good = saving > 1e-12 * np.maximum(own, 1e-300)
        if not good.any():
            break
        rows, best, saving = every[good], best[good], saving[good]
        order = np.argsort(-saving, kind="stable")
        rows, best = rows[order], best[order]
        s, d, w = labels[rows], cand[rows, best], shares[rows]
        out = pd.DataFrame(w).groupby(s).cumsum().to_numpy()
        keep = np.all(load[s] - out >= low[s] - _EPS, axis=1)
        rows, s, d, w = rows[keep], s[keep], d[keep], w[keep]
        inn = pd.DataFrame(w).groupby(d).cumsum().to_numpy()
        keep = np.all(load[d] + inn <= high[d] + _EPS, axis=1)
        # a territory may both give and take in a round: only keep moves whose source takes nothing
        keep &= ~np.isin(s, d[keep])
        if not keep.any():
            break
        moved = rows[keep]
        labels[moved] = d[keep]
        at = position[moved]
        own[at] = own_cost(moved, labels[moved])
        options[at] = options_of(moved)
    return labels, rounds


def _price_step(prices, ratio, load, target, floor, lr, last_sign, step):
    """One multiplicative price update, in place; return the new step sizes and signs.

    A step shrinks when its territory overshot (the sign flipped) and grows
    slowly otherwise; prices stay centred and bounded. Works on a price per
    territory or a (territory, metric) table alike.
    """
    sign = np.sign(ratio)
    lr = np.where(sign * last_sign < 0, lr * 0.7, np.minimum(lr * 1.1, 3 * step))
    prices += lr * np.log(np.maximum(load, floor) / target)
    prices -= prices.mean(axis=0)
    np.clip(prices, -_MAX_PRICE, _MAX_PRICE, out=prices)
    return lr, sign
