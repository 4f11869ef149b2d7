"""workbench.align.frontier: one realignment per setting along one axis, and its table for people."""

import numpy as np
import pandas as pd
import pytest

from workbench.align import frontier as frontier_module
from workbench.align.frontier import DEFAULT_TOLERANCES, frontier_table, realignment_frontier
from workbench.errors import InputError

COLUMNS = ["tolerance", "move_penalty_km", "max_moved_share", "max_deviation_workload", "within_tolerance",
           "moved_share", "moved_accounts", "compactness_km", "lower_bound_share", "bordering_lower_bound_share",
           "seconds"]


def _line(n_a=8, n_b=2):
    """Ten equal accounts on a line, A holding the first ``n_a`` (A is 60% over the mean: 3 moves balance it)."""
    n = n_a + n_b
    return pd.DataFrame({"latitude": 40.0 + 0.1 * np.arange(n), "longitude": [-100.0] * n, "workload": 1.0,
                         "current_territory": ["A"] * n_a + ["B"] * n_b})


def _two_metrics():
    frame = _line()
    frame["revenue"] = [5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    return frame


@pytest.fixture
def runs(monkeypatch):
    """Count the realignments the frontier runs."""
    calls = []
    real = frontier_module._run

    def counting(accounts, reps, params):
        calls.append(params)
        return real(accounts, reps, params)

    monkeypatch.setattr(frontier_module, "_run", counting)
    return calls


def test_one_row_per_tolerance_each_within_it_and_moving_less_as_it_widens():
    table = realignment_frontier(_line(), tolerances=[0.05, 0.25, 0.45])
    assert table.columns.tolist() == COLUMNS
    assert table["tolerance"].tolist() == [0.05, 0.25, 0.45]
    assert table["within_tolerance"].all()
    assert (table["max_deviation_workload"] <= table["tolerance"] + 1e-9).all()
    # A 8 / B 2: 5% needs 3 moves (A 5 / B 5), 25% two (6 / 4), 45% one (7 / 3).
    assert table["moved_accounts"].tolist() == [3, 2, 1]
    assert table["moved_share"].tolist() == pytest.approx([0.3, 0.2, 0.1])
    assert table["max_deviation_workload"].tolist() == pytest.approx([0.0, 0.2, 0.4])
    assert table["max_moved_share"].isna().all()
    assert table["move_penalty_km"].nunique() == 1 and table["move_penalty_km"].iloc[0] > 0  # the default, fitted
    # The two floors: the plain one never above the bordering one, and no plan moves less than the latter.
    assert (table["lower_bound_share"] <= table["bordering_lower_bound_share"] + 1e-12).all()
    assert (table["moved_share"] >= table["bordering_lower_bound_share"] - 1e-9).all()


def test_without_an_axis_the_default_tolerances_are_tried(runs):
    table = realignment_frontier(_line())
    assert table["tolerance"].tolist() == list(DEFAULT_TOLERANCES)
    assert len(runs) == len(DEFAULT_TOLERANCES)


def test_one_row_per_move_penalty_at_the_tolerance_given():
    table = realignment_frontier(_line(), move_penalties_km=[0.0, 25.0, 400.0], tolerance=0.1)
    assert table["move_penalty_km"].tolist() == [0.0, 25.0, 400.0]
    assert (table["tolerance"] == 0.1).all() and table["max_moved_share"].isna().all()
    assert table["within_tolerance"].all()
    # A larger penalty never moves more workload.
    assert np.all(np.diff(table["moved_share"].to_numpy()) <= 1e-9)


def test_one_row_per_budget_and_each_budget_is_kept():
    budgets = [0.1, 0.2, 0.25, 0.3, 0.5]
    table = realignment_frontier(_line(), max_moved_shares=budgets)
    assert table["max_moved_share"].tolist() == budgets
    assert (table["moved_share"] <= table["max_moved_share"] + 1e-9).all()
    # Each budget buys the best balance it can: 1, 2, 2, 3 and 3 moves of equal accounts.
    assert table["moved_accounts"].tolist() == [1, 2, 2, 3, 3]
    assert table["max_deviation_workload"].tolist() == pytest.approx([0.4, 0.2, 0.2, 0.0, 0.0])
    assert table["within_tolerance"].tolist() == [False, False, False, True, True]


def test_a_column_of_max_deviation_per_balanced_metric():
    table = realignment_frontier(_two_metrics(), tolerances=[0.3], balance_on=["workload", "revenue"])
    assert [c for c in table.columns if c.startswith("max_deviation_")] == ["max_deviation_workload",
                                                                            "max_deviation_revenue"]
    row = table.iloc[0]
    assert row["within_tolerance"] == (max(row["max_deviation_workload"], row["max_deviation_revenue"]) <= 0.3 + 1e-9)


def test_the_same_inputs_give_the_same_table():
    a = realignment_frontier(_line(), tolerances=[0.05, 0.2]).drop(columns="seconds")
    b = realignment_frontier(_line(), tolerances=[0.05, 0.2]).drop(columns="seconds")
    pd.testing.assert_frame_equal(a, b)


def test_only_one_axis_at_a_time(runs):
    with pytest.raises(InputError, match=r"one axis of the frontier, not tolerances=, max_moved_shares="):
        realignment_frontier(_line(), tolerances=[0.05], max_moved_shares=[0.1])
    with pytest.raises(InputError, match=r"not move_penalties_km=, max_moved_shares="):
        realignment_frontier(_line(), move_penalties_km=[1.0], max_moved_shares=[0.1])
    assert runs == []


@pytest.mark.parametrize("kwargs, message", [
    ({"tolerances": 0.05}, r"tolerances must be a list of values to try, e\.g\. tolerances=\[0\.05, 0\.1\], got 0\.05"),
    ({"tolerances": "0.05"}, r"tolerances must be a list .* got '0\.05'"),
    ({"tolerances": []}, r"tolerances is empty: the frontier needs at least one tolerance"),
    ({"tolerances": [0.05, 5]}, r"tolerances\[1\] must be a share between 0 and 1 .*got 5 \(did you mean 0\.05\?\)"),
    ({"tolerances": [0.05, float("nan")]}, r"tolerances\[1\] must be a share"),
    ({"move_penalties_km": [10.0, -1.0]}, r"move_penalties_km\[1\] must be a distance in km, 0 or more, got -1\.0"),
    ({"move_penalties_km": ["far"]}, r"move_penalties_km\[0\] must be a distance in km, 0 or more, got 'far'"),
    ({"max_moved_shares": [0.1, 0]}, r"max_moved_shares\[1\] must be a share of the workload in \(0, 1\]"),
    ({"max_moved_shares": [1.5]}, r"max_moved_shares\[0\] must be a share of the workload .*got 1\.5"),
    ({"max_moved_shares": (0.1,), "max_moved_share": 0.2}, r"max_moved_share= is the axis of this frontier"),
    ({"tolerances": [0.05], "tolerance": 0.1}, r"tolerance= is the axis of this frontier .*drop tolerance="),
    ({"tolerances": [0.05], "tolerence": 0.1}, r"unknown Realignment parameters \['tolerence'\]; known: .*tolerance"),
])
def test_bad_settings_are_refused_before_any_run(runs, kwargs, message):
    with pytest.raises(InputError, match=message):
        realignment_frontier(_line(), **kwargs)
    assert runs == []


def test_bad_accounts_get_the_realignment_error():
    accounts = _line().drop(columns="current_territory")
    with pytest.raises(InputError, match="current_territory"):
        realignment_frontier(accounts, tolerances=[0.05])


def test_the_progress_bar_names_the_runs(capsys):
    realignment_frontier(_line(), tolerances=[0.05, 0.2], progress=True)
    err = capsys.readouterr().err
    # tqdm redraws at most every 0.1 s: the first state and the first run's name are always drawn, later ones not.
    assert "realignment frontier: 0/2" in err and "tolerance 0.05" in err
    realignment_frontier(_line(), tolerances=[0.05], progress=False)
    assert capsys.readouterr().err == ""


def test_the_table_for_people_formats_every_figure():
    frontier = realignment_frontier(_line(), tolerances=[0.05, 0.25])
    table = frontier_table(frontier, max_moved_share=0.25)
    assert table.columns.tolist() == ["tolerance", "max deviation (workload)", "within tolerance", "moved",
                                      "accounts moved", "floor (bordering)", "moved / floor", "compactness",
                                      "within budget"]
    assert table["tolerance"].tolist() == ["±5.0%", "±25.0%"]
    assert table["max deviation (workload)"].tolist() == ["0.0%", "20.0%"]
    assert table["moved"].tolist() == ["30.0%", "20.0%"]
    assert table["accounts moved"].tolist() == ["3", "2"]
    assert table["within tolerance"].tolist() == ["yes", "yes"]
    assert table["within budget"].tolist() == ["no", "yes"]
    assert all(text.endswith(" km") for text in table["compactness"])
    assert all(text.endswith("x") for text in table["moved / floor"])
    # No raw floats reach a person.
    assert all(isinstance(value, str) for value in table.to_numpy().ravel())


def test_the_table_names_the_axis_varied_and_thousands_get_separators():
    frontier = pd.DataFrame({"tolerance": [0.05, 0.05], "move_penalty_km": [0.0, 1250.0],
                             "max_moved_share": [None, None], "max_deviation_workload": [0.05, 0.04],
                             "within_tolerance": [True, False], "moved_share": [0.2, 0.1],
                             "moved_accounts": [12345, 0], "compactness_km": [1234.56, 99.0],
                             "lower_bound_share": [0.0, 0.0], "bordering_lower_bound_share": [0.1, 0.0],
                             "seconds": [1.0, 1.0]})
    table = frontier_table(frontier)
    assert table.columns[0] == "move penalty" and "within budget" not in table.columns
    assert table["move penalty"].tolist() == ["0.0 km", "1,250.0 km"]
    assert table["accounts moved"].tolist() == ["12,345", "0"]
    assert table["compactness"].tolist() == ["1,234.6 km", "99.0 km"]
    assert table["moved / floor"].tolist() == ["2.00x", "-"]  # no floor: no ratio
    assert table["within tolerance"].tolist() == ["yes", "no"]
    budgets = frontier.assign(max_moved_share=[0.2, 0.1])
    assert frontier_table(budgets).columns[0] == "budget"
    assert frontier_table(budgets)["budget"].tolist() == ["20.0%", "10.0%"]


def test_the_table_refuses_what_is_not_a_frontier():
    with pytest.raises(InputError, match="frontier_table takes the DataFrame realignment_frontier returns"):
        frontier_table(pd.DataFrame({"a": [1]}))
    with pytest.raises(InputError, match=r"max_moved_share must be a share of the workload in \(0, 1\]"):
        frontier_table(realignment_frontier(_line(), tolerances=[0.05]), max_moved_share=5)
