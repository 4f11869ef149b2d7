"""Realignment with an explicit disruption budget (max_moved_share): kept exactly, best balance within it."""

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.align import Realignment, ToleranceWarning
from workbench.metrics import max_deviation
from workbench.errors import InputError


def _accounts():
    # A holds 3 of 4 equal accounts: reaching 5% needs one account (25% of the workload) to move.
    return pd.DataFrame({"latitude": [40.0, 40.1, 40.2, 40.3], "longitude": [-100.0] * 4,
                         "workload": [1.0, 1.0, 1.0, 1.0], "current_territory": ["A", "A", "A", "B"]})


def _line(n_a=8, n_b=2):
    """Ten equal accounts on a line, A holding the first ``n_a``."""
    n = n_a + n_b
    return pd.DataFrame({"latitude": 40.0 + 0.1 * np.arange(n), "longitude": [-100.0] * n, "workload": 1.0,
                         "current_territory": ["A"] * n_a + ["B"] * n_b})


def test_a_budget_that_allows_the_moves_changes_nothing():
    model = Realignment(max_moved_share=0.3).fit(_accounts())
    assert model.labels_.tolist() == ["A", "A", "B", "B"]
    assert model.report_.moved_share == pytest.approx(0.25)
    assert not any("disruption budget" in w for w in model.report_.warnings)


def test_the_budget_is_spent_exactly_and_the_best_balance_within_it_is_kept():
    # A 8, B 2 (A 60% over): balance needs 3 moves (30%); a 20% budget moves exactly two, the two
    # A accounts next to B, leaving A 6 / B 4 (20% off), the best two moves can do.
    with pytest.warns(ToleranceWarning, match=r"disruption budget 20\.0% of workload kept \(moved 20\.0%\): the "
                                              r"best balance within it is a max deviation of workload 20\.0%"):
        model = Realignment(max_moved_share=0.2).fit(_line())
    assert model.labels_.tolist() == ["A"] * 6 + ["B"] * 4
    assert model.report_.moved_share == pytest.approx(0.2)
    assert model.report_.max_deviation["workload"] == pytest.approx(0.2)


def test_a_budget_smaller_than_any_account_moves_nothing_and_says_so():
    with pytest.warns(ToleranceWarning, match=r"disruption budget 10\.0% of workload kept \(moved 0\.0%\)"):
        model = Realignment(max_moved_share=0.1).fit(_accounts())
    assert model.labels_.tolist() == ["A", "A", "A", "B"]
    assert model.report_.moved_share == 0.0


@pytest.mark.parametrize("budget", [0.05, 0.1, 0.15, 0.25])
def test_the_budget_is_never_exceeded(budget):
    rng = np.random.default_rng(1)
    n = 120
    accounts = pd.DataFrame({"latitude": rng.uniform(39, 41, n), "longitude": rng.uniform(-101, -99, n),
                             "workload": rng.lognormal(0, 0.6, n)})
    accounts["current_territory"] = np.where(accounts["longitude"] < -99.6, "W", "E")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToleranceWarning)
        model = Realignment(max_moved_share=budget).fit(accounts)
    assert model.report_.moved_share <= budget + 1e-9
    before = max_deviation(accounts, accounts["current_territory"], ["workload"])["workload"]
    assert model.report_.max_deviation["workload"] < before


@pytest.mark.parametrize("budget", [0, -0.1, 1.5, "10%"])
def test_a_budget_outside_zero_to_one_is_refused(budget):
    with pytest.raises(InputError, match=r"max_moved_share \(CLI: --max-moved\) must be a share of the workload in \(0, 1\]"):
        Realignment(max_moved_share=budget).fit(_accounts())
