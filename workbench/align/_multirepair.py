"""Last-resort repair for several metrics at once: exact moves and swaps of boundary accounts.

The greedy repair of :mod:`workbench.align._balance` moves one account at a
time and only where that lowers the violation on every metric together.
With several metrics and lumpy accounts (a few accounts holding a fifth of
a territory's revenue) it can get stuck: territory ``A`` is over on
revenue and fine on workload, its neighbour ``B`` the other way round, and
no single move helps both. Swapping a revenue-heavy account of ``A`` for a
workload-heavy one of ``B`` does.

:func:`multi_repair` runs rounds. Each round, for every pair of
neighbouring territories of which at least one is near or over a bound, it
scores every single move and every swap among the few boundary accounts
of each side (the cheapest to move across that border, plus the best
single moves for balance), by the exact change of the penalty::

    sum over metrics and territories of
        W * max(0, r - 1) ** 2 + max(0, r - aim) ** 2,   r = |load / target - 1| / tolerance

(``r`` is the deviation in units of the tolerance, so metrics count
alike), plus a small cost for the longer distances. The second term makes
room: it rewards moves that bring a territory near a bound back towards
its target, so excess can travel through a neighbour that is itself
within the tolerance. The best move of each pair is then applied in order
of score, each re-checked against the loads left by the moves before it,
so every accepted move lowers the penalty exactly and rounds never undo
each other. It stops when every territory is within the tolerance, when no
move lowers the penalty, or after ``max_rounds``.

Locked accounts (``movable`` False) never move; frozen territories neither
give nor take accounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.align._balance import loads_of

#: Weight of the part of a deviation beyond the tolerance against the part inside it.
_OVER = 100.0

#: Progress means the excess beyond the tolerance fell below this share of its best so far.
_PROGRESS = 0.95

#: A move must lower the penalty by more than this (round-off).
_GAIN = 1e-9


def _unit_penalty(units, aim):
    """Penalty of deviations given in units of the tolerance (elementwise)."""
    size = np.abs(units)
    return _OVER * np.square(np.maximum(size - 1.0, 0.0)) + np.square(np.maximum(size - aim, 0.0))


#: The target a closing territory (target 0) is measured against: any load left in it is a very large but
#: finite deviation, and an empty one is on target (no 0/0), as in :func:`workbench.align._balance._violation`.
_CLOSED_TARGET = 1e-9


def _units(load, target, tolerance):
    """Deviations of loads ``(..., m)`` from targets ``(...)`` in units of the tolerance.

    A closing territory (target 0) is measured against :data:`_CLOSED_TARGET`
    instead of its target minus one, so it is on target exactly when empty.

    >>> _units(np.array([[0.55], [0.0], [0.01]]), np.array([0.5, 0.0, 0.0]), 0.05).round(2).ravel().tolist()
    [2.0, 0.0, 200000000.0]
    """
    target = np.asarray(target, dtype=float)[..., None]
    closing = target <= 0
    return np.where(closing, load / _CLOSED_TARGET, load / np.where(closing, 1.0, target) - 1.0) / tolerance


def _per_share(target, tolerance):
    """Units of :func:`_units` per unit of load moved (closing territories against :data:`_CLOSED_TARGET`)."""
    return 1.0 / (np.maximum(target, _CLOSED_TARGET) * tolerance)


def penalty(load, target, tolerance, aim=0.5):
    """Penalty of loads ``(..., m)`` against targets ``(...)``, summed over the metrics.

    Examples
    --------
    Workload 10% over its target at a 5% tolerance (twice the tolerance),
    revenue on target:

    >>> penalty(np.array([[0.55, 0.5]]), np.array([0.5]), 0.05).round(2).tolist()
    [102.25]
    """
    return _unit_penalty(_units(load, target, tolerance), aim).sum(axis=-1)


def multi_repair(labels, shares, targets, tolerance, cand, cand_cost, own_cost, movable, frozen, *,
                 width=None, pool=(24, 16), aim=0.5, distance_weight=0.003, max_rounds=150, patience=20):
    """Bring every territory within ``tolerance`` on every metric with moves and swaps of boundary accounts.

    Parameters
    ----------
    labels : (n,) int array
        Current territory of each account (an updated copy is returned).
    shares : (n, m) array
        Metric shares of each account.
    targets : (t,) array
        Target share per territory (the same for every metric).
    tolerance : float
        Largest allowed deviation from the target, as a share of it.
    cand, cand_cost : (n, k) arrays
        Candidate territories of each account (nearest first; entries equal
        to the account's own territory are ignored) and the cost of each;
        ``own_cost(rows, territories)`` gives the cost of accounts ``rows``
        in the given territories.
    movable : (n,) bool array
        False for locked accounts.
    frozen : (t,) bool array
        Territories that neither give nor take accounts.
    width : int, optional
        Candidates looked at per account (its nearest other territories;
        default all). Only neighbouring territories should be candidates
        (see :func:`workbench.align._balance.neighbour_candidates`); looking
        past the nearest few of them is what lets excess leave a region
        that is over as a whole.
    pool : (int, int)
        Accounts per side of a border whose swaps are scored: the cheapest
        to move, and the best single moves for balance.
    aim : float
        Inside the tolerance, deviations beyond ``aim * tolerance`` still
        cost a little (that makes room for excess passing through).
    distance_weight : float
        Weight of the cost increase (relative to the median assignment cost).
    max_rounds : int
    patience : int
        Stop when the part of the deviations beyond the tolerance has not
        shrunk for this many rounds (only moves inside the tolerance left).

    Returns
    -------
    labels, rounds, within

    Examples
    --------
    Two territories, one at 55% of the workload and 45% of the revenue,
    the other the reverse. No single move helps; swapping a workload-heavy
    account for a revenue-heavy one balances both.

    >>> shares = np.array([[0.35, 0.25], [0.2, 0.2], [0.3, 0.3], [0.15, 0.25]])
    >>> labels = np.array([0, 0, 1, 1])
    >>> cand = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    >>> out, rounds, within = multi_repair(labels, shares, np.array([0.5, 0.5]), 0.05, cand, np.ones((4, 2)),
    ...                                    lambda rows, t: np.ones(np.shape(rows)), np.ones(4, bool), np.zeros(2, bool))
    >>> out.tolist(), within
    ([1, 0, 0, 1], True)
    """
    labels = np.asarray(labels).copy()
    targets = np.asarray(targets, dtype=float)
    n_t = len(targets)
    width = cand.shape[1] if width is None else min(width, cand.shape[1])
    cand, cand_cost = cand[:, :width], cand_cost[:, :width]
    free = movable & ~frozen[labels]
    scale = float(np.median(own_cost(np.flatnonzero(free), labels[free]))) if free.any() else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    rounds = 0
    best, since = np.inf, 0
    for rounds in range(1, max_rounds + 1):
        load = loads_of(labels, shares, n_t)
        excess = _excess(load, targets, tolerance)
        if excess <= 0:
            return labels, rounds, True
        best, since = (excess, 0) if excess < best * _PROGRESS else (best, since + 1)
        if since >= patience:
            break
        moves = _best_moves(labels, shares, load, targets, tolerance, cand, cand_cost, own_cost, movable, frozen,
                            pool=pool, aim=aim, weight=distance_weight / scale)
        if moves is None or not _apply(labels, shares, load, targets, tolerance, aim, moves):
            break
    load = loads_of(labels, shares, n_t)
    return labels, rounds, _within(load, targets, tolerance)


def _excess(load, targets, tolerance):
    """Sum of the squared deviations beyond the tolerance (0 when every territory is within it)."""
    return float((np.maximum(np.abs(_units(load, targets, tolerance)) * tolerance - tolerance - 1e-12, 0.0) ** 2)
                 .sum())


def _within(load, targets, tolerance):
    return _excess(load, targets, tolerance) <= 0


def _best_moves(labels, shares, load, targets, tolerance, cand, cand_cost, own_cost, movable, frozen, *,
                pool, aim, weight):
    """Best single move or swap per pair of neighbouring territories: (score, lo, hi, account_lo, account_hi).

    ``account_lo`` moves from territory ``lo`` to ``hi`` and ``account_hi``
    the other way (-1: none). None when no pair has an improving move.
    """
    n_t = len(targets)
    tpen = penalty(load, targets, tolerance, aim)
    hot = (tpen > 0) & ~frozen
    rows = np.flatnonzero(movable & ~frozen[labels])
    src = labels[rows]
    r_idx, c_idx = np.nonzero((cand[rows] != src[:, None]) & ~frozen[cand[rows]]
                              & (hot[src][:, None] | hot[cand[rows]]))
    if r_idx.size == 0:
        return None
    acc = rows[r_idx]
    a = labels[acc]
    b = cand[acc, c_idx]
    with_moves = np.unique(r_idx)  # each account's own cost once, not once per candidate
    own = np.zeros(len(rows))
    own[with_moves] = own_cost(rows[with_moves], src[with_moves])
    dcost = cand_cost[acc, c_idx] - own[r_idx]
    dcost = np.nan_to_num(dcost, nan=0.0, posinf=1e300, neginf=-1e300) * weight
    w = shares[acc]
    single = (penalty(load[a] - w, targets[a], tolerance, aim) + penalty(load[b] + w, targets[b], tolerance, aim)
              - tpen[a] - tpen[b]) + dcost
    # Per directed border: the cheapest accounts to move and the best single moves for balance.
    group = a * n_t + b
    by_cost = np.lexsort((acc, dcost, group))
    by_gain = np.lexsort((acc, single, group))
    keep = np.zeros(acc.size, dtype=bool)
    keep[by_cost[_rank_in_group(group[by_cost]) < pool[0]]] = True
    keep[by_gain[_rank_in_group(group[by_gain]) < pool[1]]] = True
    acc, a, b, dcost, w = acc[keep], a[keep], b[keep], dcost[keep], w[keep]
    # Undirected pairs; side 0 holds the accounts of the lower-numbered territory.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    side = (a > b).astype(np.int64)
    pair_key, pair = np.unique(lo * n_t + hi, return_inverse=True)
    pair = pair.ravel()
    order = np.lexsort((acc, side, pair))
    slot = _rank_in_group((pair * 2 + side)[order]) + 1
    n_p, k = len(pair_key), int(slot.max()) + 1
    p, s = pair[order], side[order]
    slot_w = np.zeros((n_p, 2, k, w.shape[1]))
    slot_cost = np.zeros((n_p, 2, k))
    slot_acc = np.full((n_p, 2, k), -1)
    slot_w[p, s, slot] = w[order]
    slot_cost[p, s, slot] = dcost[order]
    slot_acc[p, s, slot] = acc[order]
    t_lo, t_hi = pair_key // n_t, pair_key % n_t
    # Every combination: account i of lo goes to hi, account j of hi to lo (slot 0: nobody); deviations
    # in units of the tolerance, one metric at a time (small temporaries).
    units = _units(load, targets, tolerance)
    per_lo = _per_share(targets[t_lo], tolerance)[:, None, None]
    per_hi = _per_share(targets[t_hi], tolerance)[:, None, None]
    gain = np.broadcast_to(-(tpen[t_lo] + tpen[t_hi])[:, None, None], (n_p, k, k)).copy()
    for m in range(slot_w.shape[-1]):
        shift = slot_w[:, 0, :, None, m] - slot_w[:, 1, None, :, m]
        gain += _unit_penalty(units[t_lo, m][:, None, None] - shift * per_lo, aim)
        gain += _unit_penalty(units[t_hi, m][:, None, None] + shift * per_hi, aim)
    score = gain + slot_cost[:, 0, :, None] + slot_cost[:, 1, None, :]
    first = np.arange(k) == 0
    usable = (slot_acc >= 0) | first  # slot 0 (nobody) or an account; the rest is padding
    real = usable[:, 0, :, None] & usable[:, 1, None, :] & ~(first[:, None] & first[None, :])
    score = np.where(real & (gain < -_GAIN), score, np.inf).reshape(n_p, -1)
    best = np.argmin(score, axis=1)
    value = score[np.arange(n_p), best]
    ok = np.isfinite(value)
    if not ok.any():
        return None
    i, j = np.divmod(best[ok], k)
    idx = np.flatnonzero(ok)
    moves = pd.DataFrame({"score": value[ok], "lo": t_lo[ok], "hi": t_hi[ok],
                          "acc_lo": slot_acc[idx, 0, i], "acc_hi": slot_acc[idx, 1, j]})
    return moves.sort_values(["score", "lo", "hi"], kind="stable")


def _rank_in_group(sorted_groups):
    """Position of each element within its run of equal values (input sorted by group)."""
    n = len(sorted_groups)
    start = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]] if n else np.zeros(0, dtype=bool)
    first = np.flatnonzero(start)
    return np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))


def _apply(labels, shares, load, targets, tolerance, aim, moves):
    """Apply the proposed moves in order, each only if it still lowers the penalty; True if any was applied.

    At most one proposal per pair of territories (a few hundred at most), so
    the loop is over territory pairs, never over accounts.
    """
    applied = False
    for lo, hi, x, y in zip(moves["lo"].to_numpy(), moves["hi"].to_numpy(), moves["acc_lo"].to_numpy(),
                            moves["acc_hi"].to_numpy()):
        if (x >= 0 and labels[x] != lo) or (y >= 0 and labels[y] != hi):
            continue
        shift = (shares[x] if x >= 0 else 0.0) - (shares[y] if y >= 0 else 0.0)
        both = np.array([lo, hi])
        before = penalty(load[both], targets[both], tolerance, aim).sum()
        after = penalty(load[both] + np.array([-1.0, 1.0])[:, None] * shift, targets[both], tolerance, aim).sum()
        if after >= before - _GAIN:
            continue
        load[lo] -= shift
        load[hi] += shift
        if x >= 0:
            labels[x] = hi
        if y >= 0:
            labels[y] = lo
        applied = True
    return applied
