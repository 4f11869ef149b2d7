"""The p-median districting model: contiguity, balance, optimality against enumeration, the start."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from workbench.align._districting_mip import solve_districting


def _grid(width, height):
    xy = np.array([(x, y) for y in range(height) for x in range(width)], dtype=float)
    edges = np.array([(i, j) for i in range(len(xy)) for j in range(i + 1, len(xy))
                      if np.abs(xy[i] - xy[j]).sum() == 1])
    return xy, edges


def _median_cost(xy, labels):
    total = 0.0
    for part in np.unique(labels):
        members = xy[labels == part]
        total += np.linalg.norm(members[:, None] - members[None], axis=2).sum(axis=0).min()
    return total


def _connected(labels, edges, n):
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(map(tuple, edges))
    return all(nx.is_connected(graph.subgraph(np.flatnonzero(labels == p).tolist())) for p in np.unique(labels))


def test_contiguity_rules_out_a_closer_but_disconnected_plan():
    # A long U walked as a path: across the gap the ends are 1 apart, along the path far apart. Without
    # contiguity {0, 1, 5} + {2, 3, 4} would cost 8; the only connected split into threes costs 12.
    xy = np.array([(0, 0), (0, 3), (0, 6), (1, 6), (1, 3), (1, 0)], dtype=float)
    edges = np.array([(i, i + 1) for i in range(5)])
    out = solve_districting(xy, np.ones((6, 1)), edges, 2, [3.0], [3.0])
    assert out.status == "Optimal"
    assert sorted(map(sorted, (np.flatnonzero(out.labels == p).tolist() for p in (0, 1)))) == [[0, 1, 2], [3, 4, 5]]
    assert out.objective == 12.0


def test_optimum_matches_enumeration_on_a_small_grid_with_two_metrics():
    rng = np.random.default_rng(3)
    xy, edges = _grid(3, 3)
    weights = rng.uniform(1, 3, (9, 2))
    k, tolerance = 3, 0.25
    mean = weights.sum(axis=0) / k
    lo, hi = mean * (1 - tolerance), mean * (1 + tolerance)
    best = np.inf
    for labels in itertools.product(range(k), repeat=9):
        labels = np.array(labels)
        if labels[0] != 0 or len(np.unique(labels)) < k:
            continue  # (part names are interchangeable: fix the first node's)
        loads = np.array([weights[labels == p].sum(axis=0) for p in range(k)])
        if (loads < lo - 1e-9).any() or (loads > hi + 1e-9).any() or not _connected(labels, edges, 9):
            continue
        best = min(best, _median_cost(xy, labels))
    assert np.isfinite(best)
    out = solve_districting(xy, weights, edges, k, lo, hi)
    assert out.status == "Optimal"
    assert np.isclose(out.objective, best)
    assert np.isclose(_median_cost(xy, out.labels), best)
    loads = np.array([weights[out.labels == p].sum(axis=0) for p in range(k)])
    assert ((loads >= lo - 1e-6) & (loads <= hi + 1e-6)).all()
    assert _connected(out.labels, edges, 9)
    assert out.bound <= out.objective + 1e-6


def test_a_start_is_taken_and_a_node_limit_returns_no_worse_a_plan():
    xy, edges = _grid(4, 3)
    start = np.array([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 2])  # two squares and a row: feasible, connected
    out = solve_districting(xy, np.ones((12, 1)), edges, 3, [4.0], [4.0], start=start, node_limit=0)
    assert out.labels is not None
    assert out.objective <= _median_cost(xy, start) + 1e-9
    assert _connected(out.labels, edges, 12)
    assert (np.bincount(out.labels) == 4).all()


def test_it_runs_after_other_highs_models_in_the_same_process():
    # HiGHS keeps one thread pool per process: a model that asked for another thread count after any other
    # model had run failed to solve (all of this file failed in the full suite, passed alone).
    from workbench.align._highs import solve_milp

    assert solve_milp([-1.0, -1.0], [[2.0, 2.0]], [-np.inf], [3.0], [1.0, 1.0], 10) is not None
    xy = np.array([(0, 0), (0, 3), (0, 6), (1, 6), (1, 3), (1, 0)], dtype=float)
    out = solve_districting(xy, np.ones((6, 1)), np.array([(i, i + 1) for i in range(5)]), 2, [3.0], [3.0])
    assert out.status == "Optimal" and out.objective == 12.0
