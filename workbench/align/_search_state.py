"""The state of the contiguous search: labels, loads, objective and the caches that keep gains cheap.

Part of :mod:`workbench.align.contiguous_search` (see its docstring for the
design). :class:`SearchState` holds the labels and per-part loads, the
objective's per-part sums (:mod:`workbench.align.dispersion`), a journal of
moves (so a perturbation can be undone) and caches of the exact leave/join
costs keyed by a per-part stamp, so only parts that changed are re-priced.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from workbench.align.dispersion import MedianDispersion, WeightedDispersion

#: The search's clock for every time budget: CPU seconds of the calling thread. A busy machine (other
#: processes on the same cores) then makes a fit slower but does not cut its search short, so the plan
#: does not get worse, or fall outside the tolerance, with the load; on a quiet machine it runs at
#: about wall-clock speed.
search_clock = time.thread_time

#: The budget's cost model, in CPU microseconds on the machine it was fitted on (a 2-core CI machine):
#: every unit of ``SearchState.work`` (a node move and its bookkeeping; a round of moves or swaps counts
#: ``ROUND_WORK`` units; a linear program one per node) costs ``MICROS_PER_WORK``; on top, a round of
#: swaps costs ``MICROS_PER_SWAP_ROUND``, every boundary entry listed ``MICROS_PER_BOUNDARY_ENTRY``, every
#: call pricing candidates against a part ``MICROS_PER_PRICING`` plus ``MICROS_PER_PRICED_PAIR`` per
#: (candidate, member) pair. Fitted by least squares on 26,000 timed rounds of the contiguous benchmark
#: (60-200 units, median objective; the 3,107 counties into 20 and 40, weighted): each instance's rounds
#: are predicted within 10% of their CPU time, where a count of work alone was 4 times off between them
#: (1,300 to 23,000 units a CPU second).
MICROS_PER_WORK = 20.0
MICROS_PER_SWAP_ROUND = 250.0
MICROS_PER_BOUNDARY_ENTRY = 0.8
MICROS_PER_PRICING = 30.0
MICROS_PER_PRICED_PAIR = {"median": 0.015, "weighted": 0.005}
#: A search with a budget of ``s`` seconds is cut by the CPU clock after ``HARD_STOP_FACTOR * s`` CPU
#: seconds, and at least ``HARD_STOP_SLACK`` more than ``s`` (what the model leaves out, such as building
#: the search state, must not cut a small budget): a machine much slower than the one the model was
#: fitted on still stops in time (the anytime guarantee).
HARD_STOP_FACTOR = 2.0
HARD_STOP_SLACK = 1.0

_EPS = 1e-12


def one_blas_thread(function):
    """Run ``function`` with BLAS (OpenBLAS, MKL) limited to one thread (``threadpoolctl``).

    The contiguous search's matrix products are small and many; OpenBLAS
    starts its worker threads on them, which then spin between calls. On the
    benchmark's 200 units into 4 a fit took 3.5 CPU seconds in its own
    thread and 6.5 in its process: no faster alone, and twice as slow in wall
    time as soon as another process wanted the second core (two fits side by
    side: 6.8 s each instead of 3.6 s). With one BLAS thread the process
    takes the 3.5 s of its thread, alone or not.
    """

    @functools.wraps(function)
    def limited(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited


class WorkMeter:
    """The budget clock of a search: the work done, in nominal seconds (a count, not a clock).

    Every budget of the search (``max_seconds``, the repair's share, the
    deluge schedule of the acceptance threshold) is read from this meter:
    ``seconds()`` is the work counted so far (node moves, rounds of moves
    and swaps, the candidates priced, linear programs; see
    ``MICROS_PER_WORK`` and what follows it) priced by a fitted cost model,
    so about CPU seconds on the machine the model was fitted on. The same
    ``random_state`` then does the same work and returns the same plan on
    any machine at any load (the deterministic time limits of MIP solvers,
    Gurobi's ``WorkLimit`` or CPLEX's ticks, work the same way). A safety
    stop by the CPU clock at ``HARD_STOP_FACTOR`` times the budget (at least
    ``HARD_STOP_SLACK`` seconds more than it) keeps
    the anytime guarantee on a much slower machine; a search stopped that
    way (``cut``) may differ from one run to the next.

    Parameters
    ----------
    seconds : float, default inf
        The budget, for the safety stop; inf: no safety stop.

    Examples
    --------
    >>> meter = WorkMeter(seconds=1.0)
    >>> meter.work += 20_000
    >>> meter.micros += 100_000.0
    >>> meter.seconds(), meter.cut
    (0.5, False)
    """

    def __init__(self, seconds: float = math.inf):
        self.work = 0
        self.micros = 0.0
        # (a budget of 0 stops at the first check by its deadline; it needs no safety stop)
        limit = max(HARD_STOP_FACTOR * seconds, seconds + HARD_STOP_SLACK)
        self.hard_stop = search_clock() + limit if math.isfinite(seconds) and seconds > 0 else math.inf
        self.cut = False

    def seconds(self) -> float:
        """Nominal seconds of work done so far; inf once the safety stop's CPU time is reached."""
        if self.cut or (self.hard_stop < math.inf and search_clock() >= self.hard_stop):
            self.cut = True
            return math.inf
        return (self.work * MICROS_PER_WORK + self.micros) * 1e-6


