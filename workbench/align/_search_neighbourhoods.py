"""Large neighbourhoods of the contiguous search: merge and re-split, location-allocation, oscillation.

Part of :mod:`workbench.align.contiguous_search` (see its docstring for the
design). Each perturbation takes the search state and a random generator,
changes the plan through the state's journal (so the driver can undo it)
and returns False when it could not end within the balance bands.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

from workbench.align._search_moves import local_search, restore
from workbench.align._search_state import SearchState

def resplit(state: SearchState, rng, scale: float, deadline: float, n_trees: int = 6, max_cuts: int = 24) -> bool:
    """Merge a random pair of adjacent parts and re-cut it along the best cut of geographic spanning trees.

    Cuts are scored by the pair's objective plus a random multiple of their
    balance violation (soft bands, as in :func:`oscillate`); the pair is
    then repaired to the bands by local search. False (undo) if it cannot be.
    """
    across = state.labels[state.edges[:, 0]] != state.labels[state.edges[:, 1]]
    pairs = np.unique(np.sort(state.labels[state.edges[across]], axis=1), axis=0)
    pairs = pairs[~state.frozen[pairs].any(axis=1)]
    if len(pairs) == 0:
        return False
    a, b = (int(v) for v in pairs[rng.integers(len(pairs))])
    nodes = np.flatnonzero((state.labels == a) | (state.labels == b))
    if not state.movable_edge[np.isin(state.src, nodes)].all():
        return False  # a fixed node in the pair: leave it to the moves
    local = np.full(state.n, -1)
    local[nodes] = np.arange(nodes.size)
    inner = state.edges[(local[state.edges[:, 0]] >= 0) & (local[state.edges[:, 1]] >= 0)]
    if len(inner) == 0:
        return False
    ends = local[inner]
    length = np.linalg.norm(state.coords[inner[:, 0]] - state.coords[inner[:, 1]], axis=1) + 1e-9
    w = state.weights[nodes]
    total = w.sum(axis=0)
    lam = float(rng.uniform(0.2, 2.0)) * scale / state.k
    masks, violations = [], []
    for _ in range(n_trees):
        noisy = length * rng.uniform(1.0, 2.0, len(length))
        graph = sparse.csr_matrix((noisy, (ends[:, 0], ends[:, 1])), shape=(nodes.size, nodes.size))
        tree = minimum_spanning_tree(graph)
        root = int(rng.integers(nodes.size))
        order, parent = depth_first_order(tree, root, directed=False)
        if order.size < nodes.size:
            return False  # the pair is not connected (a locked split part): leave it alone
        below = w.copy()
        size = np.ones(nodes.size, dtype=np.int64)
        for node in order[:0:-1]:
            below[parent[node]] += below[node]
            size[parent[node]] += size[node]
        cut = np.repeat(order[1:], 2)
        flip = np.tile([False, True], nodes.size - 1)
        side, rest = below[cut], total - below[cut]
        load_a, load_b = np.where(flip[:, None], rest, side), np.where(flip[:, None], side, rest)
        violation = (state.violation(load_a, a) + state.violation(load_b, b)).sum(axis=1)
        chosen = np.lexsort((rng.random(violation.size), violation))[:max_cuts]
        position = np.empty(nodes.size, dtype=np.int64)
        position[order] = np.arange(nodes.size)
        for i in chosen:
            c = cut[i]
            mask = np.zeros(nodes.size, dtype=bool)
            mask[order[position[c]:position[c] + size[c]]] = True
            masks.append(~mask if flip[i] else mask)
            violations.append(violation[i])
    masks = np.array(masks)
    cost_a, cost_b = state.obj.split_costs(nodes, masks)
    score = cost_a + cost_b + lam * np.array(violations)
    if state.penalty is not None:
        score = score + state.penalty[nodes[None, :], np.where(masks, a, b)].sum(axis=1)
    _apply_split(state, nodes, np.where(masks[int(np.argmin(score))], a, b), a, b)
    return state.total_violation() <= 1e-9 or restore(state, scale, deadline, rng)


def _apply_split(state: SearchState, nodes, target, a, b):
    """Relabel ``nodes`` to ``target`` through the journal (the objective state follows each move)."""
    for node, part in zip(nodes.tolist(), target.tolist()):
        current = int(state.labels[node])
        if current != part:
            state.move(node, current, int(part))
    # Either part may have been emptied and refilled in between: both now hold their new side.
    if state.counts[a] == 0 or state.counts[b] == 0:  # cannot happen with balanced sides; stay safe
        raise RuntimeError("re-split emptied a part")



def oscillate(state: SearchState, rng, scale: float, deadline: float) -> bool:
    """Strategic oscillation: descend with soft balance bands, then repair the balance; False if it cannot."""
    unit = scale / state.k
    local_search(state, scale, deadline, lam=float(rng.uniform(0.2, 2.0)) * unit)
    return state.total_violation() <= 1e-9 or restore(state, scale, deadline, rng)


def reassign(state: SearchState, rng, scale: float, deadline: float, n_candidates: int = 5) -> bool:
    """Location-allocation: shift a centre or two, re-assign every node by a linear program, repair.

    The classic districting step (Hess et al.): with the centres fixed, the
    balanced assignment of nodes to the nearest centres is a transportation
    problem. Its LP relaxation (HiGHS, each node's current part and its
    ``n_candidates`` nearest centres as the options, the bands as
    constraints) is integral but for a few nodes, which go to their largest
    share; pieces cut off join a neighbouring part and the repair stage
    restores the bands. False (undo) when it cannot.
    """
    from scipy.optimize import linprog

    from workbench.align._partition import repair_connectivity

    k, n = state.k, state.n
    members = [state.members(p) for p in range(k)]
    centres = state.obj.centres(members).copy()
    for p in rng.choice(k, size=min(k, int(rng.integers(1, 3))), replace=False):
        pool = np.unique(np.concatenate([members[p], state.dst[np.isin(state.src, members[p])]]))
        centres[p] = state.coords[int(rng.choice(pool))]
    c = min(k, n_candidates)
    dist = np.linalg.norm(state.coords[:, None, :] - centres[None, :, :], axis=2)
    dist[:, state.frozen] = np.inf
    options = np.argsort(dist, axis=1)[:, :c]
    options = np.column_stack([state.labels, options])
    rows = np.repeat(np.arange(n), options.shape[1])
    pairs = np.unique(rows * k + options.ravel())
    rows, cols = pairs // k, pairs % k
    fixed = ~state.movable_edge_node
    stay = (cols == state.labels[rows]) | (~fixed[rows] & ~state.frozen[state.labels[rows]] & ~state.frozen[cols])
    rows, cols = rows[stay], cols[stay]
    cost = state.obj.q[rows] * np.linalg.norm(state.coords[rows] - centres[cols], axis=1)
    if state.penalty is not None:
        cost = cost + state.penalty[rows, cols]
    nv = rows.size
    m = state.weights.shape[1]
    a_eq = sparse.csr_matrix((np.ones(nv), (rows, np.arange(nv))), shape=(n, nv))
    load_rows = (cols[:, None] * m + np.arange(m)[None, :]).ravel()
    load_vals = state.weights[rows].ravel()
    var = np.repeat(np.arange(nv), m)
    upper = sparse.csr_matrix((load_vals, (load_rows, var)), shape=(k * m, nv))
    a_ub = sparse.vstack([upper, -upper]).tocsr()
    b_ub = np.concatenate([state.hi.ravel(), -state.lo.ravel()])
    solved = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1), method="highs")
    state.work += n  # the linear program costs about as much as moving every node once
    if solved.status != 0:
        return False
    share = solved.x
    order = np.lexsort((-share, rows))
    first = np.ones(nv, dtype=bool)
    first[1:] = rows[order][1:] != rows[order][:-1]
    target = state.labels.copy()
    target[rows[order][first]] = cols[order][first]
    if (np.bincount(target, minlength=k) == 0).any():
        return False
    target = repair_connectivity(n, state.edges, target, state.weights, fixed, np.flatnonzero(state.frozen), k)
    if (np.bincount(target, minlength=k) == 0).any():
        return False
    for node in np.flatnonzero(target != state.labels).tolist():
        state.move(node, int(state.labels[node]), int(target[node]))
    return state.total_violation() <= 1e-9 or restore(state, scale, deadline, rng)

