"""Utilisation, reps needed and where to hire, on grids whose answers can be seen by eye."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.capacity import (
    assess_capacity, count_reps_needed, headcount_reps, realign_headcount, rep_utilisation, suggest_hires,
    team_utilisation,
)
from workbench.errors import InputError
from workbench.geo import great_circle_km

# Four square territories on a 1-degree grid, a rep at the centre of each, 1,000 h each.
#   NW (0..1, 1..2)  NE (1..2, 1..2)
#   SW (0..1, 0..1)  SE (1..2, 0..1)
QUADRANTS = {"SW": (0.5, 0.5), "SE": (0.5, 1.5), "NW": (1.5, 0.5), "NE": (1.5, 1.5)}


def grid(hours: dict[str, float], per_side: int = 5) -> pd.DataFrame:
    """``per_side**2`` accounts spread evenly over each quadrant, ``hours[q]`` of workload in total."""
    rows = []
    offsets = (np.arange(per_side) + 0.5) / per_side - 0.5
    for quadrant, (lat, lon) in QUADRANTS.items():
        for dy in offsets:
            for dx in offsets:
                rows.append({"account_id": f"{quadrant}{len(rows)}", "latitude": lat + dy, "longitude": lon + dx,
                             "workload": hours[quadrant] / per_side**2, "current_territory": quadrant})
    return pd.DataFrame(rows)


def reps_at_centres(capacity: float = 1000.0) -> pd.DataFrame:
    return pd.DataFrame({"rep_id": [f"R_{q}" for q in QUADRANTS], "name": list(QUADRANTS),
                         "territory_id": list(QUADRANTS), "latitude": [c[0] for c in QUADRANTS.values()],
                         "longitude": [c[1] for c in QUADRANTS.values()], "capacity_hours": capacity})


def quadrant_of(lat: float, lon: float) -> str:
    return ("N" if lat > 1 else "S") + ("E" if lon > 1 else "W")


# --------------------------------------------------------------------------- utilisation

def test_utilisation_per_rep_and_team_totals():
    accounts = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 1600})
    table = rep_utilisation(accounts, accounts["current_territory"], reps_at_centres())
    by_rep = table.set_index("rep_id")
    assert by_rep["workload"].round(6).to_dict() == {"R_SW": 800.0, "R_SE": 800.0, "R_NW": 800.0, "R_NE": 1600.0}
    assert by_rep.at["R_NE", "utilisation"] == pytest.approx(1.6)
    assert by_rep.at["R_SW", "utilisation"] == pytest.approx(0.8)
    assert by_rep.at["R_NE", "spare_hours"] == pytest.approx(-600.0)
    assert by_rep["status"].to_dict() == {"R_SW": "on target", "R_SE": "on target", "R_NW": "on target",
                                          "R_NE": "over"}
    assert by_rep["accounts"].tolist() == [25, 25, 25, 25]
    team = team_utilisation(table)
    assert team["workload"] == pytest.approx(4000.0) and team["capacity_hours"] == 4000.0
    assert team["utilisation"] == pytest.approx(1.0)
    assert (team["over"], team["on_target"], team["under"]) == (1, 3, 0)


def test_utilisation_status_band_and_territory_without_rep():
    accounts = grid({"SW": 500, "SE": 800, "NW": 950, "NE": 300})
    reps = reps_at_centres().iloc[:3]  # nobody covers NE
    table = rep_utilisation(accounts, accounts["current_territory"], reps, target=0.85, band=0.10)
    assert table["status"].tolist() == ["under", "on target", "on target", "no rep"]
    assert table["territory_id"].tolist() == ["SW", "SE", "NW", "NE"]
    assert pd.isna(table["rep_id"].iloc[3]) and np.isnan(table["utilisation"].iloc[3])
    team = team_utilisation(table)
    assert team["territories_without_rep"] == ["NE"]
    assert team["workload"] == pytest.approx(2550.0) and team["capacity_hours"] == 3000.0


def test_rep_without_accounts_has_zero_utilisation():
    accounts = grid({"SW": 500, "SE": 500, "NW": 500, "NE": 500})
    reps = pd.concat([reps_at_centres(), pd.DataFrame({"rep_id": ["R_X"], "territory_id": ["EMPTY"],
                                                        "latitude": [1.0], "longitude": [1.0],
                                                        "capacity_hours": [1000.0]})], ignore_index=True)
    table = rep_utilisation(accounts, accounts["current_territory"], reps)
    row = table.set_index("rep_id").loc["R_X"]
    assert (row["workload"], row["utilisation"], row["accounts"], row["status"]) == (0.0, 0.0, 0, "under")


@pytest.mark.parametrize("reps, match", [
    (reps_at_centres().drop(columns="capacity_hours"), "no 'capacity_hours' column"),
    (reps_at_centres().assign(capacity_hours=[1000, None, 1000, 1000]), r"must be positive numbers; reps \['R_SE'\] have"),
    (reps_at_centres().assign(capacity_hours=[1000, 0, 1000, 1000]), "positive number"),
    (reps_at_centres().assign(territory_id=["SW", "SW", "NW", "NE"]), r"territories \['SW'\] have more than one rep"),
    (reps_at_centres().drop(columns="territory_id"), r"none of the reps' territories \(e.g. \['R_NE'"),
])
def test_bad_reps_are_refused_with_the_fix(reps, match):
    accounts = grid({"SW": 500, "SE": 500, "NW": 500, "NE": 500})
    with pytest.raises(InputError, match=match):
        rep_utilisation(accounts, accounts["current_territory"], reps)


@pytest.mark.parametrize("target", [0, 1.5, 85, -0.1, float("nan"), True, "0.85"])
def test_bad_target_is_refused(target):
    accounts = grid({"SW": 500, "SE": 500, "NW": 500, "NE": 500})
    with pytest.raises(InputError, match=r"share of the reps' hours in \(0, 1\]"):
        rep_utilisation(accounts, accounts["current_territory"], reps_at_centres(), target=target)


def test_negative_or_missing_workload_is_refused():
    accounts = grid({"SW": 500, "SE": 500, "NW": 500, "NE": 500})
    accounts.loc[3, "workload"] = -1.0
    with pytest.raises(InputError, match=r"'workload' must hold hours >= 0; the rows with index \[3\]"):
        rep_utilisation(accounts, accounts["current_territory"], reps_at_centres())
    with pytest.raises(InputError, match="no 'hours' column"):
        rep_utilisation(accounts, accounts["current_territory"], reps_at_centres(), workload_col="hours")


# --------------------------------------------------------------------------- reps needed

@pytest.mark.parametrize("workload, capacities, target, new, expected", [
    (3400.0, [1000.0] * 4, 0.85, None, 4),      # exactly 85% of 4,000 h
    (3400.1, [1000.0] * 4, 0.85, None, 5),      # a hair more: one hire
    (4000.0, [1000.0] * 4, 0.85, None, 5),      # 600 h over / 850 h per new rep -> 1
    (4300.0, [1000.0] * 4, 0.85, None, 6),      # 900 h over -> 2
    (4300.0, [1000.0] * 4, 0.85, 2000.0, 5),    # a new rep of 2,000 h covers 1,700 h at 85%
    (1700.0, [1000.0] * 4, 0.85, None, 2),      # overstaffed: 1,700 / 850 = 2
    (1.0, [1000.0] * 4, 0.85, None, 1),         # never fewer than one rep for some workload
    (0.0, [1000.0] * 4, 0.85, None, 0),
    (3000.0, [1000.0] * 4, 1.0, None, 3),
])
def test_count_reps_needed(workload, capacities, target, new, expected):
    assert count_reps_needed(workload, capacities, target, new) == expected


def test_count_reps_needed_without_reps_needs_a_new_rep_capacity():
    assert count_reps_needed(1700.0, [], 0.85, 1000.0) == 2
    with pytest.raises(InputError, match="new_rep_capacity"):
        count_reps_needed(1700.0, [], 0.85)


# --------------------------------------------------------------------------- where to hire

def test_growth_in_one_corner_puts_the_hire_there():
    accounts = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 1600})
    result = assess_capacity(accounts, reps_at_centres(), target=0.85)
    # 4,000 h at 85% of 1,000 h per rep: 4.7 -> 5 reps, one hire.
    assert result.reps_needed == 5 and result.change == 1
    assert len(result.hires) == 1
    hire = result.hires.iloc[0]
    assert quadrant_of(hire["latitude"], hire["longitude"]) == "NE"
    assert list(hire["from_territories"])[0] == "NE"
    assert hire["from_territories"]["NE"] >= 0.9 * hire["workload"]
    # The NE rep keeps 85% of their hours (850 h); the hire takes the rest of NE's 1,600 h.
    assert hire["workload"] == pytest.approx(1600 - 850, abs=1.0)
    assert hire["rep_id"] == "NEW01" and hire["capacity_hours"] == 1000.0


def test_two_growth_corners_get_one_hire_each():
    accounts = grid({"SW": 1600, "SE": 700, "NW": 700, "NE": 1600})
    result = assess_capacity(accounts, reps_at_centres(), target=0.85)
    assert result.reps_needed == 6  # 4,600 h: 1,200 h over 3,400 -> 2 hires
    corners = sorted(quadrant_of(h.latitude, h.longitude) for h in result.hires.itertuples())
    assert corners == ["NE", "SW"]
    for hire in result.hires.itertuples():
        assert list(hire.from_territories)[0] == quadrant_of(hire.latitude, hire.longitude)


def test_hire_is_placed_near_the_mass_not_in_the_middle():
    # All of NE's extra workload sits in its far corner: the hire goes there, away from the NE rep.
    accounts = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 800})
    extra = pd.DataFrame({"account_id": [f"X{i}" for i in range(9)], "latitude": 1.9 + 0.01 * np.arange(9) % 0.05,
                          "longitude": 1.9 + 0.01 * (np.arange(9) // 3), "workload": 100.0,
                          "current_territory": "NE"})
    accounts = pd.concat([accounts, extra], ignore_index=True)
    hires = suggest_hires(accounts, accounts["current_territory"], reps_at_centres(), 1)
    km_to_corner = great_circle_km(hires.at[0, "latitude"], hires.at[0, "longitude"], 1.92, 1.91)
    km_to_rep = great_circle_km(hires.at[0, "latitude"], hires.at[0, "longitude"], 1.5, 1.5)
    assert km_to_corner < 15 < km_to_rep


def test_overstaffed_team_needs_no_hire_and_names_the_least_utilised():
    accounts = grid({"SW": 300, "SE": 500, "NW": 450, "NE": 400})
    result = assess_capacity(accounts, reps_at_centres(), target=0.85)
    assert result.reps_needed == 2 and result.change == -2  # 1,650 h / 850 h -> 2 reps
    assert result.hires.empty and list(result.hires.columns)[:3] == ["rep_id", "latitude", "longitude"]
    assert result.surplus_territories == ["SW", "NE"]


def test_fewer_hires_than_needed_share_the_load_evenly():
    accounts = grid({"SW": 1000, "SE": 1000, "NW": 1000, "NE": 2000})
    hires = suggest_hires(accounts, accounts["current_territory"], reps_at_centres(), 1, target=0.85)
    # 5,000 h on 5 reps of 1,000 h: everyone at 100%, the hire included.
    assert hires.at[0, "utilisation"] == pytest.approx(1.0, abs=1e-3)
    assert quadrant_of(hires.at[0, "latitude"], hires.at[0, "longitude"]) == "NE"


def test_suggest_hires_is_deterministic_and_zero_hires_is_empty():
    accounts = grid({"SW": 1600, "SE": 700, "NW": 700, "NE": 1600})
    first = suggest_hires(accounts, accounts["current_territory"], reps_at_centres(), 2)
    again = suggest_hires(accounts.sample(frac=1.0, random_state=0).reset_index(drop=True),
                          accounts.sample(frac=1.0, random_state=0)["current_territory"].to_numpy(),
                          reps_at_centres(), 2)
    assert first[["latitude", "longitude", "workload"]].round(3).equals(again[["latitude", "longitude", "workload"]].round(3))
    assert suggest_hires(accounts, accounts["current_territory"], reps_at_centres(), 0).empty
    with pytest.raises(InputError, match="n_hires must be a whole number"):
        suggest_hires(accounts, accounts["current_territory"], reps_at_centres(), -1)


def test_to_dict_has_the_cli_contract_keys_and_types():
    accounts = grid({"SW": 1600, "SE": 700, "NW": 700, "NE": 1600})
    data = json.loads(json.dumps(assess_capacity(accounts, reps_at_centres()).to_dict()))
    assert isinstance(data["reps_needed"], int) and data["reps_needed"] == 6
    assert isinstance(data["utilisation"], float) and data["utilisation"] == pytest.approx(1.15)
    assert [r["rep_id"] for r in data["reps"]] == ["R_SW", "R_SE", "R_NW", "R_NE"]
    for rep in data["reps"]:
        assert {"rep_id", "territory_id", "workload", "capacity_hours", "utilisation"} <= set(rep)
        assert isinstance(rep["workload"], float) and isinstance(rep["utilisation"], float)
    assert len(data["hires"]) == data["reps_needed"] - len(data["reps"]) == 2
    for hire in data["hires"]:
        assert {"latitude", "longitude", "workload", "from_territories"} <= set(hire)
        assert isinstance(hire["from_territories"], dict)
        assert sum(hire["from_territories"].values()) == pytest.approx(hire["workload"], abs=0.5)


# --------------------------------------------------------------------------- hand-off to the realignment

def test_headcount_reps_add_hires_without_territory_and_drop_surplus():
    growth = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 1600})
    team = headcount_reps(reps_at_centres(), assess_capacity(growth, reps_at_centres()))
    assert team["rep_id"].tolist() == ["R_SW", "R_SE", "R_NW", "R_NE", "NEW01"]
    assert team["territory_id"].tolist()[:4] == ["SW", "SE", "NW", "NE"] and team["territory_id"].iloc[4] is None
    assert team["capacity_hours"].iloc[4] == 1000.0 and team["name"].iloc[4] == "New rep NEW01"
    quiet = grid({"SW": 300, "SE": 500, "NW": 450, "NE": 400})
    team = headcount_reps(reps_at_centres(), assess_capacity(quiet, reps_at_centres()))
    assert team["rep_id"].tolist() == ["R_SE", "R_NW"]  # SW and NE were the least utilised


def test_realign_headcount_opens_the_hire_territory_in_the_growth_corner():
    accounts = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 1600}, per_side=6)
    assessment = assess_capacity(accounts, reps_at_centres())
    plan, model = realign_headcount(accounts, reps_at_centres(), assessment, return_model=True, tolerance=0.10)
    assert len(plan.territories) == 5 and len(model.opened_) == 1
    new_id = model.opened_[0]
    assert plan.territories.at[new_id, "rep_id"] == "NEW01"
    labels = pd.Series(plan.labels, index=accounts.index)
    taken = accounts.loc[labels == new_id, "current_territory"]
    assert len(taken) and taken.value_counts().index[0] == "NE"  # the hire takes over NE's accounts
    after = rep_utilisation(accounts, plan.labels, headcount_reps(reps_at_centres(), assessment).assign(
        territory_id=lambda f: f["territory_id"].fillna(new_id)))
    # 4,000 h on 5 reps of 1,000 h: everyone near 80%, the NE rep no longer at 160%.
    assert after["utilisation"].max() < 0.95 and after["utilisation"].min() > 0.65
    assert plan.metadata.method == "headcount_realignment" and list(plan.metadata.parameters["hires"]) == ["NEW01"]


def test_realign_headcount_closes_the_surplus_territories():
    accounts = grid({"SW": 300, "SE": 500, "NW": 450, "NE": 400}, per_side=6)
    assessment = assess_capacity(accounts, reps_at_centres())
    plan = realign_headcount(accounts, reps_at_centres(), assessment, tolerance=0.10)
    assert sorted(plan.territories.index) == ["NW", "SE"]
    assert set(plan.labels) == {"NW", "SE"} and plan.assignments.notna().all()
