"""Moves of whole blocks for :class:`~workbench.align.realign_blocks.ContiguousRealignment`.

* :func:`majority` — the territory of every block today (where most of its workload is);
* :func:`sharing_graph` — territories whose accounts share a block today;
* :func:`flow_prices` — what sending workload between two territories costs (a hop plus the distance);
* :func:`flow_moves` — territory-to-territory flows carried out with boundary blocks, donors kept connected;
* :func:`fit_moves` — single boundary blocks out of territories beyond a bound (optionally home first);
* :func:`take_back` — moved blocks back home while every territory stays within bounds;
* :func:`exchange_home` — more back home by sending lighter blocks the other way (a 0/1 program);
* :func:`empty_closed` — blocks of closing territories to the lightest bordering open one;
* :func:`connect` — cut-off pieces of a territory to a bordering territory;
* :func:`settle` — the contiguous search of :mod:`workbench.align.contiguous_search` pricing each block
  away from today's territory;
* :class:`Budget` — books block moves against a disruption budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from workbench.align import _balance
from workbench.align._highs import solve_milp
from workbench.align.contiguous_search import improve_partition
from workbench.geo import EARTH_RADIUS_KM
from workbench.labels import fill_from_neighbours

#: Rounds of re-joining cut-off pieces to a neighbouring territory: each round joins every piece
#: at once, so a handful suffice; the bound only stops a pathological graph.
REJOIN_ROUNDS = 50


class Budget:
    """Books block moves against a disruption budget (share of the first metric of accounts that change)."""

    def __init__(self, *, accounts_blocks, accounts_current, share, labels, n_b, budget):
        frame = pd.DataFrame({"b": accounts_blocks, "t": accounts_current, "w": share})
        self.own = frame.groupby(["b", "t"])["w"].sum().to_dict()
        self.total = np.bincount(accounts_blocks, weights=share, minlength=n_b)
        self.budget = budget
        self.spent = float(sum(self.total[b] - self.own.get((b, labels[b]), 0.0) for b in range(n_b)))

    def take(self, block, to, came_from) -> bool:
        delta = self.own.get((block, came_from), 0.0) - self.own.get((block, to), 0.0)
        if self.budget is not None and self.spent + delta > self.budget + 1e-12:
            return False
        self.spent += delta
        return True


def settle(labels, bg, shares, weight, targets, tolerance, current, penalty_km, fixed, frozen, closed, kicks,
           seconds, random_state, move_km=None, patience=None, repair_patience=None):
    """The contiguous search (:func:`~workbench.align.contiguous_search.improve_partition`) from ``labels``.

    It lowers the distance to the centres plus, per unit of workload away
    from today's territory (``current``), ``penalty_km`` and (optional)
    ``move_km[block, territory]``: what else a block costs in that
    territory, e.g. the distance it adds to the receiving rep's home.
    ``targets`` is one per territory, or ``(territory, metric)``; the
    search stops after ``kicks`` perturbations, ``patience`` in a row
    without a better plan, or (``seconds``) nominal seconds of work, and its repair of
    a start outside the bands after ``repair_patience`` rounds without a
    less violating plan.
    """
    open_ = np.flatnonzero(~closed)
    index = np.full(len(targets), -1)
    index[open_] = np.arange(len(open_))
    start = index[labels]
    if (start < 0).any() or len(open_) < 2:
        return labels
    reference = np.where(index[current] >= 0, index[current], start)
    result = improve_partition(start, bg.edges, shares, bg.xyz * EARTH_RADIUS_KM, tolerance=tolerance,
                               objective="weighted", node_weight=weight, targets=targets[open_], fixed=fixed,
                               frozen_parts=np.flatnonzero(frozen[open_]).tolist(), reference=reference,
                               move_penalty=_move_penalty(weight, penalty_km, move_km, open_),
                               max_kicks=kicks, max_seconds=seconds, patience=patience,
                               repair_patience=repair_patience, random_state=random_state)
    return open_[result.labels]


def _move_penalty(weight, penalty_km, move_km, open_):
    """The search's move penalty: per block (``weight * penalty_km``), or per block and open territory."""
    if move_km is None:
        return penalty_km * weight
    return weight[:, None] * (penalty_km + np.asarray(move_km, dtype=float)[:, open_])


def grow_graph(adjacency, n):
    out = np.zeros((n, n), dtype=bool)
    out[:len(adjacency), :len(adjacency)] = adjacency
    return out


