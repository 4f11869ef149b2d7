"""Realignment anchored at reps whose file maps each rep to a current territory id."""

import numpy as np
import pandas as pd
import pytest

from workbench.align import Realignment


def _accounts():
    rng = np.random.default_rng(3)
    west = pd.DataFrame({"latitude": 40 + rng.random(30), "longitude": -110 + rng.random(30)})
    east = pd.DataFrame({"latitude": 40 + rng.random(10), "longitude": -80 + rng.random(10)})
    accounts = pd.concat([west, east], ignore_index=True)
    accounts["account_id"] = [f"A{i:02d}" for i in range(40)]
    accounts["workload"] = 1.0
    # Today: 30 accounts in W, 10 in E; balance needs ten to move from W to E.
    accounts["current_territory"] = ["W"] * 30 + ["E"] * 10
    return accounts


def test_rep_ids_differ_from_territory_ids_and_the_current_ids_are_kept():
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["W", "E"],
                         "latitude": [40.5, 40.5], "longitude": [-109.5, -79.5]})
    model = Realignment(balance_on=["workload"], tolerance=0.05, current_col="current_territory")
    model.fit(_accounts(), reps=reps)
    assert set(model.labels_) == {"W", "E"}
    counts = pd.Series(model.labels_).value_counts()
    assert counts["W"] == counts["E"] == 20
    # The ten accounts that moved went from W to E; none of the E accounts moved.
    assert (model.labels_[30:] == "E").all()


def test_reps_named_by_their_own_ids_still_work():
    accounts = _accounts()
    accounts["current_territory"] = ["R1"] * 30 + ["R2"] * 10
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "latitude": [40.5, 40.5], "longitude": [-109.5, -79.5]})
    model = Realignment(balance_on=["workload"], tolerance=0.05, current_col="current_territory")
    model.fit(accounts, reps=reps)
    assert set(model.labels_) == {"R1", "R2"}


def test_the_summary_says_deviations_are_from_each_reps_target_only_when_targets_differ():
    from workbench.align.report import build_report

    accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0], "longitude": [0.0, 0.1, 0.0, 0.1],
                             "workload": [1.0, 1.0, 2.0, 2.0]})
    unequal = build_report(accounts, ["a", "a", "b", "b"], method="demo", balance_on=["workload"], tolerance=0.05,
                           targets=pd.Series([1 / 3, 2 / 3], index=["a", "b"]), warn=False)
    assert unequal.max_deviation == {"workload": pytest.approx(0.0)} and unequal.unequal_targets
    assert "deviations are from each territory's own target (its rep's capacity)" in unequal.summary()
    assert unequal.to_dict()["unequal_targets"] is True
    equal = build_report(accounts, ["a", "a", "b", "b"], method="demo", balance_on=["workload"], tolerance=0.05,
                         targets=pd.Series([0.5, 0.5], index=["a", "b"]), warn=False)
    assert not equal.unequal_targets and "own target" not in equal.summary()
    assert equal.max_deviation["workload"] == pytest.approx(1 / 3)
