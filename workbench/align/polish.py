"""Greenfield polish: exact balanced assignment to the nearest centres, alternated with re-centring.

:func:`exact_assignment` solves, for fixed centres, the balanced assignment
exactly as a linear program (scipy's HiGHS): every account goes to one of its
``n_candidates`` nearest centres, every territory's load stays within
tolerance on every metric, and the workload-weighted distance to the centres
is as small as it can be (a min-cost flow in all but the few accounts a
vertex splits, which are rounded and tidied). :func:`polish_alignment`
alternates it with re-centring until the plan stops improving; it is the
last step of :class:`~workbench.align.balanced.BalancedTerritories` when
``exact_polish=True``. :func:`exact_assignment_search` is the long reference
search of ``python -m benchmarks realign``: the same from many perturbed
starts.
"""

from __future__ import annotations

import numpy as np

from workbench.align import _balance, _transfer
from workbench.align.base import Distance, unit_centres

#: Nearest centres an account may be assigned to.
N_POLISH_CANDIDATES = 4

#: An account is contested when another candidate costs at most this multiple of its own (squared distance).
_CONTESTED = 1.5


def exact_assignment(dist: Distance, shares, centres, targets, tolerance, labels, *, fixed=None,
                     n_candidates=N_POLISH_CANDIDATES):
    """Most compact balanced assignment of the accounts to fixed ``centres`` (one LP); returns labels.

    ``labels`` (a balanced plan) is the fallback: when the program cannot
    keep the tolerance, or its rounding leaves a territory out of it after
    the tidy, the input labels come back unchanged.
    """
    n_t = len(targets)
    weight = shares.mean(axis=1)
    movable = np.ones(len(labels), dtype=bool) if fixed is None else fixed < 0
    cand, cost = dist.candidates(centres, min(n_candidates, n_t))
    # Only contested accounts get a choice: a candidate at most a little costlier than their own centre
    # (the rest would never move in the optimum; leaving them out keeps the program small).
    own = dist.cost(np.arange(len(labels)), labels, centres)
    near = (cost <= own[:, None] * _CONTESTED + 1e-18) & (cand != labels[:, None])
    rows, col = np.nonzero(near)
    terr = cand[rows, col]

    def km(r, t):
        cost = dist.cost(r, t, centres)
        return _transfer.chord_cost_km(cost) if dist.kind == "chord" else np.sqrt(cost)

    frozen = np.zeros(n_t, dtype=bool)
    result = _transfer.transfer(labels, shares, targets, tolerance * 0.9, rows, terr, km, weight, penalty_km=0.0,
                                movable=movable, frozen=frozen)
    out = result.labels
    if result.excess > 0:
        cand_all, cost = dist.candidates(centres, min(12, n_t))
        cand_all = _balance.neighbour_candidates(out, cand_all, cost)
        target, low, high = _balance.bounds(targets, shares.shape[1], tolerance * 0.999)
        out, _, within = _balance.greedy_repair(out, shares, target, low, high, cand_all, cost,
                                                lambda r, t: dist.cost(r, t, centres), movable, frozen, aim=0.9)
        if not within:
            return labels
    return out


def polish_alignment(dist: Distance, shares, labels, targets, tolerance, *, fixed=None, max_rounds=8,
                     n_candidates=N_POLISH_CANDIDATES):
    """Alternate :func:`exact_assignment` and re-centring until the compactness stops improving.

    Returns ``(labels, centres, rounds)``; the plan returned is the most
    compact one seen, and never less compact than ``labels``.
    """
    weight = shares.mean(axis=1)
    n_t = len(targets)
    centres = unit_centres(dist.xyz, labels, weight, n_t)
    best = (_compactness(dist, labels, centres, weight), labels, centres)
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        new = exact_assignment(dist, shares, centres, targets, tolerance, best[1], fixed=fixed,
                               n_candidates=n_candidates)
        centres = unit_centres(dist.xyz, new, weight, n_t, previous=centres)
        score = _compactness(dist, new, centres, weight)
        if score >= best[0] * (1 - 1e-4):
            if score < best[0]:
                best = (score, new, centres)
            break
        best = (score, new, centres)
    return best[1], best[2], rounds


def exact_assignment_search(accounts, labels, *, tolerance=0.05, restarts=10, seed=0, candidates=8,
                            jitter_km=60.0):
    """Long reference search: :func:`polish_alignment` from ``labels`` and from ``restarts`` perturbed copies
    (every centre moved by up to ``jitter_km``), with ``candidates`` nearest centres per account; returns the
    most compact labels (indices into the sorted unique ids of ``labels``, as str ids) within tolerance."""
    ids, start = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    shares = accounts[["workload"]].to_numpy(dtype=float)
    shares = shares / shares.sum(axis=0)
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    targets = np.full(len(ids), 1.0 / len(ids))
    rng = np.random.default_rng(seed)
    best_labels, best_centres, _ = polish_alignment(dist, shares, start, targets, tolerance, n_candidates=candidates,
                                                    max_rounds=30)
    best = _compactness(dist, best_labels, best_centres, shares[:, 0])
    for _ in range(restarts):
        centres = unit_centres(dist.xyz, best_labels, shares[:, 0], len(ids))
        centres = centres + rng.normal(scale=jitter_km / 6371.0, size=centres.shape)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        moved = exact_assignment(dist, shares, centres, targets, tolerance, best_labels, n_candidates=candidates)
        trial, trial_centres, _ = polish_alignment(dist, shares, moved, targets, tolerance, n_candidates=candidates,
                                                   max_rounds=30)
        score = _compactness(dist, trial, trial_centres, shares[:, 0])
        if score < best:
            best, best_labels = score, trial
    return ids[best_labels]


def _compactness(dist, labels, centres, weight):
    cost = dist.cost(np.arange(len(labels)), labels, centres)
    km = _transfer.chord_cost_km(cost) if dist.kind == "chord" else np.sqrt(cost)
    return float((weight * km).sum() / max(weight.sum(), 1e-300))