def sharing_graph(account_block, account_territory, n_territories):
    """(t, t) bool: territories whose accounts share a block today (a block split between them).

    Examples
    --------
    >>> sharing_graph(np.array([0, 0, 1]), np.array([0, 1, 2]), 3).astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    pairs = pd.DataFrame({"b": account_block, "t": account_territory}).drop_duplicates()
    both = pairs.merge(pairs, on="b")
    both = both[both["t_x"] != both["t_y"]]
    out = np.zeros((n_territories, n_territories), dtype=bool)
    out[both["t_x"].to_numpy(), both["t_y"].to_numpy()] = True
    return out


def majority(acc_block, acc_current, weight, n_b, edges):
    """Territory per block: where most of its workload is today; blocks without accounts from neighbours.

    Blocks without accounts then bridge a territory's pieces where they can
    (:func:`bridge_pieces`): accounts assigned today say nothing about the
    empty counties between them, and a territory split only by how those were
    filled in is one piece today.
    """
    votes = pd.DataFrame({"block": acc_block, "t": acc_current, "w": weight + 1e-9})
    table = votes.groupby(["block", "t"])["w"].sum().reset_index()
    table = table.sort_values(["block", "w", "t"], ascending=[True, False, True], kind="stable")
    best = table.drop_duplicates("block")
    labels = np.full(n_b, -1)
    labels[best["block"].to_numpy()] = best["t"].to_numpy()
    labels = fill_from_neighbours(labels, edges, missing=labels < 0)
    labels[labels < 0] = 0  # a block no territory reaches at all (cannot happen once pieces are bridged)
    loaded = np.zeros(n_b, dtype=bool)
    loaded[acc_block] = True
    return bridge_pieces(labels, edges, loaded)


def _components(labels, edges, n) -> np.ndarray:
    """Component of every block in the graph of same-territory edges."""
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    graph = sparse.coo_matrix((np.ones(int(same.sum())), (edges[same, 0], edges[same, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _piece_counts(labels, edges, loaded, n_t) -> np.ndarray:
    """Loaded pieces of each of the ``n_t`` territories (0 for one without loaded blocks)."""
    comp = _components(labels, edges, len(labels))
    pairs = np.unique(np.c_[labels[loaded], comp[loaded]], axis=0)
    return np.bincount(pairs[:, 0], minlength=n_t)


def _join(labels, t, edges, loaded, blocked):
    """``labels`` with territory ``t``'s loaded pieces joined to its main one through empty blocks not ``blocked``
    (shortest paths, fewest blocks), and the blocks it took; None when no piece can be joined."""
    from scipy.sparse.csgraph import shortest_path

    n = labels.size
    comp = _components(labels, edges, n)
    mine = labels == t
    pieces, sizes = np.unique(comp[mine & loaded], return_counts=True)
    if pieces.size < 2:
        return None
    main = pieces[np.argmax(sizes)]
    allowed = mine | (~loaded & ~blocked)
    src, dst = np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]
    keep = allowed[src] & allowed[dst]
    hub = np.flatnonzero(comp == main)  # a source node n joined to the main piece
    graph = sparse.csr_matrix((np.ones(int(keep.sum()) + hub.size), (np.r_[src[keep], np.full(hub.size, n)],
                                                                      np.r_[dst[keep], hub])), shape=(n + 1, n + 1))
    dist, pred = shortest_path(graph, directed=True, unweighted=True, indices=n, return_predecessors=True)
    out, taken = labels.copy(), []
    for piece in pieces[pieces != main]:
        members = np.flatnonzero(comp == piece)
        reach = members[np.isfinite(dist[members])]
        if reach.size == 0:
            continue
        node = int(reach[np.argmin(dist[reach])])
        while node != n and node >= 0:
            if out[node] != t:
                out[node] = t
                taken.append(node)
            node = int(pred[node])
    return (out, np.asarray(taken, dtype=np.int64)) if taken else None


def bridge_pieces(labels, edges, loaded, fixed=None, max_rounds=3) -> np.ndarray:
    """Join a territory's loaded pieces through blocks without load, where such a path exists.

    A territory whose loaded blocks lie in two or more pieces (its blocks'
    components in the block graph) takes the blocks on the shortest path
    (fewest blocks) from each smaller piece to its main one (most loaded
    blocks) through its own blocks and blocks without load (not
    ``fixed``). A territory that this leaves in more loaded pieces is then
    joined the same way, without the blocks just taken; the whole change is
    kept only when no territory ends in more loaded pieces than before. Load
    never moves, so balance is untouched: what changes is which territory
    the empty blocks between them count for (a plan read from its accounts
    says nothing about those). Pieces no such path joins stay as they are.

    Parameters
    ----------
    labels : numpy.ndarray of int
        Territory per block.
    edges : array of shape (n_edges, 2)
        Block adjacency.
    loaded : bool array
        Blocks that carry load (accounts).
    fixed : bool array, optional
        Blocks that must keep their territory.
    max_rounds : int, default 3
        Passes over the territories (a bridge can open the way for another).

    Returns
    -------
    numpy.ndarray
        A copy of ``labels``.

    Examples
    --------
    Territory 0 holds blocks 0 and 4 of a line; the empty blocks 1-3 between them went to territory 1,
    whose load is in block 5 (block 3 borders it too):

    >>> edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [3, 5]])
    >>> loaded = np.array([True, False, False, False, True, True])
    >>> bridge_pieces(np.array([0, 1, 1, 1, 0, 1]), edges, loaded).tolist()
    [0, 0, 0, 0, 0, 1]
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    loaded = np.asarray(loaded, dtype=bool)
    fixed = np.zeros(labels.size, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    if not len(edges) or loaded.all() or not loaded.any():
        return labels
    n_t = int(labels.max()) + 1
    for _ in range(max_rounds):
        changed = False
        for t in np.flatnonzero(_piece_counts(labels, edges, loaded, n_t) > 1):
            before = _piece_counts(labels, edges, loaded, n_t)
            if before[t] < 2:
                continue
            joined = _join(labels, t, edges, loaded, fixed)
            if joined is None:
                continue
            trial, taken = joined
            blocked = fixed.copy()
            blocked[taken] = True
            after = _piece_counts(trial, edges, loaded, n_t)
            for other in np.flatnonzero(after > before):  # what the path cut through, joined round it
                again = _join(trial, other, edges, loaded, blocked)
                if again is not None:
                    trial = again[0]
                    blocked[again[1]] = True
            after = _piece_counts(trial, edges, loaded, n_t)
            if (after <= before).all() and after.sum() < before.sum():
                labels, changed = trial, True
        if not changed:
            break
    return labels


def flow_prices(labels, edges, weight, km, n_t, penalty_km):
    """(t, t) price per unit of workload sent ``s -> t`` for the bordering flows: a hop plus the distance it adds.

    One hop costs 1 (the bound's price); on top, the workload-weighted mean
    growth of the distance to the centre (``km``: with reps, to the
    receiving rep's home) of the blocks of ``s`` touching ``t``, in units of
    ``penalty_km`` (what the search charges for moving a unit of workload),
    so a flow goes to a near territory rather than a far one that borders
    too. A growth below zero prices the hop at 1 (never less).

    Examples
    --------
    A line of three blocks in territories 0, 1, 1; block 0 gains 50 km by going to territory 1:

    >>> km = lambda rows, territories: np.where(territories == 0, 10.0, 60.0)
    >>> flow_prices(np.array([0, 1, 1]), np.array([[0, 1], [1, 2]]), np.ones(3), km, 2, 100.0).tolist()
    [[1.0, 1.5], [1.0, 1.0]]
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    cross = labels[edges[:, 0]] != labels[edges[:, 1]]
    pairs = np.unique(np.r_[edges[cross], edges[cross][:, ::-1]], axis=0)  # (block, neighbouring block)
    prices = np.ones((n_t, n_t))
    if not len(pairs) or penalty_km <= 0:
        return prices
    frame = pd.DataFrame({"b": pairs[:, 0], "s": labels[pairs[:, 0]], "t": labels[pairs[:, 1]]}).drop_duplicates()
    b, s, t = (frame[c].to_numpy() for c in ("b", "s", "t"))
    w = weight[b] + 1e-12
    frame["wg"] = w * (km(b, t) - km(b, s))
    frame["w"] = w
    mean = frame.groupby(["s", "t"])[["wg", "w"]].sum()
    grow = (mean["wg"] / mean["w"]).clip(lower=0.0) / penalty_km
    prices[mean.index.get_level_values(0), mean.index.get_level_values(1)] += grow.to_numpy()
    return prices


def flow_moves(labels, edges, weight, flows, km, fixed, closed, spend=None, far=None):
    """Carry out territory-to-territory ``flows`` with whole boundary blocks, keeping every donor connected.

    For each flow ``s -> t`` (largest first), blocks of ``s`` touching ``t``
    move one at a time, the one whose distance to the centre grows least
    first, while the flow still needs at least half the block; a block whose
    departure would split ``s`` stays (closing territories may split: they
    empty anyway). ``spend(block, territory)`` (optional) returns False
    when a disruption budget forbids that move, and books it otherwise.
    ``far(blocks, territory)`` (optional) marks blocks that would end far
    from the receiving territory's centre (or rep's home): those stay (but
    a closing territory's), and the flow waits for the next round, priced
    from the moved plan (:func:`flow_prices`), to find a nearer way.
    """
    import networkx as nx

    labels = labels.copy()
    graph = nx.Graph()
    graph.add_nodes_from(range(len(labels)))
    graph.add_edges_from(map(tuple, np.asarray(edges).reshape(-1, 2)))
    order = np.dstack(np.unravel_index(np.argsort(-flows, axis=None), flows.shape))[0]
    for s, t in order:
        need = float(flows[s, t])
        if need <= 1e-12:
            break
        while need > 1e-12:
            members = np.flatnonzero(labels == s)
            if members.size <= 1:
                break
            touching = [b for b in members if not fixed[b] and any(labels[n] == t for n in graph[b])]
            if not touching:
                break
            cut = set() if closed[s] else set(nx.articulation_points(graph.subgraph(members)))
            touching = np.array([b for b in touching if b not in cut and weight[b] <= 2 * need + 1e-15], dtype=int)
            if (weight[touching] > 0).any():
                # Blocks without load carry none of the flow; they move only to open the way (the territories
                # meet across empty blocks), else they would be carried round one by one.
                touching = touching[weight[touching] > 0]
            if far is not None and not closed[s] and touching.size:
                touching = touching[~far(touching, np.full(len(touching), t))]
            if touching.size == 0:
                break
            grow = km(touching, np.full(len(touching), t)) - km(touching, np.full(len(touching), s))
            block = int(touching[np.argmin(grow)])
            if spend is not None and not spend(block, t, labels[block]):
                break
            labels[block] = t
            need -= float(weight[block])
    return labels


def fit_moves(labels, edges, shares, base, targets, tolerance, km, fixed, frozen, max_moves=None, spend=None,
              home=None, penalty_km=0.0):
    """Single boundary blocks out of territories beyond a bound, to bordering ones with room, never splitting.

    A territory over its upper bound gives the block (touching a bordering
    territory, not an articulation point) whose move keeps the receiver
    within its upper bound and itself at or above its lower bound, smallest
    distance growth first; a territory under its lower bound takes such a
    block from a bordering territory that can spare it. Repeated until no
    territory is out of bounds or no such move exists.
    """
    import networkx as nx

    labels = labels.copy()
    n_t = len(targets)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(labels)))
    graph.add_edges_from(map(tuple, np.asarray(edges).reshape(-1, 2)))
    target = np.asarray(targets, dtype=float).reshape(len(targets), -1)  # per territory, or (territory, metric)
    low, high = target * (1 - tolerance), target * (1 + tolerance)

    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    src, dst = np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]
    cuts = _Cuts(graph, labels)
    # A block without load changes no load: it would only be moved round and round (and reshape territories).
    movable = ~np.asarray(fixed, dtype=bool) & (np.asarray(shares).reshape(len(labels), -1) > 0).any(axis=1)

    def candidates(mask, order):
        """Unique (block, territory it may go to) of the directed edges in ``mask``, their costs, in ``order``."""
        pairs = np.unique(np.c_[src[mask], labels[dst[mask]]], axis=0)
        b, t = pairs[:, 0], pairs[:, 1]
        grow = _move_costs(b, labels[b], t, load, shares, low, high, km, home, penalty_km)
        rank = np.lexsort(order(b, t, grow))
        return b[rank], t[rank], grow[rank]

    for _ in range(max_moves or len(labels)):
        load = _balance.loads_of(labels, shares, n_t) + base
        is_over = ((load > high + 1e-12).any(axis=1)) & ~frozen
        is_under = ((load < low - 1e-12).any(axis=1)) & ~frozen
        if not is_over.any() and not is_under.any():
            break
        best = None
        cross = labels[src] != labels[dst]
        # Over its bound: the cheapest of its blocks (not one it needs to stay in one piece) to a bordering
        # territory (first in order of giving territory, block, receiving territory).
        step = cross & is_over[labels[src]] & movable[src] & ~frozen[labels[dst]]
        if step.any():
            b, t, grow = candidates(step, lambda b, t, grow: (t, b, labels[b]))
            keep = np.isfinite(grow)
            for s in np.unique(labels[b[keep]]):
                members = np.flatnonzero(labels == s)
                cut = cuts(s) if members.size > 2 else set(members.tolist())
                keep[keep & (labels[b] == s)] = [x not in cut for x in b[keep & (labels[b] == s)].tolist()]
            if keep.any():
                pick = np.flatnonzero(keep)[np.argmin(grow[keep])]
                best = (float(grow[pick]), int(b[pick]), int(t[pick]))
        # Under its bound: the cheapest block of a bordering territory that can spare it.
        step = cross & is_under[labels[dst]] & movable[src] & ~frozen[labels[src]]
        if best is None and step.any():
            b, t, grow = candidates(step, lambda b, t, grow: (b, t, grow))
            for pick in np.flatnonzero(np.isfinite(grow)):
                if b[pick] not in cuts(labels[b[pick]]):
                    best = (float(grow[pick]), int(b[pick]), int(t[pick]))
                    break
        if best is None or (spend is not None and not spend(best[1], best[2], labels[best[1]])):
            break
        cuts.changed(labels[best[1]], best[2])
        labels[best[1]] = best[2]
    return labels


def _move_costs(b, s, t, load, shares, low, high, km, home=None, penalty_km=0.0) -> np.ndarray:
    """What moving blocks ``b`` from ``s`` to ``t`` costs in :func:`fit_moves` (arrays, one move each); ``inf``
    where a move breaks a bound.

    The growth of the block's distance to its territory's centre (``km``),
    plus ``penalty_km`` when it leaves its ``home`` territory (less when it
    goes back); ``inf`` when ``t`` would go over its upper bound or ``s``
    under its lower bound on any metric.

    Examples
    --------
    Block 0 at 1 km from territory 0's centre and 3 km from territory 1's:

    >>> km = lambda rows, territories: np.where(territories == 0, 1.0, 3.0)
    >>> low, high = np.array([[0.0], [0.0]]), np.array([[1.0], [1.0]])
    >>> load, shares = np.array([[0.8], [0.5]]), np.array([[0.4]])
    >>> b, s, t = np.array([0]), np.array([0]), np.array([1])
    >>> _move_costs(b, s, t, load, shares, low, high, km).tolist()
    [2.0]
    >>> _move_costs(b, s, t, load, shares, low, high, km, home=np.array([0]), penalty_km=10.0).tolist()
    [12.0]
    >>> _move_costs(b, s, t, load, np.array([[0.6]]), low, high, km).tolist()  # territory 1 would go over
    [inf]
    """
    grow = km(b, t) - km(b, s)
    if home is not None:
        grow = grow + penalty_km * ((t != home[b]).astype(float) - (s != home[b]).astype(float))
    breaks = (load[t] + shares[b] > high[t] + 1e-12).any(axis=1) | (load[s] - shares[b] < low[s] - 1e-12).any(axis=1)
    return np.where(breaks, np.inf, grow)


def take_back(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed):
    """Moved blocks back to their territory of today while every territory stays within its bounds and connected.

    Repeatedly, of the moved blocks that border their ``home`` territory
    (open, not frozen) and whose return keeps both territories within
    ``targets * (1 +- tolerance)`` on every metric (or no further out than
    now) and the giving one connected, the heaviest goes back; until none
    can. Each return lowers the moved workload and no territory's balance
    gets worse, so it only ever tidies what a search left.

    Examples
    --------
    A line of four blocks, today ``0 0 1 1``; block 1 went to territory 1 though both halves are within a 50% band:

    >>> take_back(np.array([0, 1, 1, 1]), np.array([[0, 1], [1, 2], [2, 3]]), np.full((4, 1), 0.5),
    ...           np.array([1.0, 1.0]), 0.5, np.array([0, 0, 1, 1]), np.zeros(4, bool), np.zeros(2, bool),
    ...           np.zeros(2, bool)).tolist()
    [0, 0, 1, 1]
    """
    import networkx as nx

    labels = labels.copy()
    graph = nx.Graph()
    graph.add_nodes_from(range(len(labels)))
    graph.add_edges_from(map(tuple, np.asarray(edges).reshape(-1, 2)))
    target = np.asarray(targets, dtype=float).reshape(len(targets), -1)  # per territory, or (territory, metric)
    low, high = target * (1 - tolerance), target * (1 + tolerance)
    n_t = len(targets)
    weight = shares.mean(axis=1)
    cuts = _Cuts(graph, labels)
    for _ in range(len(labels)):
        load = _balance.loads_of(labels, shares, n_t)
        moved = [b for b in np.flatnonzero(labels != home) if not fixed[b]
                 and not closed[home[b]] and not frozen[home[b]] and not frozen[labels[b]]
                 and any(labels[n] == home[b] for n in graph[b])]
        done = False
        for b in sorted(moved, key=lambda b: -weight[b]):
            s, h = labels[b], home[b]
            after_s, after_h = load[s] - shares[b], load[h] + shares[b]
            worse_s = np.maximum(low[s] - after_s, 0) > np.maximum(low[s] - load[s], 0) + 1e-12
            worse_h = np.maximum(after_h - high[h], 0) > np.maximum(load[h] - high[h], 0) + 1e-12
            if worse_s.any() or worse_h.any():
                continue
            if b in cuts(s):
                continue
            labels[b] = h
            cuts.changed(s, h)
            done = True
            break
        if not done:
            break
    return labels


class _Cuts:
    """Blocks each territory cannot give without splitting (articulation points, or its only block), cached.

    ``cuts(t)`` is the set for territory ``t`` under the current ``labels``
    (the array is read, not copied); ``cuts.changed(s, t)`` after a block
    moves between ``s`` and ``t`` forgets those two.
    """

    def __init__(self, graph, labels):
        self.graph, self.labels, self.known = graph, labels, {}

    def __call__(self, territory) -> set:
        if territory not in self.known:
            import networkx as nx

            members = np.flatnonzero(self.labels == territory)
            self.known[territory] = (set(members.tolist()) if members.size <= 1 else
                                     set(nx.articulation_points(self.graph.subgraph(members.tolist()))))
        return self.known[territory]

    def changed(self, *territories) -> None:
        for territory in territories:
            self.known.pop(territory, None)


def _per_territory(targets) -> np.ndarray:
    """One target per territory: ``targets`` as given, or their mean over the metrics when ``(territory, metric)``."""
    targets = np.asarray(targets, dtype=float)
    return targets.reshape(len(targets), -1).mean(axis=1)


def empty_closed(labels, edges, weight, targets, closed):
    """Blocks still in a closing territory go, border first, to the lightest bordering open territory."""
    labels = labels.copy()
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    src, dst = np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]
    n_t = len(targets)
    for _ in range(len(labels)):
        left = closed[labels]
        if not left.any():
            break
        step = left[src] & ~closed[labels[dst]]
        if not step.any():
            break
        load = np.bincount(labels, weights=weight, minlength=n_t) / np.maximum(_per_territory(targets), 1e-12)
        frame = pd.DataFrame({"block": src[step], "t": labels[dst[step]], "load": load[labels[dst[step]]]})
        pick = frame.sort_values(["block", "load"], kind="stable").drop_duplicates("block")
        labels[pick["block"].to_numpy()] = pick["t"].to_numpy()
    return labels


def connect(labels, edges, weight, origin, targets, n_t, fixed):
    """Give every piece of a territory cut off from its main (heaviest) part to a bordering territory.

    First, blocks without load join what they can (:func:`bridge_pieces`: a
    loaded piece cut off only by empty blocks keeps its territory). Then each
    remaining piece goes back to the territory its blocks came from when that one
    borders it, else to the bordering territory lightest against its target;
    repeated until every territory is one piece (or nothing can change).

    Examples
    --------
    A line of five blocks where territory 0 holds both ends:

    >>> connect(np.array([0, 1, 1, 1, 0]), np.array([[0, 1], [1, 2], [2, 3], [3, 4]]), np.ones(5),
    ...         np.array([0, 1, 1, 1, 1]), np.array([0.5, 0.5]), 2, np.zeros(5, bool)).tolist()
    [0, 1, 1, 1, 1]
    """
    labels = bridge_pieces(labels, edges, np.asarray(weight) > 0, fixed)
    n = len(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    for _ in range(REJOIN_ROUNDS):
        same = labels[edges[:, 0]] == labels[edges[:, 1]]
        graph = sparse.coo_matrix((np.ones(int(same.sum())), (edges[same, 0], edges[same, 1])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        frame = pd.DataFrame({"comp": comp, "t": labels, "w": weight + 1e-12})
        size = frame.groupby("comp").agg(t=("t", "first"), w=("w", "sum"))
        main = size.sort_values("w", ascending=False, kind="stable").drop_duplicates("t").index
        pieces = size.index.difference(main)
        if len(pieces) == 0:
            return labels
        load = np.bincount(labels, weights=weight, minlength=n_t)
        changed = False
        for piece in pieces:
            members = np.flatnonzero(comp == piece)
            if fixed[members].any():
                continue
            inside = np.isin(edges, members)
            cross = inside[:, 0] ^ inside[:, 1]
            outside = np.where(inside[cross, 0], edges[cross, 1], edges[cross, 0])
            options = np.unique(labels[outside])
            options = options[options != labels[members[0]]]
            if options.size == 0:
                continue
            came = np.bincount(origin[members], weights=weight[members] + 1e-12, minlength=n_t)
            back = [t for t in np.argsort(-came) if came[t] > 0 and t in options]
            choice = back[0] if back else options[np.argmin(load[options]
                                                            / np.maximum(_per_territory(targets)[options], 1e-12))]
            labels[members] = choice
            load = np.bincount(labels, weights=weight, minlength=n_t)
            changed = True
        if not changed:
            return labels
    return labels


#: How far inside its bands :func:`exchange_home` asks each load to stay, in shares of the total: beyond the
#: solver's feasibility tolerance (1e-7), so a solution it accepts is within the bands exactly.
_MARGIN = 1e-6
#: What :func:`repair_moves` charges per unit of band violation (a share of the total, summed over territories
#: and metrics), in units of moved share (of the move penalty, with ``penalty_km``): a violation goes whenever
#: moves of up to a thousand times its size remove it, so the program balances first and disrupts least second.
VIOLATION_PRICE = 1000.0
#: The largest piece of a territory (in blocks) that :func:`repair_moves` may move along with the one block
#: that connects it to the rest (:func:`_moves_with_what_they_cut_off`).
CUT_OFF_BLOCKS = 4
#: What every change costs on top in :func:`repair_moves`, per unit of the block's workload (in the same units):
#: a block moved on from one foreign territory to another, or a move that only saves distance, is not free.
CHANGE_PRICE = 0.1
#: The same in :func:`exchange_home`, smaller: there every change is a return or makes one possible.
EXCHANGE_CHANGE_PRICE = 0.02


def exchange_home(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, max_rounds=6,
                  node_limit=300, penalty_km=None, km=None):
    """Fewer blocks away from home at the same balance: one 0/1 program of returns and exchanges, contiguity checked.

    :func:`take_back` returns single blocks while the bands allow; at the
    edge of a band a return needs a smaller block to go the other way. One
    integer program (HiGHS, :func:`workbench.align._highs.solve_milp`) chooses
    returns of moved blocks (``x``) and moves of blocks now at home to a
    bordering territory (``y``, none out of a territory it would split
    alone, and no return of a block its territory needs to stay
    connected) that lower the workload away from home the most (with
    ``penalty_km`` and ``km[block, territory]``: that times ``penalty_km``
    plus the workload-weighted distance, the search's objective at fixed
    centres), never more than now, with every
    territory within ``targets * (1 +- tolerance)`` on every metric (or no
    further out than now), every block that changes touching its new
    territory afterwards and every block that stays keeping a neighbour in
    its own. Where the plan still cuts a piece off a territory, the changes
    in and next to that piece are ruled out, that territory is held in one
    piece from then on (each of its blocks stays only if a neighbour nearer
    the blocks it keeps for sure does; a block joins it only next to one of
    its blocks of today that stays) and the program is solved again
    (at most ``max_rounds`` times, ``node_limit`` branch-and-bound nodes
    each: repeatable); without a connected improvement ``labels`` come
    back unchanged. A second program then starts from that result with
    cut blocks as well, each with the small piece it alone holds (a block
    away from home only goes back, :func:`_moves_with_what_they_cut_off`).

    Examples
    --------
    A line of six blocks (weights 2 1 1 1 1 2 over two territories of 4 +- 25%): today ``0 0 0 1 1 1``;
    block 2 (weight 1) went to territory 1. Returning it puts 0 at 4 and 1 at 4: within, one move fewer:

    >>> exchange_home(np.array([0, 0, 1, 1, 1, 1]), np.array([[i, i + 1] for i in range(5)]),
    ...               np.array([[2.0], [1], [1], [1], [1], [2]]) / 8, np.array([0.5, 0.5]), 0.25,
    ...               np.array([0, 0, 0, 1, 1, 1]), np.zeros(6, bool), np.zeros(2, bool), np.zeros(2, bool)).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    labels = _home_program(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, repair=False,
                           penalty_km=penalty_km, km=km, max_rounds=max_rounds, node_limit=node_limit, cut_off=False)
    # Then, from there, cut blocks too, each with the piece it alone holds (after, not instead: those extra
    # variables steered the solver's first solutions away from exchanges the plain program finds).
    return _home_program(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, repair=False,
                         penalty_km=penalty_km, km=km, max_rounds=max_rounds, node_limit=node_limit, cut_off=True)


def repair_moves(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, *, penalty_km=None,
                 km=None, pairs=None, max_rounds=6, node_limit=300):
    """Territories back into their bands at the least disruption: one 0/1 program over the border blocks.

    Where single moves cannot help (a territory under its band whose
    neighbours are at their own lower ends) the load has to come along a
    chain: the neighbour gives a block and takes one from its other side,
    and so on. One integer program (HiGHS) chooses, for every block on a
    border (none a territory needs to stay connected), to stay or to go to
    a bordering territory (a moved block may also go home), all chains at
    once: it minimises :data:`VIOLATION_PRICE` times the load outside the
    bands ``targets * (1 +- tolerance)`` (``targets`` per territory, or
    ``(territory, metric)``) plus the workload away from ``home`` (with
    ``penalty_km`` and ``km[block, territory]``: times ``penalty_km``, plus
    the workload-weighted distance, as :func:`exchange_home` does); no
    territory ends further out of its band than now, every block that
    changes touches its new territory afterwards and every block that stays
    keeps a neighbour in its own (pieces cut off anyway are ruled out, their
    territories held in one piece as in :func:`exchange_home`, and the
    program solved again, at most ``max_rounds`` times, ``node_limit``
    nodes each: repeatable). Blocks move one border deep per call: call it
    again from its result to go deeper. ``labels`` come back unchanged
    unless the plan gets less out of balance.

    Where that program finds nothing, a second one may also move a block
    its territory needs to stay connected together with the small piece it
    alone holds to it (:func:`_moves_with_what_they_cut_off`, up to
    :data:`CUT_OFF_BLOCKS` blocks); its plan is kept only when it brings
    every territory into its band. On drifted counties (40 territories,
    seed 2) Miami's territory was three heavy counties 0.9% over, and the
    way in was to give Palm Beach north and take Collier back, which alone
    held Monroe to its new territory: 2.25x -> 1.37x the bordering bound.

    Examples
    --------
    A line of six unit blocks in three territories ``0 0 1 1 1 2`` (targets 2 each, 10% bands): territory 2
    is one block short and territory 1 one over. Block 4 moving to 2 brings both in:

    >>> repair_moves(np.array([0, 0, 1, 1, 1, 2]), np.array([[i, i + 1] for i in range(5)]),
    ...              np.full((6, 1), 1 / 6), np.full(3, 1 / 3), 0.1, np.array([0, 0, 1, 1, 1, 2]),
    ...              np.zeros(6, bool), np.zeros(3, bool), np.zeros(3, bool)).tolist()
    [0, 0, 1, 1, 2, 2]
    """
    found = _home_program(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, repair=True,
                          penalty_km=penalty_km, km=km, max_rounds=max_rounds, node_limit=node_limit, pairs=pairs,
                          cut_off=False)
    if not np.array_equal(found, labels):
        return found
    # Only where that finds nothing, and only to finish: cut blocks move too, with the pieces they alone hold.
    # Offered always, the extra variables steered the solver's first solutions elsewhere (drifted counties, 30
    # territories: 1.15x -> 1.23x the bordering bound); kept when they only brought the plan nearer, they
    # started costlier chains (40 territories: 1.26x -> 1.38x).
    found = _home_program(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, repair=True,
                          penalty_km=penalty_km, km=km, max_rounds=max_rounds, node_limit=node_limit, pairs=pairs,
                          cut_off=True)
    skip = np.asarray(frozen, bool) | np.asarray(closed, bool)
    return found if not _balance.out_of_band(found, shares, targets, tolerance, skip=skip).any() else labels


def _home_program(labels, edges, shares, targets, tolerance, home, fixed, frozen, closed, *, repair, penalty_km,
                  km, max_rounds, node_limit, pairs=None, cut_off=True):
    """:func:`exchange_home` (``repair=False``) and :func:`repair_moves` (``repair=True``)."""
    import networkx as nx

    from workbench.align._graph import is_contiguous

    labels = np.asarray(labels).copy()
    n = len(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    shares = np.asarray(shares, dtype=float).reshape(n, -1)
    n_m = shares.shape[1]
    fixed = np.asarray(fixed, dtype=bool)
    n_t = len(targets)
    if not is_contiguous(n, edges, labels):
        return labels
    src, dst = np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]
    weight = shares.mean(axis=1)
    live = ~frozen & ~closed
    # Variables: (block, territory it goes to); returns first, then moves to a bordering territory.
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(map(tuple, edges))
    cuts_of = _Cuts(graph, labels)
    if pairs is not None:
        allowed = np.asarray(pairs, dtype=bool)
    elif repair:
        allowed = np.ones((n_t, n_t), dtype=bool)
    else:  # exchanges between the territories that moved blocks went between (either way)
        allowed = np.zeros((n_t, n_t), dtype=bool)
        away_now = labels != home
        allowed[home[away_now], labels[away_now]] = True
        allowed |= allowed.T
    borders_home = np.zeros(n, dtype=bool)  # touching a block of its home territory now
    borders_home[src[labels[dst] == home[src]]] = True
    moves = [(int(b), int(home[b])) for b in np.flatnonzero((labels != home) & ~fixed & live[home] & live[labels]
                                                            & borders_home)
             if b not in cuts_of(labels[b]) and allowed[labels[b], home[b]]]
    movable = ~fixed & live[labels] & (True if repair else labels == home)
    step = movable[src] & (labels[dst] != labels[src]) & live[labels[dst]] & allowed[labels[src], labels[dst]]
    moves += [(int(b), int(t)) for b, t in np.unique(np.c_[src, labels[dst]][step], axis=0)
              if b not in cuts_of(labels[b])]
    empty = weight <= 0
    if repair:
        moves += _moves_through_empty(labels, src, dst, movable, empty, fixed, live, allowed, cuts_of)
    # A cut block with the piece it alone holds (ties: the piece goes where the cut block goes); in the exchange,
    # a block away from home only goes back.
    carried, ties = _moves_with_what_they_cut_off(
        labels, graph, src, dst, movable | (~fixed & live[labels] & live[home] & (labels != home)), fixed, live,
        allowed, cuts_of, weight, home=None if repair else home) if cut_off else ([], [])
    if cut_off and not carried:  # without a cut block to move, the plain program (already solved) again
        return labels
    moves += carried
    moves = list(dict.fromkeys(moves))  # a moved block bordering home is a return once
    if not moves or (not repair and not any(labels[b] != home[b] for b, _ in moves)):
        return labels
    var_block = np.array([b for b, _ in moves])
    var_to = np.array([t for _, t in moves])
    n_var = len(moves)
    by_block = pd.Series(np.arange(n_var)).groupby(var_block).apply(list).to_dict()
    # Change of the workload away from home: +w leaving home, -w going back, 0 between two others.
    away = weight[var_block] * ((var_to != home[var_block]).astype(float)
                                - (labels[var_block] != home[var_block]).astype(float))
    gain = away  # minimised
    if penalty_km is not None:
        km = np.asarray(km, dtype=float)
        gain = away * penalty_km + weight[var_block] * (km[var_block, var_to] - km[var_block, labels[var_block]])
    scale = 1.0 if penalty_km is None else float(penalty_km)
    # Every change costs a little (a moved block passed on, a move that only saves distance): only changes that help.
    gain = gain + scale * ((CHANGE_PRICE if repair else EXCHANGE_CHANGE_PRICE) * weight[var_block] + 1e-9)
    load = _balance.loads_of(labels, shares, n_t)
    target = np.broadcast_to(np.asarray(targets, dtype=float).reshape(n_t, -1), (n_t, n_m))
    band_low, band_high = target * (1 - tolerance), target * (1 + tolerance)
    low, high = np.minimum(band_low, load), np.maximum(band_high, load)
    rows, cols, vals, lo, hi = [], [], [], [], []
    slack_cost, slack_upper = [], []  # repair: load under / over the band, at most as far out as now

    def add(entries, lower, upper):  # entries: {variable: coefficient}
        for c, v in entries.items():
            rows.append(len(lo))
            cols.append(c)
            vals.append(v)
        lo.append(lower)
        hi.append(upper)

    index_of = {move: v for v, move in enumerate(moves)}
    carrier = {(p, t): b for b, t, p in ties}
    for b, t, p in ties:  # a cut block goes to t only with the blocks it cuts off
        add({index_of[b, t]: 1.0, index_of[p, t]: -1.0}, -np.inf, 0.0)

    if not repair:
        add(dict(enumerate(away)), -np.inf, 0.0)  # never more workload away from home than now
    for b, vs in by_block.items():  # a block goes to one territory at most
        if len(vs) > 1:
            add({v: 1.0 for v in vs}, -np.inf, 1.0)
    price = VIOLATION_PRICE * scale
    for t in range(n_t):  # loads within the bands afterwards
        for m in range(n_m):
            entries = {}
            for v in np.flatnonzero(labels[var_block] == t):
                entries[v] = entries.get(v, 0.0) - shares[var_block[v], m]
            for v in np.flatnonzero(var_to == t):
                entries[v] = entries.get(v, 0.0) + shares[var_block[v], m]
            if not entries:
                continue
            if repair:  # change + under - over within the band: under and over cost, no more than today's
                under, over = band_low[t, m] - load[t, m] + _MARGIN, load[t, m] - band_high[t, m] + _MARGIN
                for sign, out in ((1.0, under), (-1.0, over)):
                    entries[n_var + len(slack_cost)] = sign
                    slack_cost.append(price)
                    slack_upper.append(max(out, 0.0))
                # A load inside its band (even within the margin of its end) may stay as it is.
                add(entries, under if under > _MARGIN else min(under, 0.0),
                    -over if over > _MARGIN else max(-over, 0.0))
            else:  # inside by more than the solver's feasibility tolerance (checked exactly below)
                add(entries, low[t, m] - load[t, m] + _MARGIN, high[t, m] - load[t, m] - _MARGIN)
    neighbours = pd.Series(dst).groupby(src).apply(np.asarray).to_dict()

    def stays_in(block, t, sign, entries):
        """Add ``sign * (block in t afterwards)`` to ``entries``; return its constant part."""
        const = 0.0
        if labels[block] == t:
            const += sign
            for v in by_block.get(block, ()):
                entries[v] = entries.get(v, 0.0) - sign
        else:
            for v in by_block.get(block, ()):
                if var_to[v] == t:
                    entries[v] = entries.get(v, 0.0) + sign
        return const

    touched = set(var_block.tolist())
    touched |= {int(x) for b in list(touched) for x in neighbours.get(b, ())}
    for b in touched:  # a block in t afterwards has a neighbour in t afterwards
        near = neighbours.get(b, np.zeros(0, dtype=np.int64))
        for t in {int(labels[b])} | {int(var_to[v]) for v in by_block.get(b, ())}:
            entries, around = {}, {}  # (b in t afterwards) <= sum over its neighbours of (x in t afterwards)
            const = stays_in(b, t, 1.0, entries)
            around_const = sum(stays_in(int(x), t, 1.0, around) for x in near)
            if const > around_const:  # alone in its territory today (a territory of one block): it stays so
                continue
            _minus(entries, around)
            add(entries, -np.inf, around_const - const)

    def piece_cut(members, t):  # all of ``members`` may stay in t only if a block around them does too
        ring = np.setdiff1d(np.unique(dst[np.isin(src, members)]), members)
        entries = {}
        const = sum(stays_in(int(b), t, 1.0, entries) for b in members)
        const += sum(stays_in(int(x), t, -1.0, entries) for x in ring)
        if entries:
            add(entries, -np.inf, len(members) - 1 - const)

    tightened = set()

    def tighten(t):
        """Territory ``t`` stays one piece whatever the solution: a tree towards the blocks it keeps for sure.

        Its blocks are ranked by borders from the largest connected group of
        those that cannot leave; one stays only if a neighbour of a lower rank does,
        and a block joins ``t`` only if it touches one of ``t``'s blocks of
        today that stays. Without a block it keeps for sure, nothing.
        """
        tightened.add(t)
        members = np.flatnonzero(labels == t)
        leaves = np.zeros(n, dtype=bool)
        leaves[var_block[(labels[var_block] == t) & (var_to != t)]] = True
        sure = members[~leaves[members]]
        if not sure.size:
            return
        inside = graph.subgraph(members.tolist())
        core = max(nx.connected_components(inside.subgraph(sure.tolist())), key=lambda c: (len(c), -min(c)))
        depth = nx.multi_source_dijkstra_path_length(inside, core)
        for b in members:
            d = depth.get(int(b))
            if d is None or d == 0:  # (None cannot happen: the territory is one piece today)
                continue
            entries, below = {}, {}
            const = stays_in(int(b), t, 1.0, entries)
            lower = [int(x) for x in neighbours.get(b, ()) if labels[x] == t and depth.get(int(x), d) < d]
            const -= sum(stays_in(x, t, 1.0, below) for x in lower)
            _minus(entries, below)
            if entries:
                add(entries, -np.inf, -const)
        for v in np.flatnonzero((var_to == t) & (labels[var_block] != t)):
            entries, around = {v: 1.0}, {}
            # A loaded block may also join through an empty block that joins t with it (which itself touches a
            # block t keeps): the chains of :func:`_moves_through_empty`.
            support = [int(x) for x in neighbours.get(var_block[v], ())
                       if labels[x] == t or (repair and empty[x] and not empty[var_block[v]])]
            support += [carrier[int(var_block[v]), t]] if (int(var_block[v]), t) in carrier else []
            const = -sum(stays_in(x, t, 1.0, around) for x in support)
            _minus(entries, around)
            add(entries, -np.inf, -const)
    n_col = n_var + len(slack_cost)
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(lo), n_col))
    cost = np.r_[gain, slack_cost]
    upper = np.r_[np.ones(n_var), slack_upper]
    integer = np.arange(n_col) < n_var

    def violation(lab):
        after = _balance.loads_of(lab, shares, n_t)
        return float((np.maximum(band_low - after, 0) + np.maximum(after - band_high, 0)).sum())

    before = violation(labels)
    variable = {(int(b), int(t)): v for v, (b, t) in enumerate(moves)}

    def acceptable(trial):
        """Within the bands (the solver's tolerance aside), and better: less violation, or less away from home."""
        changed = np.flatnonzero(trial != labels)
        if not changed.size:
            return False
        after = _balance.loads_of(trial, shares, n_t)
        if ((after < low - 1e-12) | (after > high + 1e-12)).any():
            return False
        if repair:
            return violation(trial) < before - 1e-12
        total = sum(float(gain[variable[int(b), int(trial[b])]]) for b in changed)
        return total <= -1e-9 * max(float(np.abs(gain).sum()), 1e-300)

    for _ in range(max_rounds):
        x = solve_milp(cost, matrix, np.asarray(lo), np.asarray(hi), upper, node_limit, integer=integer)
        if x is None:
            return labels
        chosen = np.flatnonzero(x[:n_var] > 0.5)
        trial = labels.copy()
        trial[var_block[chosen]] = var_to[chosen]
        if not acceptable(trial):  # nothing better, or the solver's tolerance broke a band: keep today's plan
            return labels
        if is_contiguous(n, edges, trial):
            return trial
        # A piece cut off from its territory's main part gets a cut (all of it may stay in that territory only
        # if a block around it does too), and its territory the constraints that keep it in one piece: with
        # the cut alone, each next solution cut another piece off (on the sample with a hire, 6 solves of 6 in
        # each of 4 programs, all rejected); held together, the next solve was contiguous.
        for members in _pieces(trial, edges):
            t = int(trial[members[0]])
            piece_cut(members, t)
            if t not in tightened:
                tighten(t)
        matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(lo), n_col))
    return labels


