"""Lower bounds on how much a realignment must move, and the graph of bordering territories.

Two bounds, both as a share of a metric's total:

* the **plain** bound, :func:`plain_lower_bound`: the larger of the total
  excess above the upper bounds and the total deficit below the lower
  bounds. Every unit of either must change territory; it assumes any
  territory can hand load to any other.
* the **geography-aware** bound, :func:`bordering_lower_bound`: load only
  moves between *bordering* territories, so load headed for a far-away
  territory crosses every territory in between and counts at each crossing.
  It is a minimum-cost flow on the graph of bordering territories:
  supplies are the load above each upper bound, demands the load missing
  below each lower bound, every edge costs 1 per unit (one hop), capacities
  are unlimited (scipy's HiGHS linear program). On an ``A - B - C`` line
  where ``A`` is heavy, ``C`` light and ``B`` on target, the plain bound is
  the excess of ``A`` and the bordering bound twice that.

With several balanced metrics a third, :func:`joint_lower_bound`: the least
share of the first metric that brings *every* metric within its band at
once, accounts moving (fractionally) only to territories bordering theirs.
Accounts carry all their metrics together, so it can be far above every
metric's own bound (one metric's excess may carry another the wrong way).

Which territories border each other (:func:`bordering_options`):

* with points, the k-nearest-neighbour graph of the accounts (k = 8 by
  default): two territories border when an account of one has an account
  of the other among its k nearest; accounts that carry a block (county)
  also border every territory present in their block;
* with blocks, queen adjacency of the blocks (:func:`block_territory_graph`).

Territories the graph leaves in separate pieces (islands) are joined at
their nearest pair of centres, so the flow always exists.

A realignment that moves each account at most once, to a bordering
territory, moves at least the bordering bound; ``moved / bound`` is the
honest measure of how close a realignment gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

#: Nearest accounts that define bordering territories (points).
N_NEIGHBOURS = 8

#: Accounts of a territory that may cross a bridge to an island territory (nearest to its centre).
_BRIDGE_ACCOUNTS = 25


def plain_lower_bound(loads: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Least share of each metric that must move, when any territory may give to any other.

    Parameters
    ----------
    loads, low, high : (t, m) arrays
        Load, lower and upper bound per territory and metric (shares of the total).

    Returns
    -------
    (m,) array
        The larger of the total excess and the total deficit, per metric.

    Examples
    --------
    >>> loads = np.array([[0.6], [0.3], [0.1]])
    >>> plain_lower_bound(loads, np.full((3, 1), 0.3), np.full((3, 1), 0.36)).round(2).tolist()
    [0.24]
    """
    loads, low, high = (np.atleast_2d(np.asarray(a, dtype=float).T).T for a in (loads, low, high))
    excess = np.maximum(loads - high, 0).sum(axis=0)
    deficit = np.maximum(low - loads, 0).sum(axis=0)
    return np.maximum(excess, deficit)


