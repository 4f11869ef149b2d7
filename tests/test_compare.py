"""compare_plans on the six-account fixture of test_metrics: a move of two accounts, checked by hand.

Current T1={a1,a2} T2={a3,a4} T3={a5,a6}; proposed moves a4 T2->T3 and a5 T3->T1.
"""

import json

import numpy as np
import pandas as pd
import pytest
from test_metrics import KM_PER_DEGREE, chain_blocks, six_accounts, three_reps

from workbench.compare import UNASSIGNED, Comparison, compare_plans
from workbench.errors import InputError, PlanError
from workbench.plan import Plan
from workbench.signoff import review_and_approve


@pytest.fixture
def plans():
    current = Plan.from_column(six_accounts(), reps=three_reps())
    proposed = Plan.from_column(six_accounts(), "proposed", name="proposed", reps=three_reps())
    return current, proposed


@pytest.fixture
def comparison(plans):
    return compare_plans(*plans)


def test_transfer_matrix_by_hand(comparison):
    long = comparison.transfer_matrix
    assert long.columns.tolist() == ["from_territory", "to_territory", "accounts", "workload", "revenue"]
    rows = {(r.from_territory, r.to_territory): (r.accounts, r.workload, r.revenue) for r in long.itertuples()}
    assert rows == {("T1", "T1"): (2, 20.0, 200.0), ("T2", "T2"): (1, 20.0, 300.0), ("T2", "T3"): (1, 20.0, 300.0),
                    ("T3", "T1"): (1, 30.0, 200.0), ("T3", "T3"): (1, 30.0, 200.0)}
    wide = comparison.transfer_matrix_wide("accounts")
    assert wide.to_dict("index") == {"T1": {"T1": 2, "T2": 0, "T3": 0}, "T2": {"T1": 0, "T2": 1, "T3": 1},
                                     "T3": {"T1": 1, "T2": 0, "T3": 1}}
    assert comparison.transfer_matrix_wide("revenue").loc["T2", "T3"] == 300.0
    with pytest.raises(InputError, match="metric 'potential' is not in this comparison"):
        comparison.transfer_matrix_wide("potential")


def test_moved_accounts_by_hand(comparison):
    moved = comparison.moved_accounts.set_index("account_id")
    assert moved.index.tolist() == ["a4", "a5"]
    assert moved.loc["a4", ["from_territory", "to_territory"]].tolist() == ["T2", "T3"]
    # a4 leaves T2 (40 -> 20 h) for T3 (60 -> 50 h: gains a4's 20, loses a5's 30)
    assert moved.loc["a4", ["from_load_before", "from_load_after", "to_load_before", "to_load_after"]].tolist() == [
        40.0, 20.0, 60.0, 50.0]
    assert moved.loc["a5", ["from_load_before", "from_load_after", "to_load_before", "to_load_after"]].tolist() == [
        60.0, 50.0, 20.0, 50.0]
    assert moved.loc["a5", ["from_deviation_before_pct", "to_deviation_before_pct", "to_deviation_after_pct"]
                     ].tolist() == pytest.approx([50.0, -50.0, 25.0])
    # a4 (lon 12): T2 rep at lon 10 (2 deg) -> T3 rep at lon 20 (8 deg): 6 degrees farther
    assert moved.loc["a4", "distance_change_km"] == pytest.approx(6 * KM_PER_DEGREE, rel=1e-6)
    assert moved.loc["a4", "explanation"] == (
        "Moved from T2 (40 h, 0% on target) to T3 (60 h, +50% over): "
        "667 km farther from the T3 rep's home than from the T2 rep's.")
    assert moved.loc["a5", "explanation"] == (
        "Moved from T3 (60 h, +50% over) to T1 (20 h, -50% under): "
        "2,224 km farther from the T1 rep's home than from the T3 rep's.")


def test_closer_move_is_explained_as_closer(plans):
    current, _ = plans
    proposed = current.reassign(["a2"], "T2")  # lon 2: T1 rep at 0 (2 deg) -> T2 rep at 10 (8 deg)
    back = compare_plans(proposed, current).moved_accounts.loc[0, "explanation"]
    assert back.startswith("Moved from T2 (50 h, +25% over) to T1 (10 h, -75% under): 667 km closer to the T1 rep's")


def test_disruption_and_retention_by_hand(comparison):
    d = comparison.disruption
    assert d["accounts_moved"] == 2 and d["accounts_moved_pct"] == pytest.approx(100 / 3)
    assert d["workload_moved"] == 50.0 and d["workload_moved_pct"] == pytest.approx(50 / 120 * 100)
    assert d["revenue_moved"] == 500.0 and d["revenue_moved_pct"] == pytest.approx(500 / 1200 * 100)
    assert d["territories_touched"] == 3
    keep = comparison.retention
    assert keep["rep_id"].tolist() == ["R1", "R2", "R3"]
    assert keep["accounts_kept_pct"].tolist() == [100.0, 50.0, 50.0]
    assert keep["workload_kept_pct"].tolist() == [100.0, 50.0, 50.0]
    assert keep["revenue_kept"].tolist() == [200.0, 300.0, 200.0]


