"""Lower bounds on the movement of a realignment, on grids and lines one can check by hand."""

import numpy as np
import pandas as pd
import pytest

from workbench.align import Realignment
from workbench.align.bounds import (
    block_territory_graph, bordering_lower_bound, bordering_options, bridge_islands, plain_lower_bound, plan_bounds, within_graph,
)
from workbench.geo import to_unit_xyz


def test_an_a_b_c_line_needs_twice_the_plain_bound():
    line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    loads = np.array([0.4, 1 / 3, 0.8 / 3])  # A +20%, B on target, C -20%
    low = high = np.full(3, 1 / 3)
    plain = plain_lower_bound(loads, low, high)[0]
    assert plain == pytest.approx(0.2 / 3)
    assert bordering_lower_bound(loads, low, high, line)[0] == pytest.approx(2 * plain)


def test_with_every_pair_bordering_the_two_bounds_agree():
    full = ~np.eye(3, dtype=bool)
    loads, target = np.array([0.4, 1 / 3, 0.8 / 3]), np.full(3, 1 / 3)
    assert bordering_lower_bound(loads, target, target, full)[0] == pytest.approx(plain_lower_bound(loads, target,
                                                                                                     target)[0])


def test_a_two_by_two_grid_routes_around_the_corner():
    # T0 T1 / T2 T3 with 4-neighbour borders: T0 heavy, T3 light; the load crosses two borders.
    grid = np.zeros((4, 4), dtype=bool)
    for a, b in ((0, 1), (0, 2), (1, 3), (2, 3)):
        grid[a, b] = grid[b, a] = True
    loads = np.array([0.35, 0.25, 0.25, 0.15])
    bound = bordering_lower_bound(loads, np.full(4, 0.25), np.full(4, 0.25), grid)[0]
    assert bound == pytest.approx(0.2)
    assert plain_lower_bound(loads, np.full(4, 0.25), np.full(4, 0.25))[0] == pytest.approx(0.1)


def test_tolerance_shrinks_the_bound():
    line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    loads, target = np.array([0.4, 1 / 3, 0.8 / 3]), np.full(3, 1 / 3)
    bound = bordering_lower_bound(loads, target * 0.95, target * 1.05, line)[0]
    assert bound == pytest.approx(2 * (0.4 - 1.05 / 3))


def test_a_closed_territory_sends_its_whole_load_over_its_borders():
    line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    loads = np.array([0.3, 0.3, 0.4])
    low = high = np.array([0.5, 0.5, 0.0])  # close C: 0.2 to B, 0.2 through B to A
    assert bordering_lower_bound(loads, low, high, line)[0] == pytest.approx(0.4 + 0.2)


def test_points_border_through_their_nearest_accounts_and_islands_are_bridged():
    lat = np.r_[40.0 + 0.01 * np.arange(6), 20.0, 20.01]
    xyz = to_unit_xyz(lat, np.full(8, -100.0))
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    borders = bordering_options(xyz, labels, 4, k=2)
    assert borders.adjacency[0, 1] and borders.adjacency[1, 2] and not borders.adjacency[0, 2]
    # territory 3 is an island far south: joined to its nearest territory (0) so a flow exists
    assert borders.adjacency[3].sum() == 1 and borders.adjacency[3, 0]


def test_accounts_of_one_block_border_every_territory_in_it():
    xyz = to_unit_xyz(np.array([40.0, 45.0, 50.0]), np.full(3, -100.0))
    borders = bordering_options(xyz, np.array([0, 1, 2]), 3, k=0, groups=["x", "y", "x"])
    assert borders.adjacency[0, 2] and borders.adjacency[2, 0]
    assert {(int(r), int(t)) for r, t in zip(borders.rows, borders.territories)} >= {(0, 2), (2, 0)}


def test_block_graph_and_bridges():
    adjacency = block_territory_graph(np.array([[0, 1], [2, 3]]), np.array([0, 1, 2, 2]), 3)
    assert adjacency[0, 1] and not adjacency[1, 2]
    bridges = bridge_islands(adjacency, np.eye(3))
    assert len(bridges) == 1 and adjacency.sum() == 4


def test_every_realignment_report_has_both_bounds_and_moves_no_less_than_them():
    rng = np.random.default_rng(0)
    n = 300
    accounts = pd.DataFrame({"latitude": rng.uniform(39, 41, n), "longitude": rng.uniform(-103, -97, n),
                             "workload": rng.lognormal(0, 0.4, n)})
    # three vertical bands in a row: W grew, M is on target, E shrank; load must cross M
    accounts["current_territory"] = pd.cut(accounts["longitude"], [-104, -101, -99, -96], labels=["W", "M", "E"])
    loads = accounts.groupby("current_territory", observed=True)["workload"].sum()
    accounts["workload"] *= accounts["current_territory"].map(
        {"W": 1.2 / loads["W"], "M": 1.0 / loads["M"], "E": 0.8 / loads["E"]}).astype(float)
    report = Realignment().fit(accounts).report_
    assert report.bordering_lower_bound_share > report.lower_bound_share * 1.5
    assert report.moved_share >= report.bordering_lower_bound_share - 1e-9
    assert report.within_tolerance
    assert "moves only between bordering territories" in report.summary()


def test_plan_bounds_count_load_once_per_border_it_crosses():
    # A (6 hours) - B (4) - C (2) on a line, mean 4, bounds [3.8, 4.2]: 1.8 hours must leave A and reach C.
    accounts = pd.DataFrame({"latitude": 40.0, "longitude": -100.0 + 0.1 * np.arange(12),
                             "workload": np.repeat([1.5, 1.0, 0.5], 4)})
    labels = ["A"] * 4 + ["B"] * 4 + ["C"] * 4
    # Only A-B and B-C border (each account's 2 nearest are its line neighbours): 1.8 crosses two borders.
    plain, bordering = plan_bounds(accounts, labels, "workload", 0.05, n_neighbours=2)
    assert (plain, bordering) == (pytest.approx(1.8 / 12), pytest.approx(3.6 / 12))
    # Everyone borders everyone: the plain lower bound (the larger of excess and deficit), 1.8 of 12.
    assert plan_bounds(accounts, labels, "workload", 0.05, n_neighbours=11)[1] == pytest.approx(1.8 / 12)


def test_moves_outside_the_bound_graph_become_stays():
    line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    # account 0 is in A: B borders A, C does not; account 1 is in B: both A and C border it
    assert within_graph(np.array([[1, 2, 0], [0, 2, 1]]), np.array([0, 1]), line).tolist() == [[1, 0, 0], [0, 2, 1]]
