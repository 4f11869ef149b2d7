"""One definition of balance: every measure uses each territory's target (rep capacity), equal targets the mean."""

import numpy as np
import pandas as pd
import pytest

from workbench.compare import compare_plans
from workbench.metrics import balance_targets, deviation_from_target, territory_loads, territory_summary
from workbench.plan import Plan


def _accounts():
    # T1 holds 10 h, T2 30 h: exactly their reps' capacities (1000 h and 3000 h a year, 1:3).
    return pd.DataFrame({"account_id": list("abcd"), "latitude": [40.0, 40.1, 41.0, 41.1],
                         "longitude": [-100.0, -100.1, -99.0, -99.1], "workload": [5.0, 5.0, 15.0, 15.0]})


REPS = pd.DataFrame({"rep_id": ["ann", "bob"], "territory_id": ["T1", "T2"], "latitude": [40.0, 41.0],
                     "longitude": [-100.0, -99.0], "capacity_hours": [1000.0, 3000.0]})


def test_targets_follow_capacity_and_equal_capacities_mean_the_mean():
    assert balance_targets(REPS).round(2).tolist() == [0.25, 0.75]
    assert balance_targets(REPS.assign(capacity_hours=2000.0)) is None
    assert balance_targets(REPS.drop(columns="capacity_hours")) is None
    assert balance_targets(REPS, ["T1", "T2", "T3"]) is None  # a territory without a capacity: equal


def test_a_plan_on_its_capacity_targets_is_balanced_everywhere():
    accounts = _accounts()
    labels = ["T1", "T1", "T2", "T2"]
    loads = territory_loads(accounts, labels, ["workload"])
    assert deviation_from_target(loads, ["workload"], REPS)["workload"].abs().max() == pytest.approx(0)
    summary = territory_summary(accounts, labels, ["workload"], reps=REPS)
    assert summary["workload_deviation_pct"].abs().max() == pytest.approx(0)
    plan = Plan.from_labels(accounts, labels, reps=REPS)
    swapped = plan.reassign(["b"], "T2")
    comparison = compare_plans(plan, swapped)
    card = comparison.scorecards
    row = [i for i in card.index if "workload_max_deviation" in str(i)][0]
    assert float(card.loc[row].iloc[0]) == pytest.approx(0, abs=1e-9)
    assert any("each territory's own target" in w for w in comparison.warnings)
    # the explanation quotes T1 against its own target (10 h), not the mean (20 h, which would be -50%)
    assert "T1 (10 h, 0% on target)" in comparison.moved_accounts.loc[0, "explanation"]


def test_equal_targets_give_the_plain_mean():
    accounts = _accounts()
    labels = ["T1", "T1", "T2", "T2"]
    summary = territory_summary(accounts, labels, ["workload"], reps=REPS.assign(capacity_hours=2000.0))
    assert summary["workload_deviation_pct"].round(1).tolist() == [-50.0, 50.0]


def test_compare_reports_both_lower_bounds_and_the_ratio_to_each():
    # three bands in a row: W 20% over, M on target, E 20% under; the load must cross M
    # (30 accounts in a row: an account's 8 nearest never reach two bands away)
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(30)], "latitude": 40.0,
                             "longitude": -100.0 + 0.1 * np.arange(30),
                             "workload": [1.2] * 10 + [1.0] * 10 + [0.8] * 10})
    current = Plan.from_labels(accounts, ["W"] * 10 + ["M"] * 10 + ["E"] * 10, name="current")
    proposed = current.reassign(["a9"], "M").reassign(["a19"], "E")
    comparison = compare_plans(current, proposed)
    d = comparison.disruption
    # W holds 40% against a 35% ceiling (5% of the workload over), E 26.7% against a 31.7% floor
    assert d["lower_bound_pct"] == pytest.approx(5.0)
    assert d["bordering_lower_bound_pct"] == pytest.approx(10.0)
    text = comparison.moved_text()
    assert "any territory to any other" in text and "only between bordering territories" in text


def test_a_new_hire_without_a_territory_is_measured_against_the_territory_opened_for_them():
    # The reps file of a realignment leaves the hire's territory_id blank; the realignment names the new territory
    # T3 (the current scheme); compare with that same file must measure T3 against the hire's capacity (1:1:2),
    # not the plain mean (where T3 at 50% would read +50%).
    accounts = pd.DataFrame({"account_id": list("abcdefgh"), "latitude": [40.0, 40.1, 41.0, 41.1, 42.0, 42.1, 42.2,
                                                                          42.3],
                             "longitude": -100.0, "workload": 5.0})
    reps = pd.DataFrame({"rep_id": ["ann", "bob", "cid"], "territory_id": ["T1", "T2", None],
                         "latitude": [40.0, 41.0, 42.0], "longitude": -100.0,
                         "capacity_hours": [1000.0, 1000.0, 2000.0]})
    current = Plan.from_labels(accounts, ["T1"] * 4 + ["T2"] * 4, name="current")
    proposed = Plan.from_labels(accounts, ["T1", "T1", "T2", "T2", "T3", "T3", "T3", "T3"], name="proposed")
    comparison = compare_plans(current, proposed, ["workload"], reps=reps)
    card = comparison.scorecards
    row = [i for i in card.index if "workload_max_deviation" in str(i)][0]
    assert float(card.loc[row].iloc[1]) == pytest.approx(0, abs=1e-9)
    assert any("each territory's own target" in w for w in comparison.warnings)
