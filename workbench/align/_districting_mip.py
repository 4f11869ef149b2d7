"""The p-median districting model with balance bands and flow contiguity, solved by HiGHS.

The benchmark solves whole small instances with it for a reference and a
lower bound (``python -m benchmarks contiguous --write-reference
--exact-seconds S``, a time limit, offline). Tried as a search operator
(re-solving two neighbouring parts of a searched plan exactly): on 60 units
into 6 every pair was already optimal and a solve of ~20 nodes took 0.3-11 s,
so the search does not use it.

Model (Hess et al. 1965 for the assignment; Shirabe 2009 and Validi,
Buchanan & Lykhovyd 2022 for the contiguity flow):

- ``x[i, j]`` binary: node ``i`` belongs to the part whose median (centre) is
  node ``j``; ``x[j, j]`` says ``j`` is a centre; ``sum_j x[i, j] = 1``,
  ``sum_j x[j, j] = k``, ``x[i, j] <= x[j, j]``.
- balance, per metric and centre: ``lo x[j, j] <= sum_i w[i] x[i, j] <= hi x[j, j]``
  (one band for every part).
- contiguity: a flow of commodity ``j`` on the arcs of the adjacency; every
  member ``i != j`` supplies one unit, ``out_j(i) - in_j(i) = x[i, j]``, and
  commodity ``j`` may enter only members, ``in_j(i) <= (n_max - 1) x[i, j]``
  (``n_max``: the most nodes a part can hold within its band), and never
  leaves its centre; so every member has a path inside its part to ``j``.
- objective: ``sum q[i] d(i, j) x[i, j]``: the median dispersion (a part's
  best median is at least as good as the centre the model picks, so the
  model's optimum is the problem's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass
class DistrictingSolution:
    """Outcome of :func:`solve_districting`: ``labels`` (None if no plan was found), its objective, the bound."""

    labels: np.ndarray | None
    objective: float
    bound: float
    status: str


def solve_districting(coords, weights, edges, k, lo, hi, *, node_weight=None, start=None, node_limit=None,
                      time_limit=None) -> DistrictingSolution:
    """Partition the nodes into ``k`` connected parts within the bands, least median dispersion first.

    Parameters
    ----------
    coords : array (n, d)
        Node positions (Euclidean distances).
    weights : array (n, m)
        Loads; every part's load within ``[lo, hi]`` per metric.
    edges : array (n_edges, 2)
        Undirected adjacency (node positions).
    k : int
        Parts.
    lo, hi : array (m,)
        The band of every part.
    node_weight : array (n,), optional
        Weight of each node's distance (default 1).
    start : array of int (n,), optional
        A feasible connected plan (parts ``0..k-1``), HiGHS's first incumbent.
    node_limit, time_limit : optional
        HiGHS's branch-and-bound node limit and time limit (seconds). A node
        limit alone keeps the result repeatable.

    HiGHS runs on one thread, like every model of the package
    (:func:`~workbench.align._highs.run_highs` rebuilds HiGHS's one thread
    pool per process when other code ran HiGHS first with another count).

    Returns
    -------
    DistrictingSolution

    Examples
    --------
    A path of four nodes into two parts of two:

    >>> xy = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    >>> edges = np.array([[0, 1], [1, 2], [2, 3]])
    >>> out = solve_districting(xy, np.ones((4, 1)), edges, 2, [2.0], [2.0])
    >>> out.labels.tolist(), out.objective
    ([0, 0, 1, 1], 2.0)
    """
    import highspy

    from workbench.align._highs import quiet_highs, run_highs

    coords = np.asarray(coords, dtype=float)
    n = len(coords)
    w = np.asarray(weights, dtype=float).reshape(n, -1)
    lo, hi = np.asarray(lo, dtype=float).ravel(), np.asarray(hi, dtype=float).ravel()
    q = np.ones(n) if node_weight is None else np.asarray(node_weight, dtype=float).reshape(n)
    d = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    cost_matrix = q[:, None] * d
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    arcs = np.vstack([edges, edges[:, ::-1]])
    n_max = n
    for m in range(w.shape[1]):
        if hi[m] > 0 and (w[:, m] > 0).any():
            n_max = min(n_max, int(np.searchsorted(np.cumsum(np.sort(w[:, m])), hi[m] + 1e-12, side="right")))
    n_max = max(1, n_max)

    n_x = n * n
    diag = np.arange(n) * (n + 1)  # x[i, j] is column i * n + j
    fa, fj = np.nonzero(arcs[:, 0][:, None] != np.arange(n)[None, :])  # arc fa carries commodity fj
    n_f = len(fa)
    f_cols = n_x + np.arange(n_f)

    rows, cols, vals = [], [], []
    low, high = [], []

    def block(r, c, v, lo_, hi_):
        """Add rows: ``r`` row numbers (relative), ``c`` columns, ``v`` values; ``lo_, hi_`` per row."""
        base = len(low)
        rows.append(np.asarray(r) + base)
        cols.append(np.asarray(c))
        vals.append(np.asarray(v, dtype=float))
        low.extend(np.broadcast_to(lo_, (int(np.max(r)) + 1,)).tolist())
        high.extend(np.broadcast_to(hi_, (int(np.max(r)) + 1,)).tolist())

    inf = highspy.kHighsInf
    block(np.repeat(np.arange(n), n), np.arange(n_x), np.ones(n_x), 1.0, 1.0)  # one part each
    block(np.zeros(n, dtype=np.int64), diag, np.ones(n), float(k), float(k))  # k centres
    off = np.flatnonzero(~np.eye(n, dtype=bool).ravel())  # x[i, j] <= x[j, j], i != j
    block(np.repeat(np.arange(off.size), 2), np.column_stack([off, diag[off % n]]).ravel(),
          np.tile([1.0, -1.0], off.size), -inf, 0.0)
    for m in range(w.shape[1]):  # bands, per centre j
        for bound, sign in ((hi[m], (-inf, 0.0)), (lo[m], (0.0, inf))):
            r = np.r_[np.arange(n_x) % n, np.arange(n)]  # row j holds x[i, j] (column i * n + j) and x[j, j]
            v = np.r_[np.repeat(w[:, m], n), np.full(n, -bound)]
            block(r, np.r_[np.arange(n_x), diag], v, *sign)
    # Flow conservation for (i, j), i != j: out - in - x[i, j] = 0; entry: in <= (n_max - 1) x[i, j].
    pair = lambda node, j: node * n + j  # noqa: E731 (row of a pair)
    out_row, in_row = pair(arcs[fa, 0], fj), pair(arcs[fa, 1], fj)
    keep_in = arcs[fa, 1] != fj  # flow into the centre is absorbed there, not counted
    r = np.r_[out_row, in_row[keep_in], off]
    c = np.r_[f_cols, f_cols[keep_in], off]
    v = np.r_[np.ones(n_f), -np.ones(int(keep_in.sum())), -np.ones(off.size)]
    used = np.unique(r)
    block(np.searchsorted(used, r), c, v, 0.0, 0.0)
    r = np.r_[in_row[keep_in], off]
    used = np.unique(r)
    block(np.searchsorted(used, r), np.r_[f_cols[keep_in], off],
          np.r_[np.ones(int(keep_in.sum())), np.full(off.size, -(n_max - 1.0))], -inf, 0.0)

    # A member other than the centre has a neighbour in its part: x[i, j] <= sum over l next to i of x[l, j]
    # (implied by the flow for integers; it tightens the relaxation, whose big-M flow is weak).
    near_rows, near_cols = [], []
    for i, l in arcs.tolist():
        near_rows.append(np.arange(n) + i * n)
        near_cols.append(l * n + np.arange(n))
    near_rows, near_cols = np.concatenate(near_rows), np.concatenate(near_cols)
    mask = (near_rows // n) != (near_rows % n)  # rows i != j only
    near_rows, near_cols = near_rows[mask], near_cols[mask]
    r = np.r_[off, near_rows]
    used = np.unique(r)
    block(np.searchsorted(used, r), np.r_[off, near_cols], np.r_[np.ones(off.size), -np.ones(near_rows.size)],
          -inf, 0.0)

    h = quiet_highs()
    h.setOptionValue("mip_rel_gap", 1e-6)
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    cost = np.r_[cost_matrix.ravel(), np.zeros(n_f)]
    upper = np.r_[np.ones(n_x), np.full(n_f, float(n_max - 1))]
    h.addCols(n_x + n_f, cost, np.zeros(n_x + n_f), upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32),
              np.zeros(0))
    h.changeColsIntegrality(n_x, np.arange(n_x, dtype=np.int32), np.full(n_x, highspy.HighsVarType.kInteger))
    matrix = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(len(low), n_x + n_f))
    h.addRows(matrix.shape[0], np.asarray(low), np.asarray(high), matrix.nnz, matrix.indptr.astype(np.int32),
              matrix.indices.astype(np.int32), matrix.data)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = _start_vector(np.asarray(start, dtype=np.int64), cost_matrix, arcs, fa, fj, n,
                                           n_x + n_f).tolist()
        solution.value_valid = True
        h.setSolution(solution)
    run_highs(h)
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    bound = float(info.mip_dual_bound)
    if info.primal_solution_status != 2:
        return DistrictingSolution(None, np.inf, bound, status)
    x = np.asarray(h.getSolution().col_value)[:n_x].reshape(n, n)
    centre = np.argmax(x, axis=1)
    labels = np.unique(centre, return_inverse=True)[1]
    return DistrictingSolution(labels, float(cost_matrix[np.arange(n), centre].sum()), bound, status)


def _start_vector(start, cost_matrix, arcs, fa, fj, n, size):
    """The model's variables for a connected plan: each part's best median, flows along a BFS tree of the part."""
    from scipy.sparse.csgraph import breadth_first_order

    sol = np.zeros(size)
    flow_col = {(int(a), int(j)): n * n + t for t, (a, j) in enumerate(zip(fa.tolist(), fj.tolist()))}
    arc_of = {(int(u), int(v)): a for a, (u, v) in enumerate(arcs.tolist())}
    for part in np.unique(start):
        members = np.flatnonzero(start == part)
        centre = int(members[np.argmin(cost_matrix[np.ix_(members, members)].sum(axis=0))])
        sol[members * n + centre] = 1.0
        inside = np.isin(arcs[:, 0], members) & np.isin(arcs[:, 1], members)
        graph = sparse.csr_matrix((np.ones(int(inside.sum())), (arcs[inside, 0], arcs[inside, 1])), shape=(n, n))
        order, parent = breadth_first_order(graph, centre, directed=True)
        below = np.ones(n)
        for node in order[:0:-1]:
            below[parent[node]] += below[node]
            sol[flow_col[(arc_of[(int(node), int(parent[node]))], centre)]] = below[node]
    return sol
