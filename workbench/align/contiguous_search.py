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
An iterated local search whose perturbations are drawn adaptively from four
large neighbourhoods (the shape of the adaptive large neighbourhood searches
that lead the commercial territory design benchmarks), built so that every
step is exact and cheap in numpy:

1. **Exact gains with re-centring.** A boundary node moving from part *a* to
   an adjacent part *b* is scored by the exact change of both parts' costs
   *with their centres re-chosen* (the new weighted mean, or the best median
   among the new members), not by the distance to today's centres. For the
   median objective the search keeps, per part, the column sums
   ``S[p, j] = sum over i in p of w_i d(i, j)`` for every node ``j``, so the
   cost of part *p* after losing ``u`` is ``min over j in p, j != u of
   S[p, j] - w_u d(u, j)``: one small matrix per part for all its candidates
   at once. Gains are cached per part state and recomputed only for parts
   that changed.
2. **Moves, then swaps.** Each round applies the best improving moves, at
   most one per part (so every gain applied is exact). A move is allowed
   only when no part's load leaves its band and the donor stays connected
   (a test on the ring of nodes around the one leaving, which in a planar
   graph nearly always decides, else a search of the part). When no move
   improves (balance blocks single moves), two boundary nodes of adjacent
   parts are exchanged, best exact gain first; pairs of parts that offered
   no swap are skipped until one of them changes.
3. **Merge and re-split** (ReCom optimised, not sampled): two adjacent parts
   are merged and re-cut along spanning trees of their union drawn from edge
   lengths times a random factor, so the cuts follow geography; every cut of
   every tree is scored at once (a matrix product) by dispersion plus a
   random multiple of its balance violation, the best is applied and the
   bands are repaired.