def _moves_through_empty(labels, src, dst, movable, empty, fixed, live, allowed, cuts_of) -> list[tuple[int, int]]:
    """Moves ``(block, territory)`` of loaded blocks to a territory one empty block away (not bordering them).

    A territory short of load whose only light neighbour lies beyond a
    block without accounts (a desert county between two territories) can
    take it only with that block: the empty block goes first, the loaded
    one follows it. Both are variables of one program (the empty block's
    own move borders ``territory`` already), tied by the rule that a block
    joining a territory touches it afterwards.

    Examples
    --------
    A line ``0 1 1``: block 1 is empty, so block 2 may go to territory 0 along with it.

    >>> src, dst = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])
    >>> _moves_through_empty(np.array([0, 1, 1]), src, dst, np.ones(3, bool), np.array([False, True, False]),
    ...                      np.zeros(3, bool), np.ones(3, bool), np.ones((3, 3), bool),
    ...                      lambda t: set())
    [(2, 0)]
    """
    hop = pd.DataFrame({"block": src, "empty": dst})
    hop = hop[movable[hop["block"]] & ~empty[hop["block"]] & empty[hop["empty"]] & ~fixed[hop["empty"]]
              & movable[hop["empty"]]]
    if hop.empty:
        return []
    beyond = pd.DataFrame({"empty": src, "to": labels[dst]}).drop_duplicates()
    hop = hop.merge(beyond, on="empty")
    block, via, to = (hop[c].to_numpy() for c in ("block", "empty", "to"))
    keep = ((to != labels[block]) & (to != labels[via]) & live[to] & allowed[labels[block], to]
            & allowed[labels[via], to])
    bordering = set(zip(src.tolist(), labels[dst].tolist()))
    found = []
    for b, e, t in zip(block[keep].tolist(), via[keep].tolist(), to[keep].tolist()):
        if (b, t) in bordering or b in cuts_of(labels[b]) or e in cuts_of(labels[e]):
            continue
        found.append((b, t))
    return list(dict.fromkeys(found))


