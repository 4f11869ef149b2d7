"""The issue's realignment method, literally, as a baseline for ``python -m benchmarks realign``.

One minimum-cost assignment (a linear program, scipy's HiGHS), restricted to
bordering territories, from today's plan:

* an account may move only to a territory that borders its own on the
  graph of the bordering lower bound (two territories border when an
  account of one has one of the other among its k = 8 nearest accounts);
* moving account ``i`` from its territory ``a`` to ``b`` costs
  ``w_i * (move_penalty_km + d(i, centre_b) - d(i, centre_a))``: its
  workload share ``w_i`` (the disruption) priced at the move penalty in km,
  plus its workload times the increase of its distance to the receiving
  territory's centre (today's centres, great-circle km); staying costs 0;
* every territory ends within ``target * (1 -+ tolerance)`` (aimed 2% inside
  it, as the package does, so rounding the few split accounts stays within);
* the few accounts the program splits between territories (at most as
  many as there are load rows) are then placed by a small integer program
  over their columns, every other account where the program put it, at
  the tolerance itself; where that has no solution, each goes where most
  of it is.

No re-centring, no second round, no accounts deeper inside, no repair: the
package's :class:`workbench.align.Realignment` must be at least as good on
moved share and on compactness. It is written here independently of the
package's program (only the bordering graph, which defines the bound, is
shared).
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

#: Aim this share of the tolerance (rounding the split accounts then stays within it).
_INSIDE = 0.98


def _centres(xyz, labels, weight, n_t):
    sums = np.stack([np.bincount(labels, weights=xyz[:, a] * weight, minlength=n_t) for a in range(3)], axis=1)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)


def _km(xyz, centres):
    from workbench.geo import EARTH_RADIUS_KM

    return EARTH_RADIUS_KM * np.arccos(np.clip((xyz * centres).sum(axis=1), -1.0, 1.0))


def bordering_flow(accounts, current, *, tolerance=0.05, metric="workload", move_penalty_km=None,
                   penalty_share=4.0, k=8):
    """Realign ``accounts`` (``current`` territory ids) by the baseline's single assignment; a dict of figures.

    ``move_penalty_km`` defaults to ``penalty_share`` times today's
    compactness (the package's default rule), so both sides price a move alike.
    """
    from workbench import metrics as wm
    from workbench.align.bounds import bordering_options
    from workbench.geo import to_unit_xyz

    start = time.perf_counter()
    ids, cur = np.unique(np.asarray(current).astype(str), return_inverse=True)
    n_t, n = len(ids), len(cur)
    w = accounts[metric].to_numpy(dtype=float)
    w = w / w.sum()
    xyz = to_unit_xyz(accounts["latitude"].to_numpy(dtype=float), accounts["longitude"].to_numpy(dtype=float))
    centres = _centres(xyz, cur, w, n_t)
    own = _km(xyz, centres[cur])
    before = float((w * own).sum())
    penalty = penalty_share * before if move_penalty_km is None else float(move_penalty_km)
    adjacency = bordering_options(xyz, cur, n_t, k=k).adjacency
    mrows, mterr = np.nonzero(adjacency[cur])
    active = np.unique(mrows)
    var_rows = np.r_[mrows, active]  # moves, then one "stay" per active account
    var_terr = np.r_[mterr, cur[active]]
    is_move = np.r_[np.ones(len(mrows), bool), np.zeros(len(active), bool)]
    increase = _km(xyz[var_rows], centres[var_terr]) - own[var_rows]
    cost = np.where(is_move, w[var_rows] * (penalty + increase), 0.0)
    n_v = len(var_rows)
    fixed = np.ones(n, bool)
    fixed[active] = False
    base = np.bincount(cur[fixed], weights=w[fixed], minlength=n_t)
    target = 1.0 / n_t
    low, high = target * (1 - tolerance * _INSIDE), target * (1 + tolerance * _INSIDE)
    load = sparse.csr_matrix((w[var_rows], (var_terr, np.arange(n_v))), shape=(n_t, n_v))
    a_ub = sparse.vstack([load, -load]).tocsr()
    b_ub = np.r_[high - base, base - low]
    a_eq = sparse.csr_matrix((np.ones(n_v), (np.searchsorted(active, var_rows), np.arange(n_v))),
                             shape=(len(active), n_v))
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(len(active)), bounds=(0, None),
                     method="highs")
    labels = cur.copy()
    solved = result.status == 0
    if solved:
        x = result.x
        order = np.lexsort((-x, var_rows))
        first = np.r_[True, var_rows[order][1:] != var_rows[order][:-1]]
        labels[var_rows[order][first]] = var_terr[order][first]
        split_rows = np.unique(var_rows[(x > 1e-6) & (x < 1 - 1e-6)])
        if split_rows.size:
            cols = np.flatnonzero(np.isin(var_rows, split_rows))
            others = np.setdiff1d(np.arange(n), split_rows)
            held = np.bincount(labels[others], weights=w[others], minlength=n_t)
            sub = sparse.csr_matrix((w[var_rows[cols]], (var_terr[cols], np.arange(len(cols)))),
                                    shape=(n_t, len(cols)))
            one = sparse.csr_matrix((np.ones(len(cols)), (np.searchsorted(split_rows, var_rows[cols]),
                                                         np.arange(len(cols)))), shape=(len(split_rows), len(cols)))
            exact = milp(cost[cols], integrality=np.ones(len(cols)), bounds=Bounds(0, 1),
                         constraints=[LinearConstraint(sub, target * (1 - tolerance) - held,
                                                       target * (1 + tolerance) - held),
                                      LinearConstraint(one, 1, 1)])
            if exact.x is not None:
                chosen = exact.x > 0.5
                labels[var_rows[cols][chosen]] = var_terr[cols][chosen]
    named = ids[labels]
    loads = np.bincount(labels, weights=w, minlength=n_t)
    deviation = float(np.abs(loads / target - 1).max())
    km_after = wm.overall_compactness_km(accounts, named, metric)
    km_before = wm.overall_compactness_km(accounts, ids[cur], metric)
    return {"baseline_solved": bool(solved), "baseline_move_penalty_km": penalty,
            "baseline_moved_share": float(w[labels != cur].sum()), "baseline_max_deviation": deviation,
            "baseline_within_tolerance": bool(deviation <= tolerance + 1e-9), "baseline_compactness_km": km_after,
            "baseline_compactness_vs_current": km_after / km_before,
            "baseline_seconds": time.perf_counter() - start}
