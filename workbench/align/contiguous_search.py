"""Dispersion search after feasibility: connected, balanced parts made as compact as they can be.

:func:`improve_partition` takes a feasible partition of a graph (every part
connected, every metric within the tolerance, e.g. from
:func:`workbench.align._partition.partition`) and lowers its dispersion
without ever breaking either property. It is the improvement phase of
:class:`~workbench.align.contiguous.ContiguousTerritories`, of contiguous
realignment (with ``reference`` and ``move_penalty``, so disruption stays
bounded) and of :class:`~workbench.align.hierarchy.RegionGrouping`.

Objectives (``objective=``)
---------------------------
``"weighted"`` (default)
    Sum over nodes of ``weight * distance`` to the part's weighted centre
    (the weighted mean position): the workload-weighted mean distance to the
    centre that :attr:`AlignmentReport.compactness_km` measures, times the
    total weight.
``"median"``
    The districting and commercial territory design literature's dispersion:
    the sum over nodes of the distance to the part's median node (the member
    that minimises that sum). Unweighted unless ``node_weight`` is given.

A per-node ``move_penalty`` for leaving a ``reference`` part is added to
either objective (in the same unit, a distance).

Design, and why
---------------
The search is an iterated local search with an adaptive choice between two
perturbations, the shape of the adaptive large neighbourhood searches that
lead the commercial territory design benchmarks, built so that every step is
exact and cheap in numpy:

1. **Exact gains with re-centring.** A boundary node moving from part *a* to
   an adjacent part *b* is scored by the exact change of both parts' costs
   *with their centres re-chosen* (the new weighted mean, or the best median
   among the new members), not by the distance to today's centres. For the
   median objective the search keeps, per part, the column sums
   ``S[p, j] = sum over i in p of w_i d(i, j)`` for every node ``j``, so the
   cost of part *p* after losing ``u`` is ``min over j in p, j != u of
   S[p, j] - w_u d(u, j)``: one small matrix per part for all its candidates
   at once. Gains are cached per part and recomputed only for parts that
   changed.
2. **Moves, then swaps.** Each round applies the best improving moves, at
   most one per part (so every gain applied is exact). A move is allowed
   only when no part's excess over its tolerance band grows (a feasible plan
   stays feasible; an infeasible one never gets worse) and the node is not
   an articulation point of its part (cached per part, networkx), so parts
   stay connected. When no move improves (the balance constraints block
   single moves), two boundary nodes of adjacent parts are exchanged, best
   exact gain first.
3. **Merge and re-split** (ReCom optimised, not sampled). Two adjacent parts
   are merged and re-cut along spanning trees of their union drawn with
   edge lengths times a random factor, so the trees follow geography and
   their cuts are compact. Every balanced cut of every tree is scored at
   once (a matrix product for all cuts) and the best becomes the new pair;
   local search then polishes it.
4. **Random kicks**: a few random feasible boundary moves, to leave a local
   optimum that re-splitting cannot.
5. **Acceptance and memory.** A perturbed-and-polished plan replaces the
   current one when it is better, or by a simulated-annealing test whose
   temperature falls with the number of perturbations; the best plan seen is
   kept, so the result is never worse than the feasible start. The two
   perturbations are drawn with weights that grow with their successes (the
   adaptive part of ALNS).

Budget and determinism: the search stops after ``patience`` perturbations
without a new best (or ``max_kicks`` in all) and always by ``max_seconds``.
All randomness comes from ``random_state``, so a run that stops by its own
rule is repeatable exactly; a run cut short by ``max_seconds`` returns the
best plan of the same sequence so far (``stopped == "time"``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, depth_first_order, minimum_spanning_tree
from sklearn.utils import check_random_state

from workbench.align.dispersion import OBJECTIVES, MedianDispersion, WeightedDispersion, dispersion
from workbench.errors import InputError
from workbench.schema import DEFAULT_TOLERANCE

#: Default wall-clock budget of the search, in seconds.
DEFAULT_MAX_SECONDS = 3.0
_EPS = 1e-12
_ACCEPT = "rrt"
_THETA = 0.005


@dataclass
class SearchResult:
    """Outcome of :func:`improve_partition`.

    ``cost`` and ``start_cost`` are the objective (dispersion plus move
    penalties) of the plan returned and of the start; ``dispersion`` and
    ``start_dispersion`` the dispersion alone. ``stopped`` is
    ``"converged"`` (``patience`` perturbations without a new best),
    ``"kicks"`` (``max_kicks`` reached), ``"time"`` (``max_seconds``) or
    ``"nothing to do"`` (one part, or nothing may move).
    """

    labels: np.ndarray
    cost: float
    start_cost: float
    dispersion: float
    start_dispersion: float
    n_moves: int
    n_kicks: int
    seconds: float
    stopped: str

    @property
    def gain(self) -> float:
        """Share of the start's objective the search removed (0.08 = 8% lower)."""
        return 0.0 if self.start_cost <= 0 else 1.0 - self.cost / self.start_cost