def _moves_with_what_they_cut_off(labels, graph, src, dst, movable, fixed, live, allowed, cuts_of, weight,
                                  home=None, max_blocks=CUT_OFF_BLOCKS):
    """Moves of border blocks that hold a small piece of their territory to it, the piece going along.

    A block its territory cannot give alone (an articulation point) may
    still go to a bordering territory together with the piece it alone
    connects (at most ``max_blocks`` blocks; a peninsula of counties, an
    island county reached through one mainland county): Collier county
    holds Monroe to its territory, so a territory that wants Collier back
    takes Monroe with it. Returns ``(moves, ties)``: the moves
    ``(block, territory)`` of the cut block and of every block of the
    piece, and ``(cut block, territory, piece block)`` for each, which
    :func:`_home_program` turns into "the piece goes where the cut block
    goes". With ``home`` (the exchange of :func:`exchange_home`), a cut
    block away from its home territory only goes back there.

    Examples
    --------
    Territory 1 is blocks 1, 2, 3; block 1 borders territory 0 and is all that holds block 3 (a peninsula)
    to the rest:

    >>> import networkx as nx
    >>> graph = nx.Graph([(0, 1), (1, 2), (1, 3)])
    >>> labels = np.array([0, 1, 1, 1])
    >>> src, dst = np.array([0, 1, 1, 2, 1, 3]), np.array([1, 0, 2, 1, 3, 1])
    >>> cuts = {0: {0}, 1: {1}}
    >>> _moves_with_what_they_cut_off(labels, graph, src, dst, np.ones(4, bool), np.zeros(4, bool),
    ...                               np.ones(2, bool), np.ones((2, 2), bool), cuts.get, np.ones(4))
    ([(1, 0), (3, 0)], [(1, 0, 3)])

    With ``home`` (the exchange), a cut block away from its home only goes back there: were block 1's home
    a territory 2 it does not border, it would have no move to 0:

    >>> _moves_with_what_they_cut_off(labels, graph, src, dst, np.ones(4, bool), np.zeros(4, bool),
    ...                               np.ones(3, bool), np.ones((3, 3), bool), cuts.get, np.ones(4),
    ...                               home=np.array([0, 2, 1, 1]))
    ([], [])
    """
    import networkx as nx

    bordering = pd.DataFrame({"block": src, "to": labels[dst]})
    bordering = bordering[(bordering["to"].to_numpy() != labels[bordering["block"].to_numpy()])].drop_duplicates()
    moves, ties = [], []
    for b, group in bordering.groupby("block"):
        s = int(labels[b])
        if not movable[b] or not live[s] or b not in cuts_of(s):
            continue
        members = np.flatnonzero(labels == s)
        if members.size <= 1:
            continue
        rest = graph.subgraph([int(m) for m in members if m != b])
        # The rest of the territory is its largest part (by blocks, then load); the others are cut off.
        pieces = sorted(nx.connected_components(rest), key=lambda c: (len(c), float(weight[list(c)].sum())),
                        reverse=True)[1:]
        piece = sorted(int(p) for c in pieces for p in c)
        if not piece or len(piece) > max_blocks or fixed[piece].any():
            continue
        for t in group["to"].tolist():
            if not live[t] or not allowed[s, t] or (home is not None and home[b] != s and t != home[b]):
                continue
            moves.append((int(b), int(t)))
            for p in piece:
                moves.append((p, int(t)))
                ties.append((int(b), int(t), p))
    return moves, ties


