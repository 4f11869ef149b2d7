"""Lower bounds on the movement of a realignment, on grids and lines one can check by hand."""

import numpy as np
import pandas as pd
import pytest

from workbench.align import Realignment
from workbench.align.bounds import (
    block_territory_graph, bordering_lower_bound, bordering_options, bridge_islands, joint_lower_bound, plain_lower_bound,
    plan_bounds, plan_joint_bound, whole_block_lower_bound, within_graph,
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


def _crossing():
    """A and B border; four accounts each of 12.5% of the workload; A's carry 15% of the revenue each, B's 10%."""
    shares = np.c_[np.full(8, 0.125), np.r_[np.full(4, 0.15), np.full(4, 0.10)]]
    return shares, np.repeat([0, 1], 4), np.array([[0, 1], [1, 0]], dtype=bool)


def test_the_joint_bound_is_strictly_above_every_single_metric_bound():
    shares, current, pair = _crossing()
    band = np.full((2, 2), 0.5)  # tolerance 0: every territory at half of each metric
    loads = np.stack([np.bincount(current, weights=shares[:, m]) for m in range(2)], axis=1)
    single = np.r_[plain_lower_bound(loads, band, band), bordering_lower_bound(loads, band, band, pair)]
    assert single.tolist() == pytest.approx([0.0, 0.1, 0.0, 0.1])  # workload is balanced; revenue 10% off
    # Revenue must go A -> B; each unit of it carries workload, which must come back: by hand, A sends a share f
    # of its accounts and takes a share g of B's, 0.5 f = 0.5 g (workload) and 0.6 - 0.6 f + 0.4 g = 0.5: f = g =
    # 1/2, so a quarter of the workload goes each way.
    joint = joint_lower_bound(shares, current, band, band, pair)
    assert joint == pytest.approx(0.5)
    assert joint > single.max() + 0.3
    # Swapping two accounts each way is within on both metrics and moves exactly that.
    swapped = current.copy()
    swapped[[0, 1, 4, 5]] = [1, 1, 0, 0]
    assert np.stack([np.bincount(swapped, weights=shares[:, m]) for m in range(2)], axis=1) == pytest.approx(band)
    assert shares[swapped != current, 0].sum() == pytest.approx(joint)


def test_the_joint_bound_of_one_metric_on_a_line_crosses_both_borders():
    # The A-B-C line at tolerance 0 with one account per 1/30 of the load: A's excess reaches C only through B.
    line = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    shares = (np.r_[np.full(10, 1.2), np.full(10, 1.0), np.full(10, 0.8)] / 30)[:, None]
    current = np.repeat([0, 1, 2], 10)
    band = np.full((3, 1), 1 / 3)
    assert joint_lower_bound(shares, current, band, band, line) == pytest.approx(2 * 0.2 / 3)


def test_locked_accounts_and_frozen_territories_raise_the_joint_bound_or_leave_no_plan():
    shares, current, pair = _crossing()
    band = np.full((2, 2), 0.5)
    locked = np.r_[True, True, True, False, np.zeros(4, dtype=bool)]  # A can send one account only: 15% revenue
    assert joint_lower_bound(shares, current, band, band, pair, movable=~locked) == np.inf
    assert joint_lower_bound(shares, current, band, band, pair, frozen=np.array([True, False])) == np.inf
    wide = np.c_[np.full(2, 0.35), np.full(2, 0.35)], np.c_[np.full(2, 0.65), np.full(2, 0.65)]
    assert joint_lower_bound(shares, current, *wide, pair) == 0.0  # already within


def test_plan_joint_bound_and_a_realignment_on_three_metrics_move_no_less_than_it():
    rng = np.random.default_rng(3)
    n = 600
    accounts = pd.DataFrame({"latitude": rng.uniform(35, 45, n), "longitude": rng.uniform(-105, -95, n),
                             "workload": rng.lognormal(0, 0.5, n), "revenue": rng.lognormal(0, 1.0, n),
                             "potential": rng.lognormal(0, 1.0, n)})
    accounts["current_territory"] = np.where(accounts["longitude"] < -100, "W", "E") + np.where(
        accounts["latitude"] < 40, "S", "N")
    accounts.loc[accounts["current_territory"] == "WS", ["revenue"]] *= 1.6  # revenue drifts in one corner
    metrics = ["workload", "revenue", "potential"]
    model = Realignment(balance_on=metrics, tolerance=0.1).fit(accounts)
    r = model.report_
    joint = plan_joint_bound(accounts, accounts["current_territory"], metrics, 0.1)
    assert r.joint_lower_bound_share == pytest.approx(max(joint, r.bordering_lower_bound_share), rel=1e-6)
    assert r.joint_lower_bound_share >= r.bordering_lower_bound_share - 1e-12
    if r.within_tolerance:
        assert r.moved_share >= r.joint_lower_bound_share - 1e-9
    assert any("all balanced metrics" in line for line in r.summary().splitlines())
    one = Realignment(tolerance=0.1).fit(accounts).report_
    assert one.joint_lower_bound_share is None
    assert not any("all balanced metrics" in line for line in one.summary().splitlines())


_LINE = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)