4. **Location-allocation** (Hess et al.'s districting step): a centre or two
   shifted, every node re-assigned to the centres by the LP relaxation of
   the balanced transportation problem (HiGHS), cut-off pieces joined to a
   neighbour, bands repaired. It moves whole borders at once.
5. **Strategic oscillation**: descend with soft bands (violation priced),
   then repair; and **random kicks**, a few random feasible moves.
6. **Acceptance and memory.** A perturbed-and-polished plan is kept when
   within 0.5% of the best plan (record-to-record travel), else undone
   through a journal of moves; the best plan is remembered, so the result is
   never worse than the start. Operators that find new bests are drawn more
   often (the adaptive part of ALNS).

A start outside the bands (lumpy multi-metric data the balancing could not
settle) is first repaired: an iterated descent on the summed violation plus
a small pull of the loads towards the middle of their bands, which leaves
room to fix the other metrics. No part ends further out than the start's
worst; whatever violation remains, each part's band is widened to its load,
so afterwards no part gets worse.

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
#: A perturbed plan is kept when within this share of the best (record-to-record travel).
_THRESHOLD = 0.005
#: Weight of the loads' squared distance from the middle of their bands while repairing.
_CENTRING = 1.0


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
        self.adj = [self.nbr[self.nbr_ptr[i]:self.nbr_ptr[i + 1]].tolist() for i in range(self.n)]
        self.weights = weights
        self.coords = coords
        self.lo, self.hi = lo, hi
        self.centring = 0.0
        self.movable_edge = ~fixed[self.src]
        self.movable_edge_node = ~fixed
        self.frozen = frozen
        self.penalty, self.reference = penalty, reference
        self.loads = np.zeros((self.k, weights.shape[1]))
        np.add.at(self.loads, labels, weights)
        self.counts = np.bincount(labels, minlength=self.k)
        self.obj = (WeightedDispersion if objective == "weighted" else MedianDispersion)(coords, q, labels, self.k)
        self.stamp = np.arange(1, self.k + 1, dtype=np.int64)
        self.clock = self.k + 1
        self._members: dict[int, tuple[int, np.ndarray]] = {}
        self.part_costs = np.array([self.obj.part_cost(p, self.members(p)) for p in range(self.k)])
        self.leave_val = np.zeros(self.n)
        self.leave_key = np.zeros(self.n, dtype=np.int64)
        self.join_val = np.zeros((self.k, self.n))
        self.join_key = np.zeros((self.k, self.n), dtype=np.int64)
        self.journal: list[tuple[int, int, int]] = []
        self.swap_seen = np.zeros((self.k, self.k, 2), dtype=np.int64)

    # -- bookkeeping
    def members(self, p):
        cached = self._members.get(p)
        if cached is None or cached[0] != self.stamp[p]:
            cached = (self.stamp[p], np.flatnonzero(self.labels == p))
            self._members[p] = cached
        return cached[1]

    def can_leave(self, u, p) -> bool:
        """Part ``p`` stays connected without node ``u``.

        First a local test: ``u``'s neighbours in ``p`` joined through
        ``p``'s nodes within two steps of ``u`` (in a planar graph the ring
        around ``u`` nearly always joins them) proves it; otherwise a search
        of the part without ``u`` decides, stopping once it has reached all
        of ``u``'s neighbours in ``p``.
        """
        labels = self.labels
        adj = self.adj
        near = [v for v in adj[u] if labels[v] == p]
        if len(near) <= 1:
            return True
        ring = set(near)
        for v in near:
            ring.update(w for w in adj[v] if w != u and labels[w] == p)
        wanted = set(near[1:])
        seen = {near[0]}
        queue = [near[0]]
        while queue:
            node = queue.pop()
            for v in adj[node]:
                if v in ring and v not in seen:
                    seen.add(v)
                    wanted.discard(v)
                    if not wanted:
                        return True
                    queue.append(v)
        # The ring did not join them: search the whole part (without u), stopping once all are reached.
        seen = {u, near[0]}
        queue = [near[0]]
        wanted = set(near[1:])
        while queue:
            node = queue.pop()
            for v in adj[node]:
                if v not in seen and labels[v] == p:
                    seen.add(v)
                    wanted.discard(v)
                    if not wanted:
                        return True
                    queue.append(v)
        return False

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
        """Change of the summed violation when loads ``x`` move from parts ``a`` to ``b``.

        While repairing (``self.centring`` > 0) the squared distance of the
        loads from the middle of their band counts too, with that weight:
        loads drift to the middle, which leaves room for the other metrics.
        """
        la, lb = self.loads[a], self.loads[b]
        delta = (self.violation(la - x, a) - self.violation(la, a)
                 + self.violation(lb + x, b) - self.violation(lb, b)).sum(axis=1)
        if self.centring:
            ma, mb = (self.lo[a] + self.hi[a]) / 2, (self.lo[b] + self.hi[b]) / 2
            delta = delta + self.centring * (((la - x - ma) ** 2 - (la - ma) ** 2)
                                             + ((lb + x - mb) ** 2 - (lb - mb) ** 2)).sum(axis=1)
        return delta

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
        if used[donor] or used[receiver] or not state.can_leave(node, donor):
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
    if lam is None:  # pairs of parts unchanged since they last offered no improving swap: skip
        fresh = (state.swap_seen[sa, sb, 0] != state.stamp[sa]) | (state.swap_seen[sa, sb, 1] != state.stamp[sb])
        su, sv, sa, sb = su[fresh], sv[fresh], sa[fresh], sb[fresh]
        if su.size == 0:
            return 0
        seen_a, seen_b = sa.copy(), sb.copy()
    d = state.weights[su] - state.weights[sv]
    pen = np.zeros(su.size) + state.penalty_delta(su, sa, sb) + state.penalty_delta(sv, sb, sa)
    if lam is None:
        ok = state.balance_ok(sa, sb, d)
        soft = 0.0
    else:
        # Soft bands: skip pairs that cannot gain even if both parts' dispersion fell to zero.
        soft = -lam * state.violation_delta(sa, sb, d)
        ok = soft + state.part_costs[sa] + state.part_costs[sb] - pen > 1e-9 * scale
        soft = soft[ok][:max_pairs]
    truncated = int(ok.sum()) > max_pairs
    pen = pen[ok][:max_pairs]
    su, sv, sa, sb, d = su[ok][:max_pairs], sv[ok][:max_pairs], sa[ok][:max_pairs], sb[ok][:max_pairs], d[ok][:max_pairs]
    used = np.zeros(state.k, dtype=bool)
    if su.size == 0:
        if lam is None:
            _mark_swaps_seen(state, seen_a, seen_b, used)
        return 0
    new_a = np.empty(su.size)
    new_b = np.empty(su.size)
    for p in np.unique(np.concatenate([sa, sb])):
        members = state.members(p)
        for mask, out, into, target in ((sa == p, su, sv, new_a), (sb == p, sv, su, new_b)):
            if mask.any():
                target[mask] = state.obj.swap(out[mask], into[mask], p, members)
    gain = state.part_costs[sa] + state.part_costs[sb] - new_a - new_b
    gain += soft - pen
    good = np.flatnonzero(gain > 1e-9 * scale)
    done = 0
    for i in good[np.lexsort((su[good], -gain[good]))].tolist():
        nu, nv, pa, pb = int(su[i]), int(sv[i]), int(sa[i]), int(sb[i])
        if used[pa] or used[pb]:
            continue
        if not state.can_leave(nu, pa) or not state.can_leave(nv, pb):
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
    if lam is None and not truncated:
        _mark_swaps_seen(state, seen_a, seen_b, used)
    return done


def _mark_swaps_seen(state, part_a, part_b, used):
    """Remember that these pairs of parts offered no (further) improving swap in their present state."""
    still = ~used[part_a] & ~used[part_b]
    part_a, part_b = part_a[still], part_b[still]
    state.swap_seen[part_a, part_b, 0] = state.stamp[part_a]
    state.swap_seen[part_a, part_b, 1] = state.stamp[part_b]


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


def _repair(state: _State, scale: float, deadline: float, rng, budget: float):
    """Bring a start outside the bands into them where it can; return the best labels found, or None.

    An iterated descent on the summed violation plus, with a small weight,
    the squared distance of the loads from the middle of their bands
    (dispersion only breaks ties; loads drift to the middle, which leaves
    room for the other metrics): moves and swaps, then a few random moves
    and descend again, accepting a result within 2% of the best summed
    violation (record-to-record travel), until the violation is gone,
    ``100 + 10 k`` rounds bring no new best or ``budget`` seconds have passed. The best is the plan with the least
    violation among those whose worst part is no further out than the
    start's worst; None when the start was within the bands.
    """
    if state.total_violation() <= 1e-9:
        return None
    parts = np.arange(state.k)

    def measure():
        v = state.violation(state.loads, parts)
        return float(v.max()), float(v.sum())

    lam = 1e4 * scale / state.k
    stop = min(deadline, time.perf_counter() + budget)
    state.centring = _CENTRING
    worst, best = measure()[0], measure()[1]
    best_labels = state.labels.copy()
    current = best
    state.journal.clear()
    first = True
    stall, patience = 0, 100 + 10 * state.k
    while best > 1e-9 and time.perf_counter() < stop and stall < patience:
        stall += 1
        if not first:
            _kick(state, rng, int(rng.integers(1, 4)), keep_balance=False)
        first = False
        _local_search(state, scale, stop, lam=lam)
        top, value = measure()
        if value < best - 1e-12 and top <= worst + 1e-12:
            best, best_labels, stall = value, state.labels.copy(), 0
        if value <= max(best * 1.02, current) + 1e-12 or value <= best + 1e-12:
            current = value
            state.journal.clear()
        else:
            state.undo_to(0)
    state.centring = 0.0
    return best_labels


def _oscillate(state: _State, rng, scale: float, deadline: float) -> bool:
    """Strategic oscillation: descend with soft balance bands, then repair the balance; False if it cannot."""
    unit = scale / state.k
    _local_search(state, scale, deadline, lam=float(rng.uniform(0.2, 2.0)) * unit)
    _local_search(state, scale, deadline, lam=1e4 * unit)
    return state.total_violation() <= 1e-9


def _reassign(state: _State, rng, scale: float, deadline: float, n_candidates: int = 5) -> bool:
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
        cost = cost + state.penalty[rows] * (cols != state.reference[rows])
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
    if state.total_violation() > 1e-9:
        _local_search(state, scale, deadline, lam=1e4 * scale / state.k)
    return state.total_violation() <= 1e-9


def _kick(state: _State, rng, n_moves: int, keep_balance: bool = True) -> bool:
    """A few random boundary moves, connectivity kept (and balance, with ``keep_balance``)."""
    moved = 0
    for _ in range(n_moves * 3):
        if moved >= n_moves:
            break
        u, a, b = state.boundary()
        if u.size == 0:
            break
        ok = np.flatnonzero(state.balance_ok(a, b, state.weights[u]) if keep_balance else np.ones(u.size, bool))
        if ok.size == 0:
            break
        i = int(rng.choice(ok))
        node, donor, receiver = int(u[i]), int(a[i]), int(b[i])
        if not state.can_leave(node, donor):
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
        A part's load may lie within ``target * (1 +- tolerance)``. A start
        outside the bands is first repaired as far as moves and swaps can;
        a part still outside then may only move towards its band.
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
        (default ``max(150, 20 * k)``).
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
    patience = max(150, 20 * k) if patience is None else int(patience)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))

    state = _State(labels.copy(), edges, weights, coords, objective, q, lo, hi, fixed, frozen, penalty, reference)
    start_cost = state.total()
    scale = max(start_cost, 1e-300)
    if k < 2 or not state.movable_edge.any() or frozen.sum() >= k - 1:
        plain_dispersion = dispersion(labels, coords, objective, plain_q)
        plain_cost = plain_dispersion + (0.0 if penalty is None else float(penalty[labels != reference].sum()))
        return SearchResult(labels, plain_cost, plain_cost, plain_dispersion, plain_dispersion, 0, 0,
                            time.perf_counter() - started, "nothing to do")

    budget = (max_seconds if max_seconds is not None else 10.0) / 2
    repaired = _repair(state, scale, deadline, rng, budget)
    if repaired is not None:
        state = _State(repaired, edges, weights, coords, objective, q, lo, hi, fixed, frozen, penalty, reference)
    # Whatever violation remains, each part's band is widened to its load: no part ever gets worse.
    state.lo, state.hi = np.minimum(state.lo, state.loads), np.maximum(state.hi, state.loads)
    n_moves = _local_search(state, scale, deadline)
    best_cost, best_labels = state.total(), state.labels.copy()
    state.journal.clear()
    operators = [lambda s, r: _resplit(s, r, scale, deadline), lambda s, r: _kick(s, r, max(2, n // 40)),
                 lambda s, r: _oscillate(s, r, scale, deadline), lambda s, r: _reassign(s, r, scale, deadline)]
    score = np.ones(len(operators))
    kicks = stall = 0
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
        if cost <= best_cost * (1 + _THRESHOLD):  # record-to-record travel
            state.journal.clear()
        else:
            state.undo_to(mark)
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
    if final_cost > start_cost and repaired is None:  # (a repaired start was outside the bands: no comparison)
        best_labels, final_dispersion, final_cost = labels, start_dispersion, start_cost
    return SearchResult(best_labels, final_cost, start_cost, final_dispersion, start_dispersion,
                        n_moves, kicks, time.perf_counter() - started, stopped)


def rebalance(labels, edges, weights, coords, *, tolerance=DEFAULT_TOLERANCE, objective="weighted",
              node_weight=None, fixed=None, frozen_parts=(), max_seconds=1.0, random_state=None) -> np.ndarray:
    """Only the repair stage of :func:`improve_partition`: bring the parts' loads into the tolerance.

    An iterated descent on the loads' violation of the bands (see
    :func:`_repair`), connectivity kept, no part ending further out than
    the start's worst; the dispersion only breaks ties. Returns the labels.

    Examples
    --------
    >>> xy = np.column_stack([np.arange(6.0), np.zeros(6)])
    >>> edges = np.array([(i, i + 1) for i in range(5)])
    >>> rebalance(np.array([0, 1, 1, 1, 1, 1]), edges, np.full((6, 1), 1 / 3), xy, tolerance=0.0).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    n = labels.size
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    weights = np.asarray(weights, dtype=float).reshape(n, -1)
    coords = np.asarray(coords, dtype=float).reshape(n, -1)
    k = int(labels.max()) + 1
    q = np.ones(n) if node_weight is None else np.asarray(node_weight, dtype=float).reshape(n)
    q = q + 1e-4 * max(float(q.mean()), 1e-12)
    lo, hi = np.full((k, weights.shape[1]), 1 - tolerance), np.full((k, weights.shape[1]), 1 + tolerance)
    fixed = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    frozen = np.zeros(k, dtype=bool)
    frozen[list(frozen_parts)] = True
    state = _State(labels, edges, weights, coords, objective, q, lo, hi, fixed, frozen, None, None)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    budget = 10.0 if max_seconds is None else float(max_seconds)
    repaired = _repair(state, max(state.total(), 1e-300), time.perf_counter() + budget, rng, budget)
    return state.labels if repaired is None else repaired


def connected_parts(labels, edges) -> bool:
    """True when every part of ``labels`` is one connected piece of the graph ``edges``."""
    labels = np.asarray(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    same = edges[labels[edges[:, 0]] == labels[edges[:, 1]]]
    n = len(labels)
    graph = sparse.csr_matrix((np.ones(len(same)), (same[:, 0], same[:, 1])), shape=(n, n))
    count, _ = connected_components(graph, directed=False)
    return count == len(np.unique(labels))
