"""Contiguous balanced graph partitioning: the plain-array core of the block-based estimators.

Everything here works on integer node positions ``0..n-1``:

- ``edges``: ``(n_edges, 2)`` int array of undirected adjacency pairs,
- ``weights``: ``(n, n_metrics)`` float array, normalised so that the target
  load of one part is ``1.0`` for every metric,
- ``xyz``: ``(n, 3)`` unit-sphere coordinates of the nodes (for compactness),
- ``labels``: ``(n,)`` int array, the part of every node.

The algorithm (see :func:`partition`):

1. **Seed** with a recursive bisection that grows one half through the graph
   along the principal axis of the coordinates until it holds its share of
   the weight (a connected sweep line), so parts start balanced and compact.
2. **Repair connectivity**: every part keeps its heaviest connected piece;
   orphan pieces join the lightest adjacent part.
3. **Balance** by local search: boundary nodes move from heavier to lighter
   adjacent parts when the sum of squared deviations falls, no other metric
   leaves the tolerance, and the donor stays connected (the node is not an
   articulation point of the donor's subgraph). Among moves of similar gain
   the most compact one wins. When no single move helps, two boundary nodes
   of adjacent parts are exchanged (both parts checked for connectivity);
   when that fails too, a worst part and a neighbour are merged and re-split
   along a random spanning tree (GerryChain's ReCom step), and load is
   passed along chains of parts as a min-cost flow realised by border moves
   (:mod:`workbench.align._flow`; on large graphs before recombining): a
   region of equally heavy parts is a plateau for single moves.
4. **Polish** (optional): within tolerance, nodes move to an adjacent part
   whose centre is nearer when both parts stay within tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from workbench.align._flow import flow_step
from workbench.align._graph import adjacency_csr, fragments, is_contiguous
from workbench.align._recom import _cost, recombine
from workbench.align._search_state import leaves_connected, one_blas_thread
from workbench.align._seed import repair_connectivity, seed_bisection
from workbench.schema import DEFAULT_TOLERANCE

__all__ = ["PartitionResult", "balance", "feasible_deviation", "fragments", "is_contiguous", "partition",
           "repair_connectivity", "seed_bisection"]

#: Recombinations (merge two parts, re-split along a random spanning tree) allowed per part before the
#: local search gives up: each one is costly, and a few per part were enough on every graph we tried.
RECOMBINATIONS_PER_PART = 4
#: Graphs of at least this many nodes try a flow step (see :mod:`workbench.align._flow`) before recombining:
#: their blocks are fine enough to realise a flow closely, and their recombinations are slow.
FLOW_FIRST_NODES = 5_000
#: Flow steps per balancing (each one that lowers the largest deviation is kept; one that does not ends them).
FLOW_STEPS = 20
#: Rounds of compactness polishing once the partition is within tolerance: polishing gains little after
#: the first few dozen rounds, and every round costs as much as a balancing one.
POLISH_ROUNDS = 50


@dataclass
class PartitionResult:
    """Outcome of :func:`partition`.

    ``converged`` says the tolerance was met (apart from parts holding a node
    heavier than a part may be, see :func:`feasible_deviation`); ``repaired``
    holds the labels after the connectivity repair, before balancing;
    ``deviation`` is the largest fixable deviation (see :func:`feasible_deviation`).
    """

    labels: np.ndarray
    n_iter: int
    converged: bool
    repaired: np.ndarray | None = None
    deviation: float = 0.0


def balance(labels, edges, weights, xyz, tolerance, *, n_parts, fixed, frozen_parts, max_iter,
            preferred=None, polish=True, progress=None, band=0.0, recombine_rng=None):
    """Local search of boundary moves; returns ``(labels, rounds, largest fixable deviation)``."""
    labels = labels.copy()
    n, n_metrics = weights.shape
    k = n_parts
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    csr = adjacency_csr(n, edges)
    adj = np.split(csr.indices, csr.indptr[1:-1])
    adj = [row.tolist() for row in adj]

    def leaves(node, part):  # the part stays connected without the node (a local test, see leaves_connected)
        return leaves_connected(adj, labels, node, part)
    frozen = np.zeros(k, dtype=bool)
    frozen[list(frozen_parts)] = True
    centre_weight = weights.mean(axis=1) + 1e-6
    loads = np.zeros((k, n_metrics))
    np.add.at(loads, labels, weights)
    sums = np.zeros((k, 3))
    np.add.at(sums, labels, xyz * centre_weight[:, None])
    counts = np.bincount(labels, minlength=k)
    movable = ~fixed[src]
    giant = (weights > 1.0 + tolerance + 1e-12).any(axis=1)
    rng = np.random.default_rng() if recombine_rng is None else recombine_rng
    recombinations, max_recombinations = 0, RECOMBINATIONS_PER_PART * k

    def move(node, donor, receiver):
        labels[node] = receiver
        loads[donor] -= weights[node]
        loads[receiver] += weights[node]
        sums[donor] -= xyz[node] * centre_weight[node]
        sums[receiver] += xyz[node] * centre_weight[node]
        counts[donor] -= 1
        counts[receiver] += 1

    # A plateau of about equally heavy parts (see workbench.align._flow): pass the load along the parts' graph.
    # On large graphs (fine blocks, slow recombinations) before recombining, else once recombining fails too.
    large = n >= FLOW_FIRST_NODES
    flows = {"left": FLOW_STEPS}

    def flow():
        if giant.any() or flows["left"] <= 0:
            return False
        kept = flow_step(labels, loads, weights, edges, adj, fixed, frozen, move, leaves,
                         lambda: feasible_deviation(loads, labels, weights, giant, frozen), tolerance)
        flows["left"] = flows["left"] - 1 if kept else 0
        return kept

    rounds = 0
    polishing = False
    within = False
    polish_rounds = 0
    while rounds < max_iter:
        deviation = feasible_deviation(loads, labels, weights, giant, frozen)
        within = deviation <= tolerance + 1e-12
        if progress is not None:
            progress.set_postfix_str(f"max deviation {deviation:.1%}")
        if within and not polishing:
            if not polish:
                break
            polishing = True
        if polishing and (polish_rounds >= POLISH_ROUNDS or not within):
            break
        a = labels[src]
        c = labels[dst]
        candidate = movable & (a != c) & ~frozen[a] & ~frozen[c] & (counts[a] > 1)
        u, a, c = src[candidate], a[candidate], c[candidate]
        key = u * k + c
        _, first = np.unique(key, return_index=True)
        u, a, c = u[first], a[first], c[first]
        x = weights[u]
        new_a = loads[a] - x
        new_c = loads[c] + x
        centres = sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(1e-12)
        closer = np.linalg.norm(xyz[u] - centres[c], axis=1) - np.linalg.norm(xyz[u] - centres[a], axis=1)
        if polishing:
            ok = (closer < -1e-9) & (np.abs(new_a - 1.0).max(axis=1) <= tolerance) & (np.abs(new_c - 1.0).max(axis=1) <= tolerance)
            order = np.argsort(closer[ok], kind="stable")
            polish_rounds += 1
        else:
            gain = (_cost(loads[a], band) + _cost(loads[c], band) - _cost(new_a, band) - _cost(new_c, band)).sum(axis=1)
            old_worst = np.maximum(np.abs(loads[a] - 1.0), np.abs(loads[c] - 1.0))
            new_worst = np.maximum(np.abs(new_a - 1.0), np.abs(new_c - 1.0))
            ok = (gain > 1e-12) & (new_worst <= np.maximum(old_worst, tolerance) + 1e-12).all(axis=1)
            bucket = -np.floor(np.log2(np.maximum(gain[ok], 1e-300)))
            keys = [closer[ok], bucket]
            if preferred is not None:
                keys.append(~(preferred[u[ok]] == c[ok]))
            order = np.lexsort(keys)
        u, a, c = u[ok][order], a[ok][order], c[ok][order]
        used = np.zeros(k, dtype=bool)
        moved = 0
        for node, donor, receiver in zip(u.tolist(), a.tolist(), c.tolist()):
            if used[donor] or used[receiver]:
                continue
            if not leaves(node, donor):
                continue
            move(node, donor, receiver)
            used[donor] = used[receiver] = True
            moved += 1
        rounds += 1
        if progress is not None:
            progress.update(1)
        if moved == 0 and (polishing or not (
                _swap(labels, loads, weights, csr, leaves, src, dst, movable, frozen, tolerance, move, band)
                or (large and flow())
                or (recombinations < max_recombinations and recombine(
                    labels, loads, weights, edges, fixed, frozen, giant, band, move, rng, preferred, tolerance))
                or (not large and flow()))):
            break
        recombinations += moved == 0
    deviation = feasible_deviation(loads, labels, weights, giant, frozen)
    return labels, rounds, deviation


def feasible_deviation(loads, labels, weights, giant, frozen) -> float:
    """Largest deviation still fixable when ``giant`` nodes exceed a part on their own.

    Parts holding a giant should hold nothing else: their deviation is the
    load beyond the giants. The other (free, non-frozen) parts are measured
    against their own mean, since the giants leave them less than the
    overall target. Without giants this is the plain max deviation.
    """
    free = ~frozen
    if not free.any():
        return 0.0
    if not giant.any():
        return float(np.abs(loads[free] - 1.0).max())
    giant_load = np.zeros_like(loads)
    np.add.at(giant_load, labels[giant], weights[giant])
    has = np.zeros(len(loads), dtype=bool)
    has[labels[giant]] = True
    rest = free & ~has
    if not rest.any():
        return float(np.abs(loads[free & has] - giant_load[free & has]).max())
    rest_mean = (loads[free].sum(axis=0) - giant_load[free].sum(axis=0)) / rest.sum()
    rest_mean = np.where(rest_mean > 0, rest_mean, 1.0)
    deviation = np.abs(loads[rest] / rest_mean - 1.0).max()
    if (free & has).any():
        deviation = max(deviation, ((loads[free & has] - giant_load[free & has]) / rest_mean).max())
    return float(deviation)


def exchange_pairs(u, a, c):
    """Every exchange of a boundary node ``u`` of part ``a`` facing ``c`` with a node ``v`` of ``c`` facing ``a``.

    ``(u, a, c)`` rows (repeats allowed) are the boundary nodes and the part
    they face; returns ``(u, v, a, c)`` arrays, one row per exchange: the
    distinct rows in their first order, each joined to every distinct row
    ``(v, c, a)`` in its order (the rows of a pandas inner merge of the
    distinct rows with their mirror, at a fifteenth of its cost: the
    balancing asks for it on every round without a helping move).

    Examples
    --------
    >>> [x.tolist() for x in exchange_pairs(np.array([0, 0, 5, 6]), np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]))]
    [[0, 0, 5, 6], [5, 6, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0]]
    """
    if u.size == 0:
        return u, u, a, c
    k = int(max(a.max(), c.max())) + 1
    code = (u.astype(np.int64) * k + a) * k + c
    first = np.sort(np.unique(code, return_index=True)[1])
    u, a, c = u[first], a[first], c[first]
    left, right = a.astype(np.int64) * k + c, c.astype(np.int64) * k + a
    order = np.argsort(right, kind="stable")
    lo = np.searchsorted(right[order], left, side="left")
    count = np.searchsorted(right[order], left, side="right") - lo
    rows = np.repeat(np.arange(u.size), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    partner = order[np.repeat(lo, count) + within]
    return u[rows], u[partner], a[rows], c[rows]


def _swap(labels, loads, weights, csr, leaves, src, dst, movable, frozen, tolerance, move, band,
          max_checks=500) -> bool:
    """When no single move helps: exchange two boundary nodes between adjacent parts, best gain first."""
    a, c = labels[src], labels[dst]
    ok = movable & (a != c) & ~frozen[a] & ~frozen[c]
    u, a, c = src[ok], a[ok], c[ok]
    if u.size == 0:
        return False
    su, sv, sa, sc = exchange_pairs(u, a, c)
    if su.size == 0:
        return False
    keep = sa < sc  # each unordered exchange once
    su, sv, sa, sc = su[keep], sv[keep], sa[keep], sc[keep]
    d = weights[su] - weights[sv]
    new_a, new_c = loads[sa] - d, loads[sc] + d
    gain = (_cost(loads[sa], band) + _cost(loads[sc], band) - _cost(new_a, band) - _cost(new_c, band)).sum(axis=1)
    old_worst = np.maximum(np.abs(loads[sa] - 1.0), np.abs(loads[sc] - 1.0))
    new_worst = np.maximum(np.abs(new_a - 1.0), np.abs(new_c - 1.0))
    good = (gain > 1e-12) & (new_worst <= np.maximum(old_worst, tolerance) + 1e-12).all(axis=1)
    order = np.flatnonzero(good)[np.argsort(-gain[good], kind="stable")][:max_checks]
    indptr, indices = csr.indptr, csr.indices
    for i in order:
        node_u, node_v, part_a, part_c = int(su[i]), int(sv[i]), int(sa[i]), int(sc[i])
        # Leaving must not split a part; arriving, each node must touch what remains of its new part.
        if not leaves(node_u, part_a) or not leaves(node_v, part_c):
            continue
        near_v = indices[indptr[node_v]:indptr[node_v + 1]]
        near_u = indices[indptr[node_u]:indptr[node_u + 1]]
        if not ((labels[near_v] == part_a) & (near_v != node_u)).any():
            continue
        if not ((labels[near_u] == part_c) & (near_u != node_v)).any():
            continue
        move(node_u, part_a, part_c)
        move(node_v, part_c, part_a)
        return True
    return False


@one_blas_thread
def partition(n_parts, edges, weights, xyz, *, tolerance=DEFAULT_TOLERANCE, initial=None, fixed=None,
              frozen_parts=(), max_iter=2000, preferred=None, polish=True, progress=None, rng=None,
              random_state=None) -> PartitionResult:
    """Split a graph into ``n_parts`` connected parts of balanced weight.

    Parameters
    ----------
    n_parts : int
    edges : array of shape (n_edges, 2)
        Undirected adjacency between node positions; the graph should be connected.
    weights : array of shape (n, n_metrics)
        Node loads, normalised so that each part's target is 1.0 per metric.
    xyz : array of shape (n, 3)
        Unit-sphere coordinates of the nodes.
    tolerance : float
        Allowed deviation from the target (0.05 = 5%).
    initial : array of int, optional
        Starting part of every node (disruption-aware runs); default a fresh bisection.
    fixed : bool array, optional
        Nodes that never move.
    frozen_parts : iterable of int
        Parts that neither give nor receive nodes.
    max_iter : int
        Rounds of local search.
    preferred : array of int, optional
        Part each node would rather be in (its current one): such moves go
        first, and the search minimises only the squared deviation beyond
        half the tolerance, so parts already near their target are left alone
        (if that stalls outside the tolerance, it goes on with the plain
        squared deviation, which passes load along chains of parts).
    polish : bool
        After reaching the tolerance, move nodes to nearer adjacent centres.
    rng : numpy.random.Generator, optional
        Turn the bisection cuts at random (restarts); default the plain cuts.
    random_state : int, RandomState or None
        Seed of the random spanning trees of the recombination step (the only
        other randomness): the same seed gives the same partition.

    Examples
    --------
    >>> edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])   # a path of 6 nodes
    >>> xyz = np.column_stack([np.ones(6), np.linspace(0, 0.05, 6), np.zeros(6)])
    >>> result = partition(3, edges, np.full((6, 1), 0.5), xyz)
    >>> result.labels.tolist(), result.converged
    ([0, 0, 1, 1, 2, 2], True)
    """
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    fixed = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    csr = adjacency_csr(n, edges)
    if initial is None:
        labels = seed_bisection(n_parts, csr, weights.mean(axis=1), xyz, rng)
    else:
        labels = np.asarray(initial, dtype=np.int64).copy()
    labels = repair_connectivity(n, edges, labels, weights, fixed, frozen_parts, n_parts)
    repaired = labels.copy()
    recombine_rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    common = dict(n_parts=n_parts, fixed=fixed, frozen_parts=frozen_parts, preferred=preferred, polish=polish,
                  progress=progress, recombine_rng=recombine_rng)
    band = 0.0 if preferred is None else tolerance / 2
    labels, rounds, deviation = balance(labels, edges, weights, xyz, tolerance, max_iter=max_iter, band=band, **common)
    if band > 0 and deviation > tolerance + 1e-12 and rounds < max_iter:
        # Stalled: parts inside the band pass no load along; balance on the plain squared deviation.
        labels, more, deviation = balance(labels, edges, weights, xyz, tolerance, max_iter=max_iter - rounds,
                                          band=0.0, **common)
        rounds += more
    return PartitionResult(labels=labels, n_iter=rounds, converged=bool(deviation <= tolerance + 1e-12),
                           repaired=repaired, deviation=deviation)
