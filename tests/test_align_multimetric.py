"""Balancing several metrics at once: the move-and-swap repair on fixtures checkable by hand, and the sample."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.align import BalancedTerritories, Realignment, RepAnchoredTerritories, ToleranceWarning
from workbench.align._multirepair import multi_repair, penalty
from workbench.bundled import sample_accounts_path, sample_reps_path
from workbench.io import load_accounts, load_reps

# Two territories of four accounts; (workload, revenue) in units of 1/100 of each total.
# Territory 0 holds 55 workload and 45 revenue, territory 1 the mirror image.
CROSSING = np.array([
    [22, 20], [10, 5], [15, 15], [8, 5],   # territory 0
    [20, 22], [5, 10], [15, 15], [5, 8],   # territory 1
], dtype=float) / 100
CROSSING_LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])
TOLERANCE = 0.02  # 50 +- 1 unit


def both_ways(n_accounts, n_territories=2):
    """Every account may go to every territory (own one first), all at the same cost."""
    cand = np.array([[t for t in range(n_territories)] for _ in range(n_accounts)])
    return cand, np.ones(cand.shape, dtype=float)


def flat_cost(rows, territories):
    return np.ones(np.broadcast(np.asarray(rows), np.asarray(territories)).shape)


def within(labels, shares, targets, tolerance):
    loads = np.stack([np.bincount(labels, weights=shares[:, m], minlength=len(targets))
                      for m in range(shares.shape[1])], axis=1)
    return bool((np.abs(loads / targets[:, None] - 1) <= tolerance + 1e-12).all())


def test_crossing_fixture_has_exactly_one_balancing_swap_and_no_balancing_move():
    """The fixture itself: only swapping account 1 (10, 5) for account 5 (5, 10) gives 50/50 on both."""
    targets = np.array([0.5, 0.5])
    good = []
    for i, j in itertools.product([None, 0, 1, 2, 3], [None, 4, 5, 6, 7]):
        labels = CROSSING_LABELS.copy()
        if i is not None:
            labels[i] = 1
        if j is not None:
            labels[j] = 0
        if within(labels, CROSSING, targets, TOLERANCE):
            good.append((i, j))
    assert good == [(1, 5)]


def test_only_the_crossing_swap_balances_both_metrics():
    cand, cost = both_ways(8)
    labels, rounds, ok = multi_repair(CROSSING_LABELS, CROSSING, np.array([0.5, 0.5]), TOLERANCE, cand, cost,
                                      flat_cost, np.ones(8, bool), np.zeros(2, bool))
    assert ok
    assert labels.tolist() == [0, 1, 0, 0, 1, 0, 1, 1]
    assert rounds == 2  # one round to swap, one to see it is within


def test_a_locked_account_is_never_swapped_and_the_miss_is_reported():
    movable = np.ones(8, bool)
    movable[1] = False
    cand, cost = both_ways(8)
    labels, _, ok = multi_repair(CROSSING_LABELS, CROSSING, np.array([0.5, 0.5]), TOLERANCE, cand, cost, flat_cost,
                                 movable, np.zeros(2, bool))
    assert labels[1] == 0
    assert not ok  # the only balancing swap needs account 1


def test_frozen_territory_neither_gives_nor_takes():
    # Territory 2 is frozen and far too light; it holds account 8, which alone would fix nothing anyway.
    shares = np.vstack([CROSSING * 0.9, [[0.1, 0.1]]])
    start = np.r_[CROSSING_LABELS, 2]
    cand = np.array([[0, 1, 2]] * 8 + [[2, 0, 1]])
    frozen = np.array([False, False, True])
    labels, _, ok = multi_repair(start, shares, np.array([0.45, 0.45, 0.1]), TOLERANCE, cand,
                                 np.ones(cand.shape), flat_cost, np.ones(9, bool), frozen)
    assert ok
    assert labels[8] == 2 and (labels[:8] != 2).all()
    assert labels.tolist() == [0, 1, 0, 0, 1, 0, 1, 1, 2]


def test_closing_territory_is_emptied_without_numpy_warnings():
    # Territory 2 is closing (target 0) and still holds account 8; its target of 0 once made every deviation
    # 0/0 = NaN (numpy warnings on the CLI, and a repair that could never report success).
    shares = np.vstack([CROSSING * 0.98, [[0.02, 0.02]]])
    start = np.r_[CROSSING_LABELS, 2]
    cand = np.array([[0, 1]] * 4 + [[1, 0]] * 4 + [[0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels, _, ok = multi_repair(start, shares, np.array([0.5, 0.5, 0.0]), TOLERANCE, cand,
                                     np.ones(cand.shape), flat_cost, np.ones(9, bool), np.zeros(3, bool))
    assert ok
    assert (labels != 2).all()
    assert within(labels, shares, np.array([0.5, 0.5]), TOLERANCE)


def test_an_empty_closing_territory_is_on_target():
    cand, cost = both_ways(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels, _, ok = multi_repair(CROSSING_LABELS, CROSSING, np.array([0.5, 0.5, 0.0]), TOLERANCE, cand, cost,
                                     flat_cost, np.ones(8, bool), np.zeros(3, bool))
    assert ok
    assert within(labels, CROSSING, np.array([0.5, 0.5]), TOLERANCE)


def test_lumpy_revenue_accounts_end_up_in_different_territories():
    # Accounts 0 and 1 hold 40% of the revenue each and start together; the rest is small and even.
    workload = np.r_[5, 5, np.full(18, 5.0)]
    revenue = np.r_[40, 40, np.full(18, 20 / 18)]
    shares = np.c_[workload / workload.sum(), revenue / revenue.sum()]
    start = np.r_[0, 0, np.repeat([0, 1], [8, 10])]
    cand, cost = both_ways(20)
    cand = np.where(start[:, None] == 0, cand, cand[:, ::-1])
    labels, _, ok = multi_repair(start, shares, np.array([0.5, 0.5]), 0.1, cand, cost, flat_cost,
                                 np.ones(20, bool), np.zeros(2, bool))
    assert ok
    assert labels[0] != labels[1]
    assert within(labels, shares, np.array([0.5, 0.5]), 0.1)


def test_closer_accounts_are_preferred_when_moves_balance_equally():
    # Territory 0 has one account too many; accounts 0 and 1 are identical but 1 is nearer territory 1.
    shares = np.full((6, 2), 1 / 6)
    start = np.array([0, 0, 0, 0, 1, 1])
    cand = np.array([[0, 1]] * 4 + [[1, 0]] * 2)
    cost = np.array([[1.0, 3.0], [1.0, 1.5], [1.0, 3.0], [1.0, 3.0], [1.0, 3.0], [1.0, 3.0]])

    def own(rows, territories):
        rows = np.asarray(rows)
        return np.where(cand[rows, 0] == territories, cost[rows, 0], cost[rows, 1])

    labels, _, ok = multi_repair(start, shares, np.array([0.5, 0.5]), 0.05, cand, cost, own, np.ones(6, bool),
                                 np.zeros(2, bool))
    assert ok
    assert labels.tolist() == [0, 1, 0, 0, 1, 1]


def test_penalty_counts_each_metric_beyond_the_tolerance_heavily():
    target = np.array([0.5])
    inside = penalty(np.array([[0.5125, 0.5]]), target, 0.05)  # half the tolerance: nothing
    edge = penalty(np.array([[0.525, 0.5]]), target, 0.05)      # at the tolerance: only the inner part
    beyond = penalty(np.array([[0.55, 0.5]]), target, 0.05)     # twice the tolerance
    assert inside.tolist() == [0.0]
    assert edge.round(6).tolist() == [0.25]
    assert beyond.round(6).tolist() == [100.0 + 2.25]


@pytest.fixture(scope="module")
def sample():
    return load_accounts(sample_accounts_path())


def test_sample_balances_workload_and_revenue_within_5_percent(sample):
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("error", ToleranceWarning)
            return BalancedTerritories(40, balance_on=["workload", "revenue"], tolerance=0.05,
                                       random_state=0).fit(sample)

    model = fit()
    report = model.report_
    assert report.within_tolerance and report.converged
    assert max(report.max_deviation.values()) <= 0.05
    assert set(report.max_deviation) == {"workload", "revenue"}
    assert len(model.labels_) == len(sample) and pd.Series(model.labels_).nunique() == 40
    assert (fit().labels_ == model.labels_).all()  # same seed, same answer


def test_sample_rep_anchored_balances_workload_and_revenue(sample):
    reps = load_reps(sample_reps_path())
    report = RepAnchoredTerritories(balance_on=["workload", "revenue"]).fit(sample, reps=reps).report_
    assert report.within_tolerance and report.converged


def test_sample_locked_accounts_keep_their_territory_with_two_metrics(sample):
    accounts = sample.copy()
    top = accounts["revenue"].rank(ascending=False, method="first") <= 50
    accounts["locked"] = top | (np.arange(len(accounts)) % 97 == 0)
    model = BalancedTerritories(balance_on=["workload", "revenue"], current_col="current_territory",
                                lock_col="locked", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToleranceWarning)
        model.fit(accounts)
    locked = accounts["locked"].to_numpy()
    assert (model.labels_[locked] == accounts["current_territory"].to_numpy()[locked]).all()


def test_sample_balances_three_metrics_within_5_percent(sample):
    report = BalancedTerritories(40, balance_on=["workload", "revenue", "potential"], tolerance=0.05,
                                 random_state=0).fit(sample).report_
    assert report.within_tolerance and report.converged
    assert max(report.max_deviation.values()) <= 0.05


def test_sample_realignment_balances_workload_and_revenue(sample):
    # The current territories are 32% off on workload and 65% on revenue.
    report = Realignment(balance_on=["workload", "revenue"]).fit(sample).report_
    assert report.within_tolerance and report.converged
    assert 0 < report.moved_share < 0.5