def test_scorecards_side_by_side(comparison):
    cards = comparison.scorecards
    assert cards.columns.tolist() == ["current", "proposed", "change"]
    assert cards.loc["workload_max_deviation_pct"].tolist() == pytest.approx([50.0, 50.0, 0.0])
    assert cards.loc["revenue_max_deviation_pct"].tolist() == pytest.approx([50.0, 25.0, -25.0])
    assert cards.loc["accounts"].tolist() == [6, 6, 0]
    assert cards.loc["non_contiguous_territories"].tolist() == [None, None, None]
    deltas = comparison.territory_deltas
    assert deltas["workload_proposed"].tolist() == [50.0, 20.0, 50.0]
    assert deltas["workload_change"].tolist() == [30.0, -20.0, -10.0]
    assert deltas[["accounts_kept", "accounts_out", "accounts_in"]].values.tolist() == [[2, 0, 1], [1, 1, 0],
                                                                                          [1, 1, 1]]
    assert deltas["status"].tolist() == ["kept", "kept", "kept"]


def test_blocks_add_shape_items(plans):
    cards = compare_plans(*plans, blocks=chain_blocks()).scorecards
    assert cards.loc["non_contiguous_territories"].tolist() == [0, 2, 2]
    assert cards.loc["mean_polsby_popper", "current"] == pytest.approx(2 * np.pi / 9, abs=0.005)


def test_unassigned_and_new_territories(plans):
    current, _ = plans
    proposed = Plan.from_labels(six_accounts(), ["T1", "T1", "T2", "T4", None, "T3"], name="p")
    result = compare_plans(current, proposed)
    moved = result.moved_accounts.set_index("account_id")
    assert moved.loc["a5", "to_territory"] == UNASSIGNED
    assert moved.loc["a5", "explanation"].startswith("Left unassigned; was in T3 (60 h, +50% over)")
    assert moved.loc["a4", "explanation"].startswith("Moved from T2 (40 h, 0% on target) to T4 (new territory)")
    assert result.scorecards.loc["unassigned_accounts"].tolist() == [0, 1, 1]
    assert result.territory_deltas.loc["T4", "status"] == "new"
    back = compare_plans(proposed, current).moved_accounts.set_index("account_id")
    assert back.loc["a5", "explanation"].startswith("Newly assigned to T3")


def test_rep_distance_needs_reps(plans):
    current = Plan.from_column(six_accounts())  # no reps
    result = compare_plans(current, current.reassign(["a5"], "T1"))
    moved = result.moved_accounts
    assert np.isnan(moved.loc[0, "distance_change_km"])
    assert moved.loc[0, "explanation"] == "Moved from T3 (60 h, +50% over) to T1 (20 h, -50% under)."
    with_reps = compare_plans(current, current.reassign(["a5"], "T1"), reps=three_reps())
    assert with_reps.moved_accounts.loc[0, "distance_change_km"] == pytest.approx(20 * KM_PER_DEGREE, rel=1e-6)


def test_plans_over_different_accounts_are_refused(plans):
    current, _ = plans
    other = Plan.from_labels(six_accounts().iloc[:4], ["T1"] * 4)
    with pytest.raises(PlanError, match=r"2 accounts only in 'current': \['a5', 'a6'\]"):
        compare_plans(current, other)
    with pytest.raises(TypeError, match="proposed must be a Plan"):
        compare_plans(current, "plan")
    with pytest.raises(InputError, match="metric 'nope' is not a column"):
        compare_plans(current, current, metrics=["nope"])


def test_comparison_is_frozen_and_json_ready(comparison):
    assert isinstance(comparison, Comparison)
    with pytest.raises(AttributeError):
        comparison.tolerance = 0.1
    frame = comparison.moved_accounts
    frame.loc[0, "explanation"] = "changed"
    assert comparison.moved_accounts.loc[0, "explanation"] != "changed"
    data = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert set(data) == {"current", "proposed", "metrics", "load_metric", "tolerance", "scorecards", "disruption",
                         "rep_retention",
                         "territory_deltas", "transfer_matrix", "moved_accounts", "retention", "warnings"}
    assert data["scorecards"]["accounts"] == {"current": 6, "proposed": 6, "change": 0}
    assert data["disruption"]["accounts_moved"] == 2
    assert [m["account_id"] for m in data["moved_accounts"]] == ["a4", "a5"]
    assert data["proposed"]["name"] == "proposed" and data["load_metric"] == "workload"


def test_works_with_approved_and_loaded_plans(plans, tmp_path):
    from workbench.plan import load_plan, save_plan
    current, proposed = plans
    saved = load_plan(save_plan(review_and_approve(proposed, by="Dana", accept_warnings=True), tmp_path / "p"))
    assert compare_plans(current, saved).disruption["accounts_moved"] == 2


