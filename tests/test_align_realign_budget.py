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


def _four_quadrants(seed=0, per=60):
    """Four territories on a 2 x 2 grid of quadrants; NW much overloaded, NE a little, the south light."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, lat, lon, w in [("T1", 41, -101, 1.6), ("T2", 41, -100, 1.2), ("T3", 40, -101, 0.6), ("T4", 40, -100, 0.6)]:
        for _ in range(per):
            rows.append((lat + rng.random() * 0.9, lon + rng.random() * 0.9, w * rng.uniform(0.8, 1.2), name))
    return pd.DataFrame(rows, columns=["latitude", "longitude", "workload", "current_territory"])


def test_a_budget_too_small_to_fill_new_territories_says_so_and_takes_from_the_most_overloaded():
    accounts = _four_quadrants()
    share = accounts["workload"] / accounts["workload"].sum()
    before = share.groupby(accounts["current_territory"]).sum()
    with pytest.warns(ToleranceWarning, match=r"disruption budget 5\.0% of workload cannot fill the new territories: "
                                              r"T5 holds \d+\.\d% and T6 \d+\.\d% of workload against a target of "
                                              r"16\.7% each; filling them to within 5\.0% moves at least 31\.7%"):
        model = Realignment(n_territories=6, max_moved_share=0.05).fit(accounts)
    r = model.report_
    assert r.opened == ("T5", "T6")
    assert r.moved_share <= 0.05 + 1e-9 and r.moved_share >= 0.04  # the budget is used, not exceeded
    after = share.groupby(pd.Series(model.labels_, index=accounts.index)).sum()
    assert after["T5"] > 0.01 and after["T6"] > 0.01  # both new territories get a share of it
    gave = before - after.reindex(before.index)
    assert (gave >= -1e-12).all()  # no current territory grows
    # The budget goes to the most overloaded: NW (T1) gives the most, and the light south gives nothing.
    assert gave["T1"] == gave.max() and gave["T1"] > gave["T2"]
    assert gave[["T3", "T4"]].max() <= gave["T1"] / 2
    assert any("cannot fill the new territories" in w for w in r.warnings)
    assert "cannot fill the new territories" in r.summary()


def test_a_budget_that_fills_new_territories_says_nothing_about_them():
    accounts = _four_quadrants()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToleranceWarning)
        model = Realignment(n_territories=5, max_moved_share=0.6).fit(accounts)
    assert not any("cannot fill" in w for w in model.report_.warnings)