def bordering_lower_bound(loads: np.ndarray, low: np.ndarray, high: np.ndarray, adjacency, *,
                          return_flows: bool = False, cost=None):
    """Least share of each metric that must move when load only crosses borders of bordering territories.

    A minimum-cost flow per metric: every edge of ``adjacency`` carries any
    amount at cost 1 per unit; each territory must end within its bounds.

    It bounds single-step moves between territories that border in
    ``adjacency`` (today's plan), not multi-step ones: a plan whose moves
    make two territories border (a block of A joins B, then B's block
    behind it joins C, now bordering A) can move less than it, so a ratio
    under 1 is possible even within the tolerance (the report says why).

    Parameters
    ----------
    loads, low, high : (t,) or (t, m) arrays
        Load, lower and upper bound per territory (and metric). A closed
        territory has ``low = high = 0``; a territory that must not change
        has both equal to its load.
    adjacency : (t, t) bool array or scipy sparse matrix
        True where two territories border each other (symmetric).

    return_flows : bool, default False
        Also return the (t, t) flows between territories (summed over the metrics).
    cost : (t, t) array, optional
        Price of one unit on each edge ``s -> t`` instead of 1 (positive):
        the flows are then the cheapest at those prices (e.g. a hop plus the
        distance it adds) and the first result is their total price, not
        the bound.

    Returns
    -------
    (m,) array
        The bound per metric (``inf`` where no flow on the graph can reach the bounds).
    flows : (t, t) array
        Only with ``return_flows``.

    Examples
    --------
    An ``A - B - C`` line: A is 20% over, C 20% under, B on target; the
    load must cross two borders, so the bound is twice the plain one:

    >>> line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    >>> loads, target = np.array([1.2, 1.0, 0.8]) / 3, np.full(3, 1 / 3)
    >>> bordering_lower_bound(loads, target, target, line).round(3).tolist()
    [0.133]
    >>> plain_lower_bound(loads, target, target).round(3).tolist()
    [0.067]
    """
    loads, low, high = (np.asarray(a, dtype=float) for a in (loads, low, high))
    if loads.ndim == 1:
        loads, low, high = loads[:, None], low[:, None], high[:, None]
    adjacency = sparse.csr_matrix(adjacency, dtype=bool)
    adjacency = (adjacency + adjacency.T).tocoo()
    keep = adjacency.row != adjacency.col
    src, dst = adjacency.row[keep], adjacency.col[keep]
    n_t, n_e = loads.shape[0], len(src)
    out = np.zeros(loads.shape[1])
    flows = np.zeros((n_t, n_t))
    if n_e == 0:
        inside = (loads >= low - 1e-12) & (loads <= high + 1e-12)
        out = np.where(inside.all(axis=0), 0.0, np.inf)
        return (out, flows) if return_flows else out
    edge = np.arange(n_e)
    price = np.ones(n_e) if cost is None else np.asarray(cost, dtype=float)[src, dst]
    net_in = sparse.csr_matrix((np.r_[np.ones(n_e), -np.ones(n_e)], (np.r_[dst, src], np.r_[edge, edge])),
                               shape=(n_t, n_e))
    a_ub = sparse.vstack([net_in, -net_in]).tocsr()
    for m in range(loads.shape[1]):
        if plain_lower_bound(loads[:, m], low[:, m], high[:, m])[0] <= 1e-15:
            continue
        result = linprog(price, A_ub=a_ub, b_ub=np.r_[high[:, m] - loads[:, m], loads[:, m] - low[:, m]],
                         bounds=(0, None), method="highs")
        out[m] = float(result.fun) if result.status == 0 else np.inf
        if result.status == 0:
            flows[src, dst] += result.x
    return (out, flows) if return_flows else out


@dataclass(frozen=True)
class Borders:
    """Which territory each account may move to without leaving bordering territory.

    Attributes
    ----------
    rows, territories : (p,) int arrays
        Pairs (account row, bordering territory other than its own).
    adjacency : (t, t) bool array
        Territories that border each other (symmetric, islands bridged).
    """

    rows: np.ndarray
    territories: np.ndarray
    adjacency: np.ndarray


def nearest_accounts(xyz: np.ndarray, k: int = N_NEIGHBOURS) -> np.ndarray:
    """(n, k) rows of each account's ``k`` nearest other accounts (fewer columns when there are fewer)."""
    k = int(min(k, max(len(xyz) - 1, 0)))
    if k == 0:
        return np.zeros((len(xyz), 0), dtype=np.int64)
    return cKDTree(xyz).query(xyz, k=k + 1)[1][:, 1:]


