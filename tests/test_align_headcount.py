"""Headcount changes in a realignment: territories opened, closed (chosen or named), new hires from reps."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.align import Realignment
from workbench.align.headcount import (closing_adjacency, closures_that_disrupt_least, new_territory_ids,
                                      opening_adjacency)
from workbench.errors import InputError


def _grid(n_side=4, per_cell=12, seed=0):
    """``n_side`` x ``n_side`` current territories (T01..), each a square of accounts of equal workload."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            for _ in range(per_cell):
                rows.append((40 + i + rng.random() * 0.9, -100 + j + rng.random() * 0.9, f"T{i * n_side + j + 1:02d}"))
    frame = pd.DataFrame(rows, columns=["latitude", "longitude", "current_territory"])
    frame["account_id"] = [f"A{i:04d}" for i in range(len(frame))]
    frame["workload"] = 1.0
    return frame


def _fit(accounts, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Realignment(**kwargs).fit(accounts)


def test_new_ids_follow_the_current_scheme():
    assert new_territory_ids([f"T{i:02d}" for i in range(1, 41)], 3) == ["T41", "T42", "T43"]
    assert new_territory_ids(["T1", "T2", "T10"], 1) == ["T11"]
    assert new_territory_ids(["R-001", "R-017"], 1) == ["R-018"]
    assert new_territory_ids(["north", "south", "NEW1"], 1) == ["NEW2"]


def test_more_territories_open_new_ones_where_the_excess_is():
    accounts = _grid()
    # the north-east corner grew: its four territories hold twice the workload
    corner = accounts["current_territory"].isin(["T11", "T12", "T15", "T16"])
    accounts.loc[corner, "workload"] = 2.0
    model = _fit(accounts, n_territories=18, tolerance=0.1)
    labels = pd.Series(model.labels_)
    assert set(labels) == {f"T{i:02d}" for i in range(1, 19)}
    assert model.report_.opened == ("T17", "T18") and model.report_.closed == ()
    assert model.report_.within_tolerance
    # the new territories were opened in the grown corner
    new = accounts[labels.isin(["T17", "T18"]).to_numpy()]
    assert new["latitude"].mean() > 41.5 and new["longitude"].mean() > -98.5
    assert model.report_.moved_share >= model.report_.bordering_lower_bound_share - 1e-9 > 0


def test_fewer_territories_close_the_least_disruptive_ones_and_keep_every_other_id():
    accounts = _grid()
    light = accounts["current_territory"] == "T06"
    accounts.loc[light, "workload"] = 0.2  # T06 is nearly empty: closing it disrupts least
    model = _fit(accounts, n_territories=15)
    labels = pd.Series(model.labels_)
    assert model.report_.closed == ("T06",)
    assert set(labels) == {f"T{i:02d}" for i in range(1, 17)} - {"T06"}
    assert model.report_.within_tolerance
    # accounts of other territories stay where they were or go to a bordering territory
    assert (labels[light.to_numpy()] != "T06").all()


def test_named_closures_close_exactly_those():
    accounts = _grid()
    model = _fit(accounts, close=["T01", "T16"], tolerance=0.1)  # 192 unit accounts in 14: 5% is out of reach
    assert set(model.labels_) == {f"T{i:02d}" for i in range(2, 16)}
    assert model.report_.closed == ("T01", "T16")
    assert model.report_.within_tolerance


def test_close_and_open_together():
    model = _fit(_grid(), n_territories=16, close=["T07"])
    assert model.report_.closed == ("T07",) and model.report_.opened == ("T17",)
    assert set(model.labels_) == ({f"T{i:02d}" for i in range(1, 18)} - {"T07"})


def test_reps_hire_and_leave():
    accounts = _grid(2, 20)
    reps = pd.DataFrame({"rep_id": ["ann", "bob", "cy", "dee", "eve"],
                         "territory_id": ["T01", "T02", "T03", None, None],
                         "latitude": [40.5, 40.5, 41.5, 41.3, 41.7], "longitude": [-99.5, -98.5, -99.5, -98.7, -98.3]})
    # T04's rep left (not in the file); dee and eve are new hires in T04's corner
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Realignment(n_territories=5).fit(accounts, reps=reps)
    assert set(model.labels_) == {"T01", "T02", "T03", "T05", "T06"}
    assert model.report_.closed == ("T04",) and model.report_.opened == ("T05", "T06")
    assert model.report_.within_tolerance
    # reps_ names who serves each territory, new hires included (a saved plan records them)
    assert model.reps_["territory_id"].tolist() == ["T01", "T02", "T03", "T05", "T06"]
    assert model.reps_["rep_id"].tolist() == ["ann", "bob", "cy", "dee", "eve"] and reps["territory_id"].isna().sum() == 2


def test_reps_named_by_rep_ids_hire_with_their_own_ids():
    accounts = _grid(2, 20)
    accounts["current_territory"] = accounts["current_territory"].map({"T01": "R1", "T02": "R2", "T03": "R3",
                                                                       "T04": "R4"})
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4", "R9"], "latitude": [40.5, 40.5, 41.5, 41.5, 41.0],
                         "longitude": [-99.5, -98.5, -99.5, -98.5, -99.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Realignment().fit(accounts, reps=reps)
    assert set(model.labels_) == {"R1", "R2", "R3", "R4", "R9"} and model.report_.opened == ("R9",)


def test_locked_accounts_block_a_closure_with_a_clear_message():
    accounts = _grid()
    accounts["locked"] = accounts["current_territory"] == "T03"
    with pytest.raises(InputError, match=r"locked accounts .* are in closing territories \['T03'\]"):
        Realignment(close=["T03"], lock_col="locked").fit(accounts)


def test_bad_closures_are_refused():
    accounts = _grid(2, 5)
    with pytest.raises(InputError, match=r"close=\['T99'\] names territories that are not current"):
        Realignment(close=["T99"]).fit(accounts)
    with pytest.raises(InputError, match="would close every territory"):
        Realignment(close=["T01", "T02", "T03", "T04"]).fit(accounts)


def test_closure_choice_is_the_least_bordering_movement():
    line = np.eye(4, k=1, dtype=bool) | np.eye(4, k=-1, dtype=bool)
    load = np.array([0.3, 0.1, 0.3, 0.3])

    def bound(is_open):
        return np.where(is_open, 1 / is_open.sum(), 0.0)

    assert closures_that_disrupt_least(load, bound, bound, line, 1, allowed=np.ones(4, bool)) == [1]
    assert closures_that_disrupt_least(load, bound, bound, line, 1, allowed=np.array([1, 0, 1, 1], bool)) != [1]


def test_opening_graph_borders_the_seed_territory_and_its_neighbours():
    line = np.eye(5, k=1, dtype=bool) | np.eye(5, k=-1, dtype=bool)
    line[3, 4] = line[4, 3] = False  # 4 is new, still without a border
    graph = opening_adjacency(line, [4], [3])
    assert np.flatnonzero(graph[4]).tolist() == [2, 3] and graph[2, 4] and graph[3, 4]
    assert (graph[:4, :4] == line[:4, :4]).all()  # today's borders unchanged


def _line(seed=0):
    """Three territories west to east, P (60% of the workload), Q (20%) and R (20%); P borders Q only."""
    rng = np.random.default_rng(seed)
    parts = [("P", -100.0, 3.0, 30, 2.0), ("Q", -97.0, 1.0, 40, 0.5), ("R", -96.0, 2.0, 20, 1.0)]
    frames = [pd.DataFrame({"latitude": 40 + rng.random(n) * 0.9, "longitude": west + rng.random(n) * width,
                            "current_territory": t, "workload": load}) for t, west, width, n, load in parts]
    frame = pd.concat(frames, ignore_index=True)
    frame["account_id"] = [f"A{i:03d}" for i in range(len(frame))]
    return frame


def test_closing_graph_joins_the_territories_around_a_closing_one():
    line = np.eye(4, k=1, dtype=bool) | np.eye(4, k=-1, dtype=bool)
    graph = closing_adjacency(line, np.array([False, True, False, False]))
    assert graph[0, 2] and graph[2, 0] and graph[0, 1]  # 0 and 2 meet where 1 was; 1's accounts still leave
    assert not graph[0, 3] and not graph.diagonal().any()
    assert (closing_adjacency(line, []) == line).all()


def test_an_overloaded_territory_behind_a_closing_one_sheds_load_past_it():
    # Closing Q leaves P (60%) with no open neighbour on today's graph; once Q's accounts go, P borders R.
    accounts = _line()
    model = _fit(accounts, close=["Q"], tolerance=0.1, random_state=0)
    labels = pd.Series(model.labels_)
    assert set(labels) == {"P", "R"} and model.report_.within_tolerance
    load = accounts["workload"].groupby(labels.to_numpy()).sum() / accounts["workload"].sum()
    assert (abs(load / 0.5 - 1) <= 0.1 + 1e-9).all()
    moved = ((labels != accounts["current_territory"]) * accounts["workload"]).sum() / accounts["workload"].sum()
    # The least that can move: all of Q's 20% and P's 5% above its band (55%); accounts of P hold 2% each.
    assert model.report_.bordering_lower_bound_share == pytest.approx(0.25)
    assert 0.25 - 1e-9 <= moved <= 0.27 + 1e-9


def _drifted(seed, n_side, per_cell):
    """A ``n_side`` x ``n_side`` grid of territories whose workloads drifted at random (up to 2x)."""
    rng = np.random.default_rng(seed)
    accounts = _grid(n_side, per_cell, seed)
    growth = pd.Series(1 + rng.random(n_side * n_side), index=sorted(accounts["current_territory"].unique()))
    accounts["workload"] = rng.uniform(0.5, 1.5, len(accounts)) * growth[accounts["current_territory"]].to_numpy()
    return accounts


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_side=st.integers(2, 3), change=st.integers(-2, 2),
       tolerance=st.sampled_from([0.1, 0.2]))
def test_bordering_bound_never_exceeds_what_moves(seed, n_side, change, tolerance):
    """Same, more and fewer territories: the bound is a lower bound of the plan returned (when within tolerance)."""
    accounts = _drifted(seed, n_side, 30)
    today = sorted(accounts["current_territory"].unique())
    wanted = len(today) + change
    model = _fit(accounts, n_territories=wanted, tolerance=tolerance)
    report = model.report_
    labels = pd.Series(model.labels_)
    assert len(labels) == len(accounts) and labels.notna().all()
    assert len(report.opened) == max(change, 0) and len(report.closed) == max(-change, 0)
    assert set(labels) == (set(today) - set(report.closed)) | set(report.opened)
    assert set(report.closed) <= set(today) and not set(report.opened) & set(today)
    assert report.within_tolerance
    assert report.lower_bound_share <= report.bordering_lower_bound_share + 1e-12
    assert report.bordering_lower_bound_share <= report.moved_share + 1e-9