# --------------------------------------------------------------------------- the search state


class _State:
    """Labels, loads, objective state and the caches that keep the gains cheap."""

    def __init__(self, labels, edges, weights, coords, objective, q, lo, hi, fixed, frozen, penalty, reference):
        self.labels = labels
        self.n, self.k = len(labels), len(lo)
        self.edges = edges
        self.src = np.concatenate([edges[:, 0], edges[:, 1]])
        self.dst = np.concatenate([edges[:, 1], edges[:, 0]])
        order = np.argsort(self.src, kind="stable")
        self.nbr_ptr = np.searchsorted(self.src[order], np.arange(self.n + 1))
        self.nbr = self.dst[order]
        self.weights = weights
        self.coords = coords
        self.lo, self.hi = lo, hi
        self.movable_edge = ~fixed[self.src]
        self.frozen = frozen
        self.penalty, self.reference = penalty, reference
        self.loads = np.zeros((self.k, weights.shape[1]))
        np.add.at(self.loads, labels, weights)
        self.counts = np.bincount(labels, minlength=self.k)
        self.obj = (WeightedDispersion if objective == "weighted" else MedianDispersion)(coords, q, labels, self.k)
        self.stamp = np.arange(1, self.k + 1, dtype=np.int64)
        self.clock = self.k + 1
        self._members: dict[int, tuple[int, np.ndarray]] = {}
        self._articulation: dict[int, tuple[int, set]] = {}
        self.part_costs = np.array([self.obj.part_cost(p, self.members(p)) for p in range(self.k)])
        self.leave_val = np.zeros(self.n)
        self.leave_key = np.zeros(self.n, dtype=np.int64)
        self.join_val = np.zeros((self.k, self.n))
        self.join_key = np.zeros((self.k, self.n), dtype=np.int64)
        self.journal: list[tuple[int, int, int]] = []

    # -- bookkeeping
    def members(self, p):
        cached = self._members.get(p)
        if cached is None or cached[0] != self.stamp[p]:
            cached = (self.stamp[p], np.flatnonzero(self.labels == p))
            self._members[p] = cached
        return cached[1]

    def articulation(self, p):
        cached = self._articulation.get(p)
        if cached is None or cached[0] != self.stamp[p]:
            nodes = self.members(p)
            inside = (self.labels[self.edges[:, 0]] == p) & (self.labels[self.edges[:, 1]] == p)
            graph = nx.Graph()
            graph.add_nodes_from(nodes.tolist())
            graph.add_edges_from(self.edges[inside].tolist())
            cached = (self.stamp[p], set(nx.articulation_points(graph)))
            self._articulation[p] = cached
        return cached[1]

    def total(self) -> float:
        return float(self.part_costs.sum()) + self.penalty_total()

    def penalty_total(self) -> float:
        if self.penalty is None:
            return 0.0
        return float(self.penalty[self.labels != self.reference].sum())

    def move(self, u, a, b, record=True):
        self.labels[u] = b
        self.loads[a] -= self.weights[u]
        self.loads[b] += self.weights[u]
        self.counts[a] -= 1
        self.counts[b] += 1
        self.obj.move(u, a, b)
        for p in (a, b):
            self.stamp[p] = self.clock
            self.clock += 1
        self.part_costs[a] = self.obj.part_cost(a, self.members(a))
        self.part_costs[b] = self.obj.part_cost(b, self.members(b))
        if record:
            self.journal.append((u, a, b))

    def undo_to(self, mark):
        while len(self.journal) > mark:
            u, a, b = self.journal.pop()
            self.move(u, b, a, record=False)

    def penalty_delta(self, u, a, b):
        if self.penalty is None:
            return 0.0
        ref = self.reference[u]
        return self.penalty[u] * ((b != ref).astype(float) - (a != ref).astype(float))

    def violation(self, load, p):
        """Load outside the band of parts ``p``, per metric (0 inside)."""
        return np.maximum(np.maximum(self.lo[p] - load, load - self.hi[p]), 0.0)

    def violation_delta(self, a, b, x):
        """Change of the summed violation when loads ``x`` move from parts ``a`` to ``b``."""
        la, lb = self.loads[a], self.loads[b]
        return (self.violation(la - x, a) - self.violation(la, a)
                + self.violation(lb + x, b) - self.violation(lb, b)).sum(axis=1)

    def balance_ok(self, a, b, x):
        """Moving loads ``x`` from parts ``a`` to ``b`` grows no part's violation of its band."""
        la, lb = self.loads[a], self.loads[b]
        ok_a = self.violation(la - x, a) <= self.violation(la, a) + _EPS
        ok_b = self.violation(lb + x, b) <= self.violation(lb, b) + _EPS
        return (ok_a & ok_b).all(axis=1)

    def total_violation(self) -> float:
        return float(self.violation(self.loads, np.arange(self.k)).sum())

    # -- candidates
    def boundary(self, need_spare=True):
        """Unique ``(u, a, b)``: movable ``u`` of part ``a`` with a neighbour in part ``b``."""
        a, b = self.labels[self.src], self.labels[self.dst]
        ok = self.movable_edge & (a != b) & ~self.frozen[a] & ~self.frozen[b]
        if need_spare:
            ok &= self.counts[a] > 1
        u, b = self.src[ok], b[ok]
        key = np.unique(u * self.k + b)
        u, b = key // self.k, key % self.k
        return u, self.labels[u], b

    def leave_costs(self, u, a):
        need = self.leave_key[u] != self.stamp[a]
        if need.any():
            for p in np.unique(a[need]):
                nodes = np.unique(u[need & (a == p)])
                self.leave_val[nodes] = self.obj.leave(nodes, p, self.members(p))
                self.leave_key[nodes] = self.stamp[p]
        return self.leave_val[u]

    def join_costs(self, u, b):
        need = self.join_key[b, u] != self.stamp[b]
        if need.any():
            for p in np.unique(b[need]):
                nodes = np.unique(u[need & (b == p)])
                self.join_val[p, nodes] = self.obj.join(nodes, p, self.members(p))
                self.join_key[p, nodes] = self.stamp[p]
        return self.join_val[b, u]

    def neighbours(self, u):
        return self.nbr[self.nbr_ptr[u]:self.nbr_ptr[u + 1]]


