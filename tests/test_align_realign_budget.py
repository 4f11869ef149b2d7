"""Realignment with an explicit disruption budget (max_moved_share)."""

import pandas as pd
import pytest

from workbench.align import Realignment, ToleranceWarning
from workbench.errors import InputError


def _accounts():
    # A holds 3 of 4 equal accounts: reaching 5% needs one account (25% of the workload) to move.
    return pd.DataFrame({"latitude": [40.0, 40.1, 40.2, 40.3], "longitude": [-100.0] * 4,
                         "workload": [1.0, 1.0, 1.0, 1.0], "current_territory": ["A", "A", "A", "B"]})


def test_a_budget_that_allows_the_moves_changes_nothing():
    model = Realignment(max_moved_share=0.3).fit(_accounts())
    assert model.labels_.tolist() == ["A", "A", "B", "B"]
    assert model.report_.moved_share == pytest.approx(0.25)
    assert not any("disruption budget" in w for w in model.report_.warnings)


def test_a_tight_budget_widens_the_tolerance_and_says_so():
    accounts = pd.DataFrame({"latitude": [40.0, 40.1, 40.2, 40.3, 40.4, 40.5], "longitude": [-100.0] * 6,
                             "workload": [1.0] * 6, "current_territory": ["A", "A", "A", "A", "B", "B"]})
    # A 4, B 2: A is 33% over the mean; balance needs one account (17% of the workload) to move.
    with pytest.warns(ToleranceWarning, match=r"disruption budget 10\.0% of workload: kept tolerance 37\.3%"):
        model = Realignment(max_moved_share=0.1).fit(accounts)
    assert model.labels_.tolist() == ["A", "A", "A", "A", "B", "B"]
    assert model.report_.moved_share == 0.0
    assert any("asked 5.0%" in w for w in model.report_.warnings)


def test_a_budget_that_no_tolerance_can_keep_is_reported():
    with pytest.warns(ToleranceWarning, match=r"disruption budget 10\.0% of workload cannot be kept: even at "
                                              r"tolerance 50\.0% the realignment moves 25\.0%"):
        model = Realignment(max_moved_share=0.1).fit(_accounts())
    assert model.report_.moved_share == pytest.approx(0.25)


@pytest.mark.parametrize("budget", [0, -0.1, 1.5, "10%"])
def test_a_budget_outside_zero_to_one_is_refused(budget):
    with pytest.raises(InputError, match=r"max_moved_share must be a share in \(0, 1\]"):
        Realignment(max_moved_share=budget).fit(_accounts())