def test_whole_blocks_move_at_least_what_their_sizes_force():
    # A [0.1, 0.3], B [0.15, 0.15], C [0.1, 0.1], bands [0.25, 0.35]: A's 0.1-block to B, a 0.15-block of B to C.
    share = np.array([0.1, 0.3, 0.15, 0.15, 0.1, 0.1])
    current = np.array([0, 0, 1, 1, 2, 2])
    bound, best = whole_block_lower_bound(np.arange(6), current, share, np.full(3, 0.25), np.full(3, 0.35), _LINE)
    assert bound == pytest.approx(0.25) and best == pytest.approx(0.25)
    assert bordering_lower_bound(np.array([0.4, 0.3, 0.2]), np.full(3, 0.25), np.full(3, 0.35), _LINE)[0] == \
        pytest.approx(0.1)
    # The same loads in ten times as many blocks: nearly the fractional flow (B's 0.015-blocks overshoot C's
    # need of 0.05 by 0.01), never below it.
    fine = np.repeat(share / 10, 10)
    bound, _ = whole_block_lower_bound(np.arange(60), np.repeat(current, 10), fine, np.full(3, 0.25),
                                       np.full(3, 0.35), _LINE)
    assert bound == pytest.approx(0.11)


def test_a_block_shared_by_two_territories_today_counts_only_the_accounts_that_change():
    # Block 0 holds accounts of A (0.3) and of B (0.1); everything else is its own block. A is on target.
    block_of = np.array([0, 0, 1, 2])
    current = np.array([0, 1, 1, 2])
    share = np.array([0.3, 0.1, 0.2, 0.4])
    bound, best = whole_block_lower_bound(block_of, current, share, np.array([0.4, 0.2, 0.4]),
                                          np.array([0.4, 0.2, 0.4]), _LINE)
    # The whole block goes to A (0.1 of B's accounts change territory); B keeps block 1, C block 2.
    assert bound == pytest.approx(0.1) and best == pytest.approx(0.1)


def test_whole_blocks_that_cannot_reach_the_bands_give_an_infinite_bound():
    # A single block of 0.6 in A: no territory may hold more than 0.4.
    bound, best = whole_block_lower_bound(np.arange(3), np.array([0, 1, 2]), np.array([0.6, 0.2, 0.2]),
                                          np.full(3, 0.2), np.full(3, 0.4), _LINE)
    assert bound == np.inf and best == np.inf
    # Widened to the block's load (what reachable_targets does), the others balance around it.
    bound, _ = whole_block_lower_bound(np.arange(3), np.array([0, 1, 2]), np.array([0.6, 0.2, 0.2]),
                                       np.full(3, 0.2), np.array([0.6, 0.4, 0.4]), _LINE)
    assert bound == 0.0