# --------------------------------------------------------------------------- local search


def _move_round(state: _State, scale: float, lam=None) -> int:
    """Apply the best improving boundary moves, at most one per part; the number applied.

    With ``lam`` the balance bands are soft: ``lam`` times the violation is added to the objective.
    """
    u, a, b = state.boundary()
    if u.size == 0:
        return 0
    if lam is None:
        ok = state.balance_ok(a, b, state.weights[u])
        u, a, b = u[ok], a[ok], b[ok]
        if u.size == 0:
            return 0
    gain = (state.part_costs[a] + state.part_costs[b] - state.leave_costs(u, a) - state.join_costs(u, b)
            - state.penalty_delta(u, a, b))
    if lam is not None:
        gain -= lam * state.violation_delta(a, b, state.weights[u])
    good = np.flatnonzero(gain > 1e-9 * scale)
    if good.size == 0:
        return 0
    order = good[np.lexsort((u[good], -gain[good]))]
    used = np.zeros(state.k, dtype=bool)
    moved = 0
    for node, donor, receiver in zip(u[order].tolist(), a[order].tolist(), b[order].tolist()):
        if used[donor] or used[receiver] or node in state.articulation(donor):
            continue
        state.move(node, donor, receiver)
        used[donor] = used[receiver] = True
        moved += 1
    return moved