def bordering_options(xyz: np.ndarray, labels: np.ndarray, n_territories: int, *, groups=None,
                      k: int = N_NEIGHBOURS, centres=None, near=None) -> Borders:
    """Bordering territories of every account from the k-nearest-neighbour graph of the accounts.

    Parameters
    ----------
    xyz : (n, 3) array
        Account positions on the unit sphere.
    labels : (n,) int array
        Territory index of each account.
    n_territories : int
    groups : (n,) array, optional
        Block (county) of each account: accounts of a block also border
        every territory present in it.
    k : int, default 8
        Nearest accounts looked at.
    centres : (t, 3) array, optional
        Territory centres, to bridge islands (default: the accounts' means).
    near : (n, k) int array, optional
        Precomputed :func:`nearest_accounts` (then ``k`` is its width).

    Returns
    -------
    Borders

    Examples
    --------
    Three groups of points on a line, one territory each:

    >>> xyz = np.c_[np.ones(6), np.repeat([0.0, 0.01, 0.02], 2), np.zeros(6)]
    >>> b = bordering_options(xyz, np.repeat([0, 1, 2], 2), 3, k=2)
    >>> b.adjacency.astype(int).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    near = nearest_accounts(xyz, k) if near is None else near
    k = near.shape[1]
    pairs = [np.zeros(0, dtype=np.int64)]
    if k > 0:
        key = np.repeat(np.arange(n), k) * n_territories + labels[near].ravel()
        pairs.append(key)
    if groups is not None:
        frame = pd.DataFrame({"g": pd.factorize(pd.Series(groups).astype(str))[0], "t": labels})
        present = frame.drop_duplicates()
        if present["g"].duplicated().any():
            shared = present[present["g"].duplicated(keep=False)]
            rows = frame.reset_index().merge(shared, on="g", suffixes=("", "_other"))
            pairs.append(rows["index"].to_numpy() * n_territories + rows["t_other"].to_numpy())
    key = np.unique(np.concatenate(pairs))
    rows, territories = key // n_territories, key % n_territories
    other = territories != labels[rows]
    rows, territories = rows[other], territories[other]
    adjacency = np.zeros((n_territories, n_territories), dtype=bool)
    adjacency[labels[rows], territories] = True
    adjacency |= adjacency.T
    if centres is None:
        sums = np.stack([np.bincount(labels, weights=xyz[:, a], minlength=n_territories) for a in range(3)], axis=1)
        centres = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    extra = bridge_islands(adjacency, centres, present=np.bincount(labels, minlength=n_territories) > 0)
    if extra:
        add_rows, add_terr = [rows], [territories]
        for s, j in extra:
            for a, b in ((s, j), (j, s)):
                members = np.flatnonzero(labels == a)
                if members.size == 0:
                    continue
                nearest = members[np.argsort(np.linalg.norm(xyz[members] - centres[b], axis=1))[:_BRIDGE_ACCOUNTS]]
                add_rows.append(nearest)
                add_terr.append(np.full(len(nearest), b))
        rows, territories = np.concatenate(add_rows), np.concatenate(add_terr)
    return Borders(rows.astype(np.int64), territories.astype(np.int64), adjacency)


def bridge_islands(adjacency: np.ndarray, centres: np.ndarray, present=None) -> list[tuple[int, int]]:
    """Join the pieces of a territory graph at their nearest pair of centres (in place); return the bridges.

    ``present`` (bool per territory) limits the joining to territories that
    hold accounts (an empty new territory is joined by its caller).
    """
    present = np.ones(len(adjacency), dtype=bool) if present is None else np.asarray(present, dtype=bool)
    bridges = []
    while True:
        nodes = np.flatnonzero(present)
        if nodes.size <= 1:
            return bridges
        n_comp, comp = connected_components(sparse.csr_matrix(adjacency[np.ix_(nodes, nodes)]), directed=False)
        if n_comp <= 1:
            return bridges
        main = np.bincount(comp).argmax()
        inside, outside = nodes[comp == main], nodes[comp != main]
        dist = np.linalg.norm(centres[inside][:, None, :] - centres[outside][None, :, :], axis=2)
        a, b = np.unravel_index(np.argmin(dist), dist.shape)
        s, j = int(inside[a]), int(outside[b])
        adjacency[s, j] = adjacency[j, s] = True
        bridges.append((s, j))


def within_graph(cand: np.ndarray, current: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Candidate territories limited to moves the bordering bound allows (others replaced by today's territory).

    ``cand[i, j]`` stays when it is account ``i``'s territory of today
    (``current[i]``) or borders it on ``adjacency``; otherwise it becomes
    ``current[i]``. A plan whose every account is in a territory of
    ``cand`` (or stays) moves each account across at most one border of
    the graph, so a plan within tolerance moves at least the bordering
    bound on that graph.

    Examples
    --------
    >>> line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    >>> within_graph(np.array([[1, 2], [0, 2]]), np.array([0, 1]), line).tolist()
    [[1, 0], [0, 2]]
    """
    cand = np.asarray(cand)
    current = np.asarray(current)[:, None]
    ok = (cand == current) | np.asarray(adjacency, dtype=bool)[current, cand]
    return np.where(ok, cand, current)


