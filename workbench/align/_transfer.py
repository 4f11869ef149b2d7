"""Compact realignment as one linear program: which border accounts move where.

Every account that borders another territory (see
:func:`workbench.align.bounds.bordering_options`) gets one variable per
territory it may be in: its own and each bordering one (``x_ij`` = share of
account ``i`` in territory ``j``; the rest of the accounts stay). The
program (scipy's HiGHS) minimises

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

A vertex of this program has at most as many fractional accounts as there
are load constraints (a few per territory); each is rounded to the
territory holding most of it (to its own territory when that keeps a
disruption budget).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from workbench.errors import InputError
from workbench.geo import EARTH_RADIUS_KM

_FRACTION = 1e-6


@dataclass
class Transfer:
    """Result of :func:`transfer`: labels, the excess beyond the tolerance left, and whether the LP solved."""

    labels: np.ndarray
    excess: float
    solved: bool
    objective: float


def chord_cost_km(cost: np.ndarray) -> np.ndarray:
    """Great-circle km from a squared chord on the unit sphere (the default assignment cost)."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.sqrt(np.maximum(cost, 0)) / 2, 0, 1))


def transfer(current, shares, targets, tolerance, rows, territories, km, weight, *, penalty_km, movable, frozen,
             closed=None, budget=None, origin=None, base=None) -> Transfer:
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
    """
    origin = current if origin is None else origin
    n_t, n_m = len(targets), shares.shape[1]
    closed = np.zeros(n_t, dtype=bool) if closed is None else np.asarray(closed, dtype=bool)
    ok = movable[rows] & ~frozen[current[rows]] & ~frozen[territories] & ~closed[territories] \
        & (territories != current[rows])
    rows, territories = rows[ok], territories[ok]
    active = np.unique(rows)
    stay = active[~closed[current[active]]]
    var_rows = np.r_[rows, stay]
    var_terr = np.r_[territories, current[stay]]
    moves = var_terr != origin[var_rows]
    labels = current.copy()
    if var_rows.size == 0:
        return Transfer(labels, _excess(labels, shares, targets, tolerance, frozen, base), True, 0.0)
    n_v = len(var_rows)
    dist = np.asarray(km(var_rows, var_terr), dtype=float)
    dist = np.nan_to_num(dist, nan=0.0, posinf=1e12)
    scale = max(float(np.percentile(dist, 90)), 1e-9)
    # A hair of squared distance breaks ties towards the account nearest the receiving centre.
    cost = weight[var_rows] * (dist + penalty_km * moves + 1e-3 * dist ** 2 / scale) / scale
    big = 1e3 * max(float(cost.sum()), 1e-9) * n_t + 1e3
    # Loads of the accounts that stay put, per territory and metric.
    fixed_rows = np.setdiff1d(np.arange(len(current)), active)
    extra = np.zeros((n_t, n_m)) if base is None else np.asarray(base, dtype=float)
    base = extra + np.stack([np.bincount(current[fixed_rows], weights=shares[fixed_rows, m], minlength=n_t)
                             for m in range(n_m)], axis=1)
    target = np.repeat(np.asarray(targets, float)[:, None], n_m, axis=1)
    low, high = target * (1 - tolerance), target * (1 + tolerance)
    live = np.flatnonzero(~frozen)
    # Load rows: one per (live territory, metric), built as a sparse (t*m, n_v) matrix.
    position = -np.ones(n_t, dtype=np.int64)
    position[live] = np.arange(len(live))
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
    slack = sparse.diags(-t_flat, format="csr")
    zeros = sparse.csr_matrix((n_u, 1))
    a_ub = [sparse.hstack([load, slack, zeros]), sparse.hstack([-load, slack, zeros]),
            sparse.hstack([sparse.csr_matrix((n_u, n_v)), sparse.identity(n_u, format="csr"),
                           sparse.csr_matrix(-np.ones((n_u, 1)))])]
    b_ub = [np.concatenate([high[live, m] - base[live, m] for m in range(n_m)]),
            np.concatenate([base[live, m] - low[live, m] for m in range(n_m)]), np.zeros(n_u)]
    if budget is not None:
        a_ub.append(sparse.csr_matrix(np.r_[shares[var_rows, 0] * moves, np.zeros(n_u + 1)][None, :]))
        fixed_rows_moved = np.setdiff1d(np.flatnonzero(current != origin), active)
        spent = float(shares[fixed_rows_moved, 0].sum())
        b_ub.append(np.array([max(float(budget), _forced(origin, shares, closed, movable)) - spent]))
    account_index = np.searchsorted(active, var_rows)
    a_eq = sparse.csr_matrix((np.ones(n_v), (account_index, np.arange(n_v))), shape=(len(active), n_v + n_u + 1))
    objective = np.r_[cost, np.full(n_u, big / (10.0 * n_u)), big]
    result = linprog(objective, A_ub=sparse.vstack(a_ub).tocsr(), b_ub=np.concatenate(b_ub), A_eq=a_eq,
                     b_eq=np.ones(len(active)), bounds=(0, None), method="highs")
    if result.status != 0:
        return Transfer(labels, _excess(labels, shares, targets, tolerance, frozen, extra), False, np.inf)
    x = result.x[:n_v]
    labels[active] = _round(x, account_index, var_terr, moves, len(active), keep_budget=budget is not None,
                            fallback=np.where(closed[origin[active]], current[active], origin[active]),
                            closed=closed)
    return Transfer(labels, _excess(labels, shares, targets, tolerance, frozen, extra), True, float(result.fun))


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
    target = np.asarray(targets, float)[:, None]
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


def check_penalty(penalty):
    """A move penalty (``move_penalty_km``) as a float distance, or None."""
    if penalty is None:
        return None
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float, np.floating)) or not np.isfinite(penalty) \
            or penalty < 0:
        raise InputError(f"move_penalty_km (CLI: --move-penalty-km) must be a distance in km, 0 or more, got {penalty!r}")
    return float(penalty)