def _swap_round(state: _State, scale: float, lam=None, max_pairs: int = 20000) -> int:
    """Exchange two boundary nodes of adjacent parts (best exact gain first); the number of swaps."""
    u, a, b = state.boundary(need_spare=False)
    if u.size == 0:
        return 0
    # Pair every move a->b (a < b) with every move b->a: sort by (from, to), find the reverse block.
    key = a * state.k + b
    order = np.argsort(key, kind="stable")
    u, a, b, key = u[order], a[order], b[order], key[order]
    forward = np.flatnonzero(a < b)
    reverse = b[forward] * state.k + a[forward]
    first = np.searchsorted(key, reverse, side="left")
    count = np.searchsorted(key, reverse, side="right") - first
    if count.sum() == 0:
        return 0
    rows = np.repeat(forward, count)
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    partner = starts + np.arange(rows.size)
    su, sv, sa, sb = u[rows], u[partner], a[rows], b[rows]
    d = state.weights[su] - state.weights[sv]
    ok = state.balance_ok(sa, sb, d) if lam is None else np.ones(su.size, dtype=bool)
    su, sv, sa, sb, d = su[ok][:max_pairs], sv[ok][:max_pairs], sa[ok][:max_pairs], sb[ok][:max_pairs], d[ok][:max_pairs]
    if su.size == 0:
        return 0
    new_a = np.empty(su.size)
    new_b = np.empty(su.size)
    for p in np.unique(np.concatenate([sa, sb])):
        members = state.members(p)
        for mask, out, into, target in ((sa == p, su, sv, new_a), (sb == p, sv, su, new_b)):
            if mask.any():
                target[mask] = state.obj.swap(out[mask], into[mask], p, members)
    gain = state.part_costs[sa] + state.part_costs[sb] - new_a - new_b
    gain -= state.penalty_delta(su, sa, sb) + state.penalty_delta(sv, sb, sa)
    if lam is not None:
        gain -= lam * state.violation_delta(sa, sb, d)
    good = np.flatnonzero(gain > 1e-9 * scale)
    used = np.zeros(state.k, dtype=bool)
    done = 0
    for i in good[np.lexsort((su[good], -gain[good]))].tolist():
        nu, nv, pa, pb = int(su[i]), int(sv[i]), int(sa[i]), int(sb[i])
        if used[pa] or used[pb]:
            continue
        if nu in state.articulation(pa) or nv in state.articulation(pb):
            continue
        near_v, near_u = state.neighbours(nv), state.neighbours(nu)
        if not ((state.labels[near_v] == pa) & (near_v != nu)).any():
            continue
        if not ((state.labels[near_u] == pb) & (near_u != nv)).any():
            continue
        state.move(nu, pa, pb)
        state.move(nv, pb, pa)
        used[pa] = used[pb] = True
        done += 1
    return done


def _local_search(state: _State, scale: float, deadline: float, lam=None) -> int:
    """Moves until none improves, then swaps; repeat until neither does. Returns the moves made."""
    made = 0
    while time.perf_counter() < deadline:
        moved = _move_round(state, scale, lam)
        if moved == 0:
            moved = _swap_round(state, scale, lam)
            if moved == 0:
                break
        made += moved
    return made