def block_territory_graph(edges: np.ndarray, block_labels: np.ndarray, n_territories: int) -> np.ndarray:
    """(t, t) bool adjacency of territories made of blocks: two border when two of their blocks touch.

    Examples
    --------
    >>> block_territory_graph(np.array([[0, 1], [1, 2], [2, 3]]), np.array([0, 0, 1, 2]), 3).astype(int).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    a, b = block_labels[edges[:, 0]], block_labels[edges[:, 1]]
    differ = a != b
    adjacency = np.zeros((n_territories, n_territories), dtype=bool)
    adjacency[a[differ], b[differ]] = True
    adjacency |= adjacency.T
    return adjacency


def whole_block_lower_bound(block_of, current, share, low, high, adjacency, *, node_limit: int = 200):
    """Least share of a metric a plan of whole blocks moves, each block at most once, to a bordering territory.

    The bordering bound (:func:`bordering_lower_bound`) lets load move in
    any amount; a plan of whole blocks cannot: a county that alone holds a
    third of a territory's target moves all at once, and its receiver may
    then have to pass load on. This is the 0/1 program behind that: every
    block ends in one territory, the one holding most of its load today
    (``current`` of its accounts, weighted by ``share``) or one bordering
    it (``adjacency``); every territory's load within ``[low, high]``; the
    objective is the load that changes territory (a block's load outside
    its destination today). Contiguity is not asked, so every connected
    plan of whole blocks moved between bordering territories moves at
    least this much; solved by HiGHS (:func:`workbench.align._highs.solve_milp`)
    on at most ``node_limit`` branch-and-bound nodes (a work limit: the
    same bound on any machine).

    Parameters
    ----------
    block_of, current : (n,) int arrays
        Each account's block and current territory (``0..t-1``).
    share : (n,) array
        Each account's share of the metric (the moved share is in its unit).
    low, high : (t,) arrays
        Bounds of every territory's load. A block heavier than any
        territory's maximum keeps its territory out of band in every plan:
        widen that territory's ``high`` to the block's load (see
        :func:`workbench.align.realign_blocks.reachable_targets`).
    adjacency : (t, t) bool array
        Territories that border each other (e.g. :func:`block_territory_graph`).
    node_limit : int, default 200
        Branch-and-bound nodes HiGHS may use; the bound is its dual bound
        then (still a valid lower bound, only weaker).

    Returns
    -------
    (bound, best) : tuple of float
        The program's lower bound and the least moved share of a plan it
        found (``bound <= best``; equal when solved to optimality); both
        ``inf`` when no whole-block plan reaches the bounds.

    Examples
    --------
    An ``A - B - C`` line, blocks ``[0.1, 0.3 | 0.15, 0.15 | 0.1, 0.1]``,
    every territory within ``[0.25, 0.35]``: A hands its 0.1-block to B, and
    B one of its 0.15-blocks to C (0.25 moved); the bordering bound moves
    0.05 over each border (0.1):

    >>> line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    >>> share = np.array([0.1, 0.3, 0.15, 0.15, 0.1, 0.1])
    >>> bound, best = whole_block_lower_bound(np.arange(6), np.array([0, 0, 1, 1, 2, 2]), share,
    ...                                       np.full(3, 0.25), np.full(3, 0.35), line)
    >>> round(bound, 3), round(best, 3)
    (0.25, 0.25)
    >>> bordering_lower_bound(np.array([0.4, 0.3, 0.2]), np.full(3, 0.25), np.full(3, 0.35), line).round(3).tolist()
    [0.1]
    """
    from workbench.align._highs import solve_milp

    block_of, current = np.asarray(block_of, dtype=np.int64), np.asarray(current, dtype=np.int64)
    share = np.asarray(share, dtype=float)
    low, high = np.asarray(low, dtype=float).ravel(), np.asarray(high, dtype=float).ravel()
    n_t = len(low)
    adjacency = np.asarray(adjacency, dtype=bool)
    blocks, block_index = np.unique(block_of, return_inverse=True)
    n_b = len(blocks)
    held = np.zeros((n_b, n_t))  # each block's load per current territory
    np.add.at(held, (block_index, current), share)
    load = held.sum(axis=1)
    home = held.argmax(axis=1)
    options = adjacency[home] | (held > 0)
    options[np.arange(n_b), home] = True
    rows, cols = np.nonzero(options)
    cost = load[rows] - held[rows, cols]
    n_v = len(rows)
    matrix = sparse.vstack([sparse.csr_matrix((np.ones(n_v), (rows, np.arange(n_v))), shape=(n_b, n_v)),
                            sparse.csr_matrix((load[rows], (cols, np.arange(n_v))), shape=(n_t, n_v))]).tocsr()
    x, bound = solve_milp(cost, matrix, np.r_[np.ones(n_b), low - 1e-12], np.r_[np.ones(n_b), high + 1e-12],
                          np.ones(n_v), node_limit, with_bound=True)
    best = np.inf if x is None else float(cost @ np.round(x))
    return (min(bound, best) if np.isfinite(bound) else best if x is not None else np.inf), best


def plan_joint_bound(accounts, labels, metrics, tolerance: float, targets=None, groups=None,
                     n_neighbours: int = N_NEIGHBOURS, *, territories=None, hubs=None) -> float:
    """:func:`joint_lower_bound` of bringing the alignment ``labels`` within ``tolerance`` on every one of ``metrics``.

    A share of the first metric's total; territories border as in
    :func:`plan_bounds`; ``targets``, ``territories`` and ``hubs`` as there.

    Examples
    --------
    Two territories side by side: workload is balanced, A holds 60% of the
    revenue. Each account of A that hands revenue to B hands workload too,
    which must come back: half the workload moves.

    >>> accounts = pd.DataFrame({"latitude": 40.0 + 0.1 * np.arange(8), "longitude": -100.0,
    ...                          "workload": 1.0, "revenue": [1.5] * 4 + [1.0] * 4})
    >>> round(plan_joint_bound(accounts, ["A"] * 4 + ["B"] * 4, ["workload", "revenue"], 0.0), 3)
    0.5
    """
    index, shares, low, high, adjacency = _plan_inputs(accounts, labels, metrics, tolerance, targets, groups,
                                                       n_neighbours, territories, hubs)
    return joint_lower_bound(shares, index, low, high, adjacency)


def realignment_bounds(loads: np.ndarray, low: np.ndarray, high: np.ndarray, adjacency):
    """(plain, bordering) lower bound of the first metric, and the bordering flows of every metric."""
    plain = float(plain_lower_bound(loads[:, :1], low[:, :1], high[:, :1])[0])
    bordering, flows = bordering_lower_bound(loads, low, high, adjacency, return_flows=True)
    return plain, max(float(bordering[0]), plain), flows


def plan_bounds(accounts, labels, metric: str, tolerance: float, targets=None, groups=None,
                n_neighbours: int = N_NEIGHBOURS, *, territories=None, hubs=None) -> tuple[float, float]:
    """(plain, bordering) lower bound of ``metric`` for bringing the alignment ``labels`` within ``tolerance``.

    Territories border through the k-nearest-neighbour graph of the accounts
    (``k = n_neighbours``, and shared ``groups``, e.g. counties); ``targets`` are target shares
    per territory in the sorted order of the labels (default equal). Both
    are shares of the metric's total (0.05 = 5%).

    With a headcount change, ``territories`` names the territories after it
    (a plan that closes some and opens others): those of ``labels`` missing
    from it close (target 0, their whole load must leave), and the new ones
    start empty, each bordering the territory ``hubs[new_id]`` and that
    one's neighbours (:func:`~workbench.align.headcount.opening_adjacency`);
    the territories around a closing one border each other
    (:func:`~workbench.align.headcount.closing_adjacency`), as in
    :class:`~workbench.align.Realignment`. ``targets`` then run over the
    labels' territories (sorted) followed by the new ones (sorted); by
    default every territory after the change has the same target.

    Examples
    --------
    An A-B-C line (ten accounts each, so A's nearest neighbours never reach
    C): A's excess must cross B to reach C, twice the plain bound.

    >>> accounts = pd.DataFrame({"latitude": 40.0 + 0.1 * np.arange(30), "longitude": -100.0,
    ...                          "workload": [1.2] * 10 + [1.0] * 10 + [0.8] * 10})
    >>> [round(b, 3) for b in plan_bounds(accounts, ["A"] * 10 + ["B"] * 10 + ["C"] * 10, "workload", 0.0)]
    [0.067, 0.133]
    """
    index, shares, low, high, adjacency = _plan_inputs(accounts, labels, [metric], tolerance, targets, groups,
                                                       n_neighbours, territories, hubs)
    load = np.bincount(index, weights=shares[:, 0], minlength=len(low))
    low, high = low[:, 0], high[:, 0]
    plain = float(plain_lower_bound(load, low, high)[0])
    return plain, max(plain, float(bordering_lower_bound(load, low, high, adjacency)[0]))


def _plan_inputs(accounts, labels, metrics, tolerance, targets, groups, n_neighbours, territories=None,
                 hubs=None):
    """What :func:`plan_bounds` and :func:`plan_joint_bound` need from a frame and its labels.

    ``(index, shares, low, high, adjacency)``: each account's territory (in
    the sorted order of the labels, then the new ones of ``territories``),
    the (n, m) metric shares, the (t, m) bands of ``tolerance`` around the
    target shares, and which territories border each other
    (:func:`bordering_options`, with the headcount change's borders).
    """
    from workbench.geo import to_unit_xyz

    ids, index = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    after = ids if territories is None else np.asarray(sorted({str(t) for t in territories}), dtype=object)
    new = [t for t in after if t not in set(ids)]
    every = np.r_[ids.astype(object), np.asarray(new, dtype=object)]
    values = np.stack([pd.to_numeric(accounts[m], errors="coerce").fillna(0).to_numpy(dtype=float)
                       for m in metrics], axis=1)
    shares = values / np.maximum(values.sum(axis=0), 1e-300)
    staying = np.isin(every.astype(str), after.astype(str))
    target = (np.where(staying, 1.0 / staying.sum(), 0.0) if targets is None
              else np.asarray(targets, dtype=float))
    low = np.repeat((target * (1 - tolerance))[:, None], len(metrics), axis=1)
    high = np.repeat((target * (1 + tolerance))[:, None], len(metrics), axis=1)
    xyz = to_unit_xyz(accounts["latitude"].to_numpy(dtype=float), accounts["longitude"].to_numpy(dtype=float))
    adjacency = bordering_options(xyz, index, len(every), groups=groups, k=n_neighbours).adjacency
    if len(every) > len(ids) or not staying.all():
        from workbench.align import headcount

        if new:
            missing = [t for t in new if (hubs or {}).get(t) not in set(ids)]
            if missing:
                raise ValueError(f"new territories {missing[:5]} need hubs: the territory of today each is "
                                 f"seeded in (one of {list(ids[:5])}...)")
            where = {t: i for i, t in enumerate(ids)}
            adjacency = headcount.opening_adjacency(adjacency, np.arange(len(ids), len(every)),
                                                    [where[hubs[t]] for t in new])
        adjacency = headcount.closing_adjacency(adjacency, ~staying)
    return index, shares, low, high, adjacency


def joint_lower_bound(shares: np.ndarray, current: np.ndarray, low: np.ndarray, high: np.ndarray, adjacency, *,
                      movable=None, frozen=None) -> float:
    """Least share of the first metric that must move to bring *every* metric within its band at once.

    A linear program over the accounts: ``x_ij`` (between 0 and 1) is the
    share of account ``i`` that moves from its territory of today to a
    territory ``j`` bordering it on ``adjacency``; the program minimises
    the first metric's share moved, ``sum_ij shares[i, 0] * x_ij``, with
    ``sum_j x_ij <= 1`` for every account and every territory's load of
    every metric within ``[low, high]``.

    **Why it is a lower bound.** Take any plan within the bands on every
    metric in which each account stays or moves to a territory bordering
    its territory of today on ``adjacency`` (the plans
    :class:`~workbench.align.realign.Realignment` makes, and the plans the
    bordering bound speaks of). Setting ``x_ij = 1`` where account ``i``
    went to ``j`` and 0 elsewhere satisfies every constraint, and the
    objective is then that plan's moved share of the first metric. The
    program's optimum is the least over a set that contains every such
    plan, so it is at most what any of them moves.

    It is never below the first metric's :func:`bordering_lower_bound`
    (its solution, summed per pair of territories, is a flow on the same
    graph that brings the first metric within its band at one unit of cost
    per unit moved), nor its :func:`plain_lower_bound`. With several
    metrics it can be far above both, and above every metric's own bounds:
    accounts carry their metrics together, so fixing one metric's excess
    may carry another metric the wrong way, which then has to be carried back.

    Parameters
    ----------
    shares : (n, m) array
        Metric shares of every account (each column sums to 1); the first
        metric is the one the moved share is counted in.
    current : (n,) int array
        Territory of today of every account.
    low, high : (t, m) arrays
        Bounds of every territory's load (shares): a closed territory has
        both 0, a territory that must not change both at its load.
    adjacency : (t, t) bool array
        Territories that border each other.
    movable : (n,) bool array, optional
        False for accounts that must stay (locked).
    frozen : (t,) bool array, optional
        Territories no account leaves or joins.

    Returns
    -------
    float
        The bound (``inf`` when no plan of this kind reaches every band).

    Examples
    --------
    Two bordering territories of four accounts each; workload is balanced
    but revenue is not (A holds 60%). Each metric alone needs at most 10%
    of its total moved, but every account of A that hands revenue to B
    hands workload too, which must come back: half the workload moves.

    >>> shares = np.c_[np.full(8, 0.125), np.r_[np.full(4, 0.15), np.full(4, 0.10)]]
    >>> band = np.full((2, 2), 0.5)
    >>> adjacency = np.array([[0, 1], [1, 0]], dtype=bool)
    >>> round(joint_lower_bound(shares, np.repeat([0, 1], 4), band, band, adjacency), 3)
    0.5
    """
    shares = np.atleast_2d(np.asarray(shares, dtype=float).T).T
    current = np.asarray(current, dtype=np.int64)
    low, high = (np.atleast_2d(np.asarray(a, dtype=float).T).T for a in (low, high))
    n, n_m = shares.shape
    n_t = len(low)
    adjacency = np.asarray(adjacency, dtype=bool) | np.asarray(adjacency, dtype=bool).T
    np.fill_diagonal(adjacency, False)
    frozen = np.zeros(n_t, dtype=bool) if frozen is None else np.asarray(frozen, dtype=bool)
    movable = np.ones(n, dtype=bool) if movable is None else np.asarray(movable, dtype=bool)
    load = np.stack([np.bincount(current, weights=shares[:, m], minlength=n_t) for m in range(n_m)], axis=1)
    if ((load >= low - 1e-12) & (load <= high + 1e-12)).all():
        return 0.0
    live = adjacency & ~frozen[:, None] & ~frozen[None, :]
    src, dst = np.nonzero(live)
    first = np.searchsorted(src, np.arange(n_t + 1))
    degree = np.diff(first)
    accounts = np.flatnonzero(movable & (degree[current] > 0))
    count = degree[current[accounts]]
    rows = np.repeat(accounts, count)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    terr = dst[first[current[rows]] + offset]
    n_v = len(rows)
    if n_v == 0:
        return np.inf
    col = np.arange(n_v)
    # Net load change of every (territory, metric): + in the receiving territory, - in the giving one.
    net = sparse.vstack([sparse.csr_matrix((np.r_[shares[rows, m], -shares[rows, m]],
                                            (np.r_[terr, current[rows]], np.r_[col, col])), shape=(n_t, n_v))
                         for m in range(n_m)]).tocsr()
    once = sparse.csr_matrix((np.ones(n_v), (np.searchsorted(accounts, rows), col)), shape=(len(accounts), n_v))
    a_ub = sparse.vstack([net, -net, once]).tocsr()
    b_ub = np.r_[(high - load).T.ravel(), (load - low).T.ravel(), np.ones(len(accounts))]
    result = linprog(shares[rows, 0], A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    return float(result.fun) if result.status == 0 else np.inf