def test_metrics_default_and_order(plans):
    result = compare_plans(*plans, metrics=["revenue"])
    assert result.metrics == ("revenue",) and result.load_metric == "revenue"
    assert result.moved_accounts.loc[0, "explanation"].startswith("Moved from T2 (600 revenue, +50% over)")


def test_rep_retention_follows_the_rep_not_the_territory_id(plans):
    current, _ = plans
    # proposed: the same accounts, but R2 and R3 swap territory ids; only a4 really changes rep
    swapped = three_reps().assign(territory_id=["T1", "T3", "T2"])
    labels = ["T1", "T1", "T3", "T2", "T2", "T2"]  # a3 stays with R2 (now T3); a4 goes R2 -> R3 (now T2)
    proposed = Plan.from_labels(six_accounts(), labels, name="swap", reps=swapped)
    result = compare_plans(current, proposed)
    by_rep = result.rep_retention
    assert by_rep.index.tolist() == ["R1", "R2", "R3"]
    assert by_rep["accounts_kept"].tolist() == [2, 1, 2]
    assert by_rep["workload_kept_pct"].tolist() == [100.0, 50.0, 100.0]
    assert by_rep["rep_name"].tolist() == ["Ann", "Bob", "Cy"]
    # by territory id T2 keeps only a4 and T3 keeps nothing, though R3 keeps its whole book
    assert result.retention["accounts_kept"].tolist() == [2, 1, 0]
    assert compare_plans(*[Plan.from_column(six_accounts())] * 2).rep_retention.empty


def test_identical_plans_move_nothing(plans):
    current, _ = plans
    result = compare_plans(current, current)
    assert result.moved_accounts.empty and result.disruption["accounts_moved"] == 0
    assert result.disruption["workload_moved_pct"] == 0.0
    assert result.retention["accounts_kept_pct"].tolist() == [100.0, 100.0, 100.0]
    assert json.loads(json.dumps(result.to_dict()))["moved_accounts"] == []


def test_without_metrics_the_load_is_the_account_count():
    accounts = six_accounts()[["account_id", "latitude", "longitude", "current_territory", "proposed"]]
    current = Plan.from_column(accounts)
    result = compare_plans(current, Plan.from_column(accounts, "proposed", name="p"))
    assert result.metrics == () and result.load_metric == "accounts"
    assert result.transfer_matrix.columns.tolist() == ["from_territory", "to_territory", "accounts"]
    # T2 has 2 accounts of a mean of 2: on target; T3 likewise
    assert result.moved_accounts.loc[0, "explanation"] == (
        "Moved from T2 (2 accounts, 0% on target) to T3 (2 accounts, 0% on target).")


def test_reps_that_match_no_territory_are_refused(plans):
    current, proposed = plans
    strangers = three_reps().assign(territory_id=["X1", "X2", "X3"])
    with pytest.raises(InputError, match=r"reps name no territory of either plan .*\['X1', 'X2', 'X3'\]"):
        compare_plans(current, proposed, reps=strangers)


def _three_bands():
    """W, M, E in a row, ten accounts each (workload 1.2, 1.0, 0.8): an account's 8 nearest never reach two bands away."""
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(30)], "latitude": 40.0,
                         "longitude": -100.0 + 0.1 * np.arange(30),
                         "workload": [1.2] * 10 + [1.0] * 10 + [0.8] * 10})


def test_the_bounds_of_a_proposal_that_closes_a_territory_are_those_of_the_closure():
    # M closes: W (40%) and E (26.7%) must each reach 47.5%; all of M's 33.3% must leave, so 33.3% moves at least
    # (not the 5% / 10% of keeping three territories, which made the proposal look 6x too disruptive).
    accounts = _three_bands()
    current = Plan.from_labels(accounts, ["W"] * 10 + ["M"] * 10 + ["E"] * 10, name="current")
    proposed = Plan.from_labels(accounts, ["W"] * 13 + ["E"] * 17, name="proposed")
    d = compare_plans(current, proposed, ["workload"]).disruption
    assert d["lower_bound_pct"] == pytest.approx(100 / 3)
    assert d["bordering_lower_bound_pct"] == pytest.approx(100 / 3)


def test_the_bounds_of_a_proposal_that_opens_a_territory_seed_it_where_it_takes_most():
    # N opens in W (takes a0-a4 from it): four targets of 25% (band 23.75-26.25%). N must get 23.75%; E's 0.42%
    # over must cross M to reach N (two hops), so the bordering bound is 23.75% + 0.42% = 24.17%.
    accounts = _three_bands()
    current = Plan.from_labels(accounts, ["W"] * 10 + ["M"] * 10 + ["E"] * 10, name="current")
    proposed = Plan.from_labels(accounts, ["N"] * 5 + ["W"] * 5 + ["M"] * 10 + ["E"] * 10, name="proposed")
    d = compare_plans(current, proposed, ["workload"]).disruption
    assert d["lower_bound_pct"] == pytest.approx(23.75)
    assert d["bordering_lower_bound_pct"] == pytest.approx(23.75 + (8 / 30 - 0.2625) * 100)
