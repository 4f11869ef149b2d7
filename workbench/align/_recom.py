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
            distinct = distinct_edges(nodes.size, pair_edges)
            total = loads[a] + loads[b]
            old_cost = cost[a] + cost[b]
            best = None
            for _ in range(n_trees):
                side = tree_split(nodes.size, pair_edges, weights[nodes], total, band, rng, distinct=distinct)
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


#: Trees larger than this get their subtree sums from a sparse triangular solve instead of a Python loop.
_LOOP_NODES = 800


def _parent_system(order, parent):
    """``I - P`` in the positions of ``order`` (``P``: child -> parent), upper triangular for a parent-first order."""
    n = len(order)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    child = order[1:]
    up = sparse.csr_matrix((np.full(n - 1, -1.0), (position[parent[child]], position[child])), shape=(n, n))
    return (up + sparse.identity(n, format="csr")).tocsr(), position


def subtree_sums(order, parent, values):
    """Sum of ``values`` (n, m) over every node's subtree, for a tree in a parent-first ``order``.

    ``order`` lists the nodes so that every parent comes before its children
    (a breadth- or depth-first order from the root), ``parent`` gives each
    node's parent (the root's is ignored). Small trees: one pass from the
    leaves up; large ones (the union of two ZIP-area territories has
    thousands of nodes): the same sums as one sparse triangular solve of
    ``(I - P) s = values`` in that order (``P`` the parent-of matrix), which
    runs in compiled code instead of a Python loop over the nodes.

    Examples
    --------
    >>> order, parent = np.array([0, 1, 2, 3]), np.array([-9999, 0, 0, 1])   # 0 -> (1 -> 3, 2)
    >>> subtree_sums(order, parent, np.ones((4, 1))).ravel().tolist()
    [4.0, 2.0, 1.0, 1.0]
    """
    below = np.array(values, dtype=float, copy=True)
    if len(order) <= _LOOP_NODES:
        for node in order[:0:-1]:
            below[parent[node]] += below[node]
        return below
    from scipy.sparse.linalg import spsolve_triangular

    system, position = _parent_system(order, parent)
    solved = spsolve_triangular(system, below.reshape(len(order), -1)[order], lower=False)
    return solved.reshape(len(order), -1)[position].reshape(below.shape)


def subtree_mask(order, parent, root):
    """The nodes of ``root``'s subtree (bool mask), for a tree in a parent-first ``order`` (see :func:`subtree_sums`).

    Examples
    --------
    >>> subtree_mask(np.array([0, 1, 2, 3]), np.array([-9999, 0, 0, 1]), 1).tolist()
    [False, True, False, True]
    """
    n = len(order)
    side = np.zeros(n, dtype=bool)
    side[root] = True
    if n <= _LOOP_NODES:
        for node in order[1:]:
            if parent[node] >= 0 and side[parent[node]]:
                side[node] = True
        return side
    from scipy.sparse.linalg import spsolve_triangular

    system, position = _parent_system(order, parent)  # s = e_root + P^T s: an indicator passed down the tree
    down = spsolve_triangular(system.T.tocsr(), side[order].astype(float), lower=True)
    return down[position] > 0.5


def small_spanning_tree(n, pair_edges, draw):
    """Minimum spanning tree of ``draw``-weighted edges, in breadth-first ``(order, parent)`` from node 0.

    The same tree and the same order as scipy's ``minimum_spanning_tree``
    then ``breadth_first_order(tree, 0, directed=False)`` (Kruskal's edges
    kept in their given direction; each node's neighbours visited as
    scipy's undirected search does: the heads of its own edges, then the
    tails of the edges into it, each in index order), without building
    sparse matrices: on the 20-60 nodes of two territories those cost
    about four fifths of a re-split (0.28 ms against 0.06 ms). Edges must
    not repeat in one direction (a sparse matrix would sum their weights).
    Nodes not reached from 0 are missing from ``order``.

    Examples
    --------
    >>> order, parent = small_spanning_tree(4, np.array([(0, 1), (1, 2), (0, 2), (2, 3)]), np.array([1., 2., 3., 4.]))
    >>> order.tolist(), parent[order[1:]].tolist()
    ([0, 1, 2, 3], [0, 1, 2])
    """
    ranked = np.argsort(draw, kind="stable")
    root = list(range(n))  # union-find of Kruskal's components

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    out = [[] for _ in range(n)]
    into = [[] for _ in range(n)]
    joined = 0
    for a, b in zip(pair_edges[ranked, 0].tolist(), pair_edges[ranked, 1].tolist()):
        x, y = find(a), find(b)
        if x == y:
            continue
        root[x] = y
        out[a].append(b)
        into[b].append(a)
        joined += 1
        if joined == n - 1:
            break
    parent = [-9999] * n
    seen = [False] * n
    seen[0] = True
    order = [0]
    for node in order:  # grows while it is read: a breadth-first queue
        for nxt in sorted(out[node]) + sorted(into[node]):
            if not seen[nxt]:
                seen[nxt] = True
                parent[nxt] = node
                order.append(nxt)
    return np.array(order, dtype=np.int32), np.array(parent, dtype=np.int32)


def distinct_edges(n, pair_edges) -> bool:
    """No edge of ``pair_edges`` (between ``n`` nodes) repeats in one direction (see :func:`small_spanning_tree`)."""
    codes = pair_edges[:, 0] * n + pair_edges[:, 1]
    return np.unique(codes).size == codes.size


def tree_split(n, pair_edges, weights, total, band, rng, distinct=None):
    """Cut a random spanning tree of ``n`` nodes where the two sides balance best; the bool side mask.

    ``distinct``: whether :func:`distinct_edges` holds (None: checked here; a caller drawing many trees of
    one union checks once).
    """
    from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

    if n < 2 or len(pair_edges) == 0:
        return None
    draw = rng.random(len(pair_edges)) + 1e-3
    if distinct is None:
        distinct = distinct_edges(n, pair_edges)
    if n <= _LOOP_NODES and distinct:
        order, parent = small_spanning_tree(n, pair_edges, draw)
    else:  # large unions, or repeated edges (a sparse matrix sums their weights): scipy's compiled graph code
        random = sparse.csr_matrix((draw, (pair_edges[:, 0], pair_edges[:, 1])), shape=(n, n))
        tree = minimum_spanning_tree(random)
        order, parent = breadth_first_order(tree, 0, directed=False)
    if order.size < n:  # the union is not connected: no split
        return None
    below = subtree_sums(order, parent, weights)
    candidates = order[1:]
    cost = (_cost(below[candidates], band) + _cost(total - below[candidates], band)).sum(axis=1)
    cut = candidates[int(np.argmin(cost))]
    return subtree_mask(order, parent, cut)