def _minus(entries, other) -> None:
    """Subtract the coefficients ``other`` ``{variable: coefficient}`` from ``entries``, in place.

    Examples
    --------
    >>> entries = {0: 1.0, 1: 2.0}
    >>> _minus(entries, {1: 0.5, 2: 1.0})
    >>> entries
    {0: 1.0, 1: 1.5, 2: -1.0}
    """
    for variable, coefficient in other.items():
        entries[variable] = entries.get(variable, 0.0) - coefficient


def _pieces(labels, edges) -> list[np.ndarray]:
    """Blocks of every piece of a territory other than the territory's largest (by blocks), one array each.

    Examples
    --------
    >>> [p.tolist() for p in _pieces(np.array([0, 1, 0, 0]), np.array([[0, 1], [1, 2], [2, 3]]))]
    [[0]]
    """
    n = len(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    graph = sparse.coo_matrix((np.ones(int(same.sum())), (edges[same, 0], edges[same, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    size = np.bincount(comp)
    frame = pd.DataFrame({"t": labels, "c": comp, "size": size[comp]}).drop_duplicates("c")
    main = set(frame.sort_values(["t", "size", "c"], ascending=[True, False, True]).drop_duplicates("t")["c"])
    return [np.flatnonzero(comp == c) for c in sorted(set(comp.tolist()) - main)]
