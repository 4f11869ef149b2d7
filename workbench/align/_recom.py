"""GerryChain's ReCom step: merge two adjacent parts and re-split the union along a random spanning tree.

Used by :func:`workbench.align._partition.balance` when no single move or exchange of boundary
nodes helps.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def _cost(loads: np.ndarray, band: float) -> np.ndarray:
    """Squared deviation beyond ``band`` (0: the plain squared deviation)."""
    return np.maximum(np.abs(loads - 1.0) - band, 0.0) ** 2


def recombine(labels, loads, weights, edges, fixed, frozen, giant, band, move, rng, preferred, tolerance,
               n_trees=40, n_parts_tried=5) -> bool:
    """Merge a worst part with a neighbour and re-split the union along a random spanning tree.

    The recombination step of GerryChain's ReCom: draw random spanning trees
    of the union (minimum spanning trees of random edge weights), cut the
    tree edge that balances the two sides best, and keep the split when it
    lowers the pair's cost. With ``preferred`` (current territories) the
    split that moves the least weight among those within tolerance wins.
    """
    cost = _cost(loads, band).sum(axis=1)
    cost[frozen] = -1.0
    cost[np.unique(labels[giant])] = -1.0  # a part around a too-heavy node cannot get better
    across = labels[edges[:, 0]] != labels[edges[:, 1]]
    part_pairs = np.unique(np.sort(labels[edges[across]], axis=1), axis=0)
    for a in np.argsort(-cost, kind="stable")[:n_parts_tried]:
        if cost[a] <= 1e-12:
            break
        neighbours = np.concatenate([part_pairs[part_pairs[:, 0] == a, 1], part_pairs[part_pairs[:, 1] == a, 0]])
        neighbours = neighbours[~frozen[neighbours]]
        for b in neighbours[np.argsort(loads[neighbours].mean(axis=1), kind="stable")]:
            members = (labels == a) | (labels == b)
            if fixed[members].any():
                continue
            nodes = np.flatnonzero(members)
            local = np.full(len(labels), -1)
            local[nodes] = np.arange(nodes.size)
            inner = edges[members[edges[:, 0]] & members[edges[:, 1]]]
            pair_edges = local[inner]
            total = loads[a] + loads[b]
            old_cost = cost[a] + cost[b]
            best = None
            for _ in range(n_trees):
                side = tree_split(nodes.size, pair_edges, weights[nodes], total, band, rng)
                if side is None:
                    continue
                first = weights[nodes[side]].sum(axis=0)
                new_cost = float((_cost(first, band) + _cost(total - first, band)).sum())
                if new_cost >= old_cost - 1e-12:
                    continue
                # Keep the labels that move the least weight.
                stay = weights[nodes].mean(axis=1)
                as_is = stay[(labels[nodes] == a) == side].sum()
                flip = stay[(labels[nodes] == a) != side].sum()
                moved = min(as_is, flip)
                within = max(np.abs(first - 1).max(), np.abs(total - first - 1).max()) <= tolerance
                key = (not within, moved, new_cost) if preferred is not None else (new_cost,)
                if best is None or key < best[0]:
                    best = (key, side if flip >= as_is else ~side)
            if best is None:
                continue
            side = best[1]
            for node, to_a in zip(nodes.tolist(), side.tolist()):
                target = a if to_a else b
                if labels[node] != target:
                    move(node, labels[node], target)
            return True
    return False


def tree_split(n, pair_edges, weights, total, band, rng):
    """Cut a random spanning tree of ``n`` nodes where the two sides balance best; the bool side mask."""
    from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

    if n < 2 or len(pair_edges) == 0:
        return None
    random = sparse.csr_matrix((rng.random(len(pair_edges)) + 1e-3, (pair_edges[:, 0], pair_edges[:, 1])), shape=(n, n))
    tree = minimum_spanning_tree(random)
    order, parent = breadth_first_order(tree, 0, directed=False)
    if order.size < n:  # the union is not connected: no split
        return None
    below = weights.copy()
    for node in order[:0:-1]:
        below[parent[node]] += below[node]
    candidates = order[1:]
    cost = (_cost(below[candidates], band) + _cost(total - below[candidates], band)).sum(axis=1)
    cut = candidates[int(np.argmin(cost))]
    side = np.zeros(n, dtype=bool)
    side[cut] = True
    for node in order[1:]:
        if parent[node] >= 0 and side[parent[node]]:
            side[node] = True
    return side