def leaves_connected(adj, labels, u, p) -> bool:
    """Part ``p`` stays connected without its node ``u`` (``adj``: a list of neighbour lists).

    First a local test: ``u``'s neighbours in ``p`` joined through ``p``'s
    nodes within two steps of ``u`` (in a planar graph the ring around ``u``
    nearly always joins them) proves it; otherwise searches of the part
    without ``u``, one from each of those neighbours, grow in turn one node
    at a time and merge where they meet: all meeting proves it, one running
    out first disproves it. A "yes" costs about the ring, a "no" about the
    smaller side (a peninsula), not the whole part: much less than the
    articulation points of the part, which the balancing recomputed for
    every part that changed.

    Examples
    --------
    >>> adj = [[1], [0, 2], [1]]                      # a path 0 - 1 - 2, all in part 0
    >>> leaves_connected(adj, np.zeros(3, dtype=int), 1, 0), leaves_connected(adj, np.zeros(3, dtype=int), 2, 0)
    (False, True)
    """
    near = list(dict.fromkeys(v for v in adj[u] if labels[v] == p))
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
    # The ring did not join them: grow a search of the part (without u) from each neighbour in turn, one
    # node at a time, merging searches that meet. One exhausted before all have met proves the split; so a
    # "no" costs about the smaller side (a peninsula), not the whole part.
    return _meet(adj, labels, u, p, near)


def _meet(adj, labels, u, p, near) -> bool:
    """Interleaved searches of part ``p`` without ``u`` from each of ``near``: True when they all meet."""
    root = list(range(len(near)))

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    owner = {u: -1}
    queues = []
    for i, v in enumerate(near):
        owner[v] = i
        queues.append([v])
    groups = len(near)
    while True:
        for i in range(len(near)):
            if root[i] != i:
                continue
            queue = queues[i]
            if not queue:
                return False  # this search is exhausted before meeting the others: u splits the part
            node = queue.pop()
            for v in adj[node]:
                if labels[v] != p:
                    continue
                other = owner.get(v)
                if other is None:
                    owner[v] = i
                    queue.append(v)
                elif other >= 0:
                    j = find(other)
                    if j != i:
                        root[j] = i
                        queue.extend(queues[j])
                        queues[j] = []
                        groups -= 1
                        if groups == 1:
                            return True


class SearchState:
    """Labels, loads, objective state and the caches that keep the gains cheap."""

    def __init__(self, labels, edges, weights, coords, objective, q, lo, hi, fixed, frozen, penalty, reference,
                 meter: WorkMeter | None = None):
        self.labels = labels
        #: The budget clock (shared by the states of one search, so one budget covers them all).
        self.meter = WorkMeter() if meter is None else meter
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
        self._pair_micros = MICROS_PER_PRICED_PAIR[objective]
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
    @property
    def work(self) -> int:
        """A deterministic count of the work done (node moves, local-search rounds, linear programs), kept
        on ``meter``: the search weighs its operators' cost by it and reads its budgets from it (CPU
        seconds would make the draws and the stops depend on the machine)."""
        return self.meter.work

    @work.setter
    def work(self, value: int) -> None:
        self.meter.work = value

    def members(self, p):
        cached = self._members.get(p)
        if cached is None or cached[0] != self.stamp[p]:
            cached = (self.stamp[p], np.flatnonzero(self.labels == p))
            self._members[p] = cached
        return cached[1]

    def can_leave(self, u, p) -> bool:
        """Part ``p`` stays connected without node ``u`` (see :func:`leaves_connected`)."""
        return leaves_connected(self.adj, self.labels, u, p)

    def total(self) -> float:
        return float(self.part_costs.sum()) + self.penalty_total()

    def penalty_total(self) -> float:
        if self.penalty is None:
            return 0.0
        return float(self.penalty[np.arange(len(self.labels)), self.labels].sum())

    def move(self, u, a, b, record=True):
        self.work += 1
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
        return self.penalty[u, b] - self.penalty[u, a]

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
        self.meter.micros += MICROS_PER_BOUNDARY_ENTRY * u.size
        return u, self.labels[u], b

    def leave_costs(self, u, a):
        need = self.leave_key[u] != self.stamp[a]
        if need.any():
            for p in np.unique(a[need]):
                nodes = np.unique(u[need & (a == p)])
                members = self.members(p)
                self.charge_pricing(nodes.size, members.size)
                self.leave_val[nodes] = self.obj.leave(nodes, p, members)
                self.leave_key[nodes] = self.stamp[p]
        return self.leave_val[u]

    def join_costs(self, u, b):
        need = self.join_key[b, u] != self.stamp[b]
        if need.any():
            for p in np.unique(b[need]):
                nodes = np.unique(u[need & (b == p)])
                members = self.members(p)
                self.charge_pricing(nodes.size, members.size)
                self.join_val[p, nodes] = self.obj.join(nodes, p, members)
                self.join_key[p, nodes] = self.stamp[p]
        return self.join_val[b, u]

    def charge_pricing(self, n_candidates: int, n_members: int) -> None:
        """Count one call pricing ``n_candidates`` against a part of ``n_members`` on the budget's meter."""
        self.meter.micros += MICROS_PER_PRICING + self._pair_micros * n_candidates * n_members

    def neighbours(self, u):
        return self.nbr[self.nbr_ptr[u]:self.nbr_ptr[u + 1]]