# --------------------------------------------------------------------------- perturbations


def _resplit(state: _State, rng, scale: float, deadline: float, n_trees: int = 6, max_cuts: int = 24) -> bool:
    """Merge a random pair of adjacent parts and re-cut it along the best cut of geographic spanning trees.

    Cuts are scored by the pair's objective plus a random multiple of their
    balance violation (soft bands, as in :func:`_oscillate`); the pair is
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
        pen = state.penalty[nodes]
        ref = state.reference[nodes]
        score = score + ((np.where(masks, a, b) != ref[None, :]) * pen[None, :]).sum(axis=1)
    _apply_split(state, nodes, np.where(masks[int(np.argmin(score))], a, b), a, b)
    if state.total_violation() > 1e-9:
        _local_search(state, scale, deadline, lam=1e4 * scale / state.k)
    return state.total_violation() <= 1e-9


def _apply_split(state: _State, nodes, target, a, b):
    """Relabel ``nodes`` to ``target`` through the journal (the objective state follows each move)."""
    for node, part in zip(nodes.tolist(), target.tolist()):
        current = int(state.labels[node])
        if current != part:
            state.move(node, current, int(part))
    # Either part may have been emptied and refilled in between: both now hold their new side.
    if state.counts[a] == 0 or state.counts[b] == 0:  # cannot happen with balanced sides; stay safe
        raise RuntimeError("re-split emptied a part")


def _oscillate(state: _State, rng, scale: float, deadline: float) -> bool:
    """Strategic oscillation: descend with soft balance bands, then repair the balance; False if it cannot."""
    unit = scale / state.k
    _local_search(state, scale, deadline, lam=float(rng.uniform(0.2, 2.0)) * unit)
    _local_search(state, scale, deadline, lam=1e4 * unit)
    return state.total_violation() <= 1e-9


def _kick(state: _State, rng, n_moves: int) -> bool:
    """A few random feasible boundary moves (connectivity and balance kept)."""
    moved = 0
    for _ in range(n_moves * 3):
        if moved >= n_moves:
            break
        u, a, b = state.boundary()
        if u.size == 0:
            break
        ok = np.flatnonzero(state.balance_ok(a, b, state.weights[u]))
        if ok.size == 0:
            break
        i = int(rng.choice(ok))
        node, donor, receiver = int(u[i]), int(a[i]), int(b[i])
        if node in state.articulation(donor):
            continue
        state.move(node, donor, receiver)
        moved += 1
    return moved > 0


# --------------------------------------------------------------------------- the public function


def improve_partition(labels, edges, weights, coords, *, tolerance=DEFAULT_TOLERANCE, objective="weighted",
                      node_weight=None, targets=None, fixed=None, frozen_parts=(), reference=None,
                      move_penalty=0.0, max_seconds=DEFAULT_MAX_SECONDS, max_kicks=None, patience=None,
                      random_state=None, progress=None) -> SearchResult:
    """Lower the dispersion of a connected, balanced partition without breaking either property.

    Parameters
    ----------
    labels : array of int, shape (n,)
        Start: the part ``0..k-1`` of every node (every part non-empty).
    edges : array of shape (n_edges, 2)
        Undirected adjacency between node positions.
    weights : array of shape (n, n_metrics)
        Balanced loads, normalised so that a part's target is 1.0 per metric
        (or ``targets``).
    coords : array of shape (n, d)
        Node positions; distances are Euclidean in them (pass unit-sphere
        vectors times the earth's radius for chord kilometres).
    tolerance : float, default 0.05
        A part's load may lie within ``target * (1 +- tolerance)``. A part
        outside that band at the start may only move towards it.
    objective : {"weighted", "median"}, default "weighted"
        See the module docstring.
    node_weight : array of shape (n,), optional
        Weight of every node in the objective; default 1 (with
        ``"weighted"`` pass the workload to get the workload-weighted
        dispersion).
    targets : array of shape (k,) or (k, n_metrics), optional
        Target load of every part; default 1.0.
    fixed : bool array of shape (n,), optional
        Nodes that never move.
    frozen_parts : iterable of int
        Parts that neither give nor receive.
    reference : array of int, shape (n,), optional
        A reference part per node (e.g. today's territories); with
        ``move_penalty`` every node away from its reference part costs that
        much extra.
    move_penalty : float or array of shape (n,), default 0
        Cost (a distance, in the unit of ``coords`` times the objective's
        weights) of a node not being in its ``reference`` part.
    max_seconds : float or None, default 3.0
        Wall-clock budget; None: stop only by ``patience``/``max_kicks``.
    max_kicks : int, optional
        At most this many perturbations (default unlimited).
    patience : int, optional
        Stop after this many perturbations without a new best plan
        (default ``max(40, 6 * k)``).
    random_state : int, RandomState or None
        Seeds the perturbations.
    progress : tqdm-like, optional
        Updated once per perturbation, with the dispersion in its postfix.

    Returns
    -------
    SearchResult

    Examples
    --------
    A 2 x 4 grid cut into two parts of four as an "L" and its complement:
    the search straightens them into the two 2 x 2 squares.

    >>> xy = np.array([(x, y) for y in range(2) for x in range(4)], dtype=float)
    >>> edges = np.array([(i, j) for i in range(8) for j in range(i + 1, 8)
    ...                   if abs(xy[i] - xy[j]).sum() == 1])
    >>> start = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    >>> result = improve_partition(start, edges, np.full((8, 1), 0.5), xy, tolerance=0.0, random_state=0)
    >>> result.labels.tolist(), round(result.start_dispersion, 2), round(result.dispersion, 2)
    ([0, 0, 1, 1, 0, 0, 1, 1], 6.96, 5.66)
    """
    started = time.perf_counter()
    labels = np.asarray(labels, dtype=np.int64).copy()
    n = labels.size
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    weights = np.asarray(weights, dtype=float).reshape(n, -1)
    coords = np.asarray(coords, dtype=float).reshape(n, -1)
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(map(repr, OBJECTIVES))}, got {objective!r}")
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                                    or not max_seconds >= 0):
        raise InputError(f"max_seconds must be a number of seconds >= 0 (or None for no limit), got {max_seconds!r}")
    k = int(labels.max()) + 1 if n else 0
    if n == 0 or labels.min() < 0 or np.bincount(labels, minlength=k).min() == 0:
        raise InputError("labels must give every node a part 0..k-1 with no part empty")
    q = np.ones(n) if node_weight is None else np.asarray(node_weight, dtype=float).reshape(n)
    if not np.isfinite(q).all() or (q < 0).any():
        raise InputError("node_weight must be finite and non-negative")
    # Nodes of zero weight still lean to the nearer centre (no ragged empty blocks).
    plain_q = q
    q = q + 1e-4 * max(float(q.mean()), 1e-12)
    tgt = np.ones((k, weights.shape[1])) if targets is None else np.broadcast_to(
        np.asarray(targets, dtype=float).reshape(k, -1), (k, weights.shape[1])).copy()
    lo, hi = tgt * (1 - tolerance), tgt * (1 + tolerance)
    # A part outside its band at the start (a block heavier than a part may be) keeps what it has:
    # its band is widened to its start load, so the search never makes any part worse.
    start_loads = np.zeros_like(tgt)
    np.add.at(start_loads, labels, weights)
    lo, hi = np.minimum(lo, start_loads), np.maximum(hi, start_loads)
    fixed = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    frozen = np.zeros(k, dtype=bool)
    frozen[list(frozen_parts)] = True
    penalty = None
    if reference is not None and np.any(np.asarray(move_penalty) != 0):
        reference = np.asarray(reference, dtype=np.int64).reshape(n)
        penalty = np.broadcast_to(np.asarray(move_penalty, dtype=float), (n,)).copy()
        if (penalty < 0).any() or not np.isfinite(penalty).all():
            raise InputError("move_penalty must be finite and non-negative")
    deadline = math.inf if max_seconds is None else started + float(max_seconds)
    patience = max(40, 6 * k) if patience is None else int(patience)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))

    state = _State(labels.copy(), edges, weights, coords, objective, q, lo, hi, fixed, frozen, penalty, reference)
    start_cost = state.total()
    scale = max(start_cost, 1e-300)
    if k < 2 or not state.movable_edge.any() or frozen.sum() >= k - 1:
        plain_dispersion = dispersion(labels, coords, objective, plain_q)
        plain_cost = plain_dispersion + (0.0 if penalty is None else float(penalty[labels != reference].sum()))
        return SearchResult(labels, plain_cost, plain_cost, plain_dispersion, plain_dispersion, 0, 0,
                            time.perf_counter() - started, "nothing to do")

    n_moves = _local_search(state, scale, deadline)
    current_cost = state.total()
    best_cost, best_labels = current_cost, state.labels.copy()
    state.journal.clear()
    operators = [lambda s, r: _resplit(s, r, scale, deadline), lambda s, r: _kick(s, r, max(2, n // 40)),
                 lambda s, r: _oscillate(s, r, scale, deadline)]
    score = np.ones(len(operators))
    kicks = stall = 0
    temperature = 0.002
    stopped = "converged"
    while True:
        if time.perf_counter() >= deadline:
            stopped = "time"
            break
        if max_kicks is not None and kicks >= max_kicks:
            stopped = "kicks"
            break
        if stall >= patience:
            break
        kicks += 1
        stall += 1
        pick = int(rng.choice(len(operators), p=score / score.sum()))
        mark = len(state.journal)
        if not operators[pick](state, rng):
            state.undo_to(mark)
            score[pick] = max(score[pick] * 0.9, 0.05)
            continue
        n_moves += _local_search(state, scale, deadline)
        cost = state.total()
        if cost < best_cost - 1e-9 * scale:
            best_cost, best_labels, stall = cost, state.labels.copy(), 0
            score[pick] += 1.0
        if _ACCEPT == "rrt":
            accept = cost <= best_cost * (1 + _THETA)
        else:
            accept = cost <= current_cost or rng.random() < math.exp(
                -(cost - current_cost) / max(temperature * current_cost, 1e-300))
        if accept:
            current_cost = cost
            state.journal.clear()
        else:
            state.undo_to(mark)
        temperature *= 0.97
        score = 0.95 * score + 0.05
        if progress is not None:
            progress.update(1)
            progress.set_postfix_str(f"dispersion -{1 - best_cost / scale:.1%}")
    # Report (and compare) on the plain weights, without the small lean given to weightless nodes.
    def plain(lab):
        value = dispersion(lab, coords, objective, plain_q)
        return value, value + (0.0 if penalty is None else float(penalty[lab != reference].sum()))
    start_dispersion, start_cost = plain(labels)
    final_dispersion, final_cost = plain(best_labels)
    if final_cost > start_cost:
        best_labels, final_dispersion, final_cost = labels, start_dispersion, start_cost
    return SearchResult(best_labels, final_cost, start_cost, final_dispersion, start_dispersion,
                        n_moves, kicks, time.perf_counter() - started, stopped)


def connected_parts(labels, edges) -> bool:
    """True when every part of ``labels`` is one connected piece of the graph ``edges``."""
    labels = np.asarray(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    same = edges[labels[edges[:, 0]] == labels[edges[:, 1]]]
    n = len(labels)
    graph = sparse.csr_matrix((np.ones(len(same)), (same[:, 0], same[:, 1])), shape=(n, n))
    count, _ = connected_components(graph, directed=False)
    return count == len(np.unique(labels))
