"""The report's lower-bound lines: a ratio under 1.00x never goes without the reason."""

from __future__ import annotations

import pandas as pd

from workbench.align.report import AlignmentReport


def _report(moved, bordering, within=True):
    return AlignmentReport(method="contiguous_realignment", territories=pd.DataFrame({"workload": [1.0, 1.0]}),
                           max_deviation={"workload": 0.04 if within else 0.2}, tolerance=0.05,
                           within_tolerance=within, compactness_km=10.0, moved_share=moved,
                           lower_bound_share=0.02, bordering_lower_bound_share=bordering)


def test_a_ratio_of_one_or_more_has_no_note():
    lines = _report(0.05, 0.04).bound_lines()
    assert lines == ["lower bound (any territory may take from any other): 2.0% of workload; moved 2.50x that",
                     "lower bound (moves only between bordering territories): 4.0% of workload; moved 1.25x that"]


def test_under_one_within_tolerance_names_the_territories_that_came_to_border():
    lines = _report(0.0396, 0.04).bound_lines()
    assert lines[1] == "lower bound (moves only between bordering territories): 4.0% of workload; moved 0.99x that"
    assert lines[2].startswith("  (under 1.00x: some load went between territories that came to border only after")
    assert "bordering today" in lines[2]
    assert lines[2] in _report(0.0396, 0.04).summary().splitlines()


def test_under_one_outside_the_tolerance_says_it_was_not_reached():
    lines = _report(0.03, 0.04, within=False).bound_lines()
    assert lines[-1] == "  (under 1.00x: the tolerance was not reached)"


def test_a_ratio_that_prints_as_one_has_no_note():
    assert len(_report(0.03996, 0.04).bound_lines()) == 2  # 0.999x prints as 1.00x


def test_compare_says_why_a_proposal_moved_less_than_the_bordering_bound():
    import numpy as np

    from workbench.compare import compare_plans
    from workbench.plan import Plan

    # W 20% over, M on target, E 20% under (as in test_balance_targets): the bordering bound is 10%;
    # moving one account of W to M moves 4% and leaves W outside the tolerance.
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(30)], "latitude": 40.0,
                             "longitude": -100.0 + 0.1 * np.arange(30),
                             "workload": [1.2] * 10 + [1.0] * 10 + [0.8] * 10})
    current = Plan.from_labels(accounts, ["W"] * 10 + ["M"] * 10 + ["E"] * 10, name="current")
    text = compare_plans(current, current.reassign(["a9"], "M")).moved_text()
    assert "10.0% only between bordering territories, moved 0.40x that (under 1.00x: the proposal is outside " \
           "the tolerance" in text
    more = compare_plans(current, current.reassign(["a8", "a9"], "M").reassign(["a18", "a19"], "E")).moved_text()
    assert "moved 1.47x that" in more and "under 1.00x" not in more


def test_several_metrics_add_the_joint_bound_line_and_keep_the_single_metric_lines():
    from dataclasses import replace

    lines = replace(_report(0.05, 0.04), joint_lower_bound_share=0.045).bound_lines()
    assert lines[:2] == _report(0.05, 0.04).bound_lines()
    assert lines[2] == ("lower bound (moves only between bordering territories, all balanced metrics): 4.5% of "
                        "workload; moved 1.11x that")


def test_compare_gives_the_joint_bound_with_several_metrics():
    import numpy as np

    from workbench.compare import compare_plans
    from workbench.plan import Plan

    # Two territories side by side, workload balanced, A with 60% of the revenue. Within 5%, A sends a share f of
    # its accounts and takes g of B's: workload 0.5 (1 - f + g) >= 0.475 and revenue 0.6 - 0.6 f + 0.4 g <= 0.525,
    # so at the least g = f - 0.05, f = 0.275 and a quarter of the workload moves (0.5 f + 0.5 g).
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(8)], "latitude": 40.0 + 0.1 * np.arange(8),
                             "longitude": -100.0, "workload": 1.0, "revenue": [1.5] * 4 + [1.0] * 4})
    current = Plan.from_labels(accounts, ["A"] * 4 + ["B"] * 4, name="current")
    proposed = current.reassign(["a0", "a1"], "B").reassign(["a4", "a5"], "A")
    text = compare_plans(current, proposed, metrics=["workload", "revenue"], joint_bound=True).moved_text()
    assert "25.0% only between bordering territories, every metric compared within at once, moved 2.00x that" in text
    single = compare_plans(current, proposed, metrics=["workload"], joint_bound=True).moved_text()
    assert "at once" not in single
    # Off by default (a linear program over the accounts): the two single-metric bounds only.
    default = compare_plans(current, proposed, metrics=["workload", "revenue"]).moved_text()
    assert "at once" not in default and "only between bordering territories" in default
