"""Market gaps on a strip of blocks whose answers can be worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from workbench.errors import InputError
from workbench.gaps import (
    GAP_COLUMNS, OUTSIDE, assign_blocks, block_gaps, nearest_rep_km, territory_gaps, uncovered_accounts,
)
from workbench.geo import great_circle_km

# Three 1-degree blocks on the equator, W (lon 0..1), M (1..2), E (2..3); one rep at lon 0.5.
BLOCKS = gpd.GeoDataFrame({"block_id": ["W", "M", "E"], "name": ["West", "Middle", "East"]},
                          geometry=[box(0, -0.5, 1, 0.5), box(1, -0.5, 2, 0.5), box(2, -0.5, 3, 0.5)],
                          crs="EPSG:4326")
REPS = pd.DataFrame({"rep_id": ["R1"], "territory_id": ["T1"], "latitude": [0.0], "longitude": [0.5]})
KM_PER_DEGREE = float(great_circle_km(0, 0, 0, 1))  # ~111.2 km on the equator


def accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["w1", "w2", "m1", "e1", "e2"],
        "latitude": 0.0,
        "longitude": [0.5, 0.5, 1.5, 2.5, 2.5],
        "block": ["W", "W", "M", "E", "E"],
        "potential": [100.0, 100.0, 200.0, 300.0, 100.0],
        "revenue": [100.0, 60.0, 250.0, 0.0, 100.0],
        "territory": ["T1", "T1", "T1", "T2", "T2"],
    })


def test_block_figures_by_hand():
    gaps = block_gaps(accounts(), REPS, labels=accounts()["territory"], block_col="block", max_km=160)
    assert list(gaps.columns) == list(GAP_COLUMNS)
    row = gaps.set_index("block_id")
    # W: potential 200, revenue 160 -> 80%, white space 40, at the rep's home.
    assert row.at["W", "potential"] == 200 and row.at["W", "revenue"] == 160
    assert row.at["W", "penetration"] == pytest.approx(0.8) and row.at["W", "white_space"] == 40
    assert row.at["W", "km_to_rep"] == 0.0
    # M: revenue above potential: fully won, no white space (never negative).
    assert row.at["M", "penetration"] == pytest.approx(1.25) and row.at["M", "white_space"] == 0
    assert row.at["M", "km_to_rep"] == pytest.approx(KM_PER_DEGREE, abs=0.1)
    # E: 2 degrees away (222 km > 160 km): uncovered; white space 300 counted double.
    assert row.at["E", "white_space"] == 300 and row.at["E", "uncovered_accounts"] == 2
    assert row.at["E", "uncovered_potential"] == 400 and row.at["E", "territory_id"] == "T2"
    assert row.at["E", "km_to_rep"] == pytest.approx(2 * KM_PER_DEGREE, abs=0.1)
    # Scores: raw E = 300 x 2 = 600 (the top: 100); W = 40 x (1 + 0) = 40 -> 6.7; M = 0.
    assert gaps["block_id"].tolist() == ["E", "W", "M"] and gaps["rank"].tolist() == [1, 2, 3]
    assert gaps["gap_score"].tolist() == [100.0, 6.7, 0.0]


def test_reach_weighs_white_space_up_to_double():
    # Same white space in W and M; M is 111 km from the rep: reach 111/160, raw 100 x 1.69.
    frame = accounts().iloc[[0, 2]].assign(potential=[100.0, 100.0], revenue=[0.0, 0.0])
    gaps = block_gaps(frame, REPS, block_col="block", max_km=160).set_index("block_id")
    assert gaps.at["M", "gap_score"] == 100.0
    assert gaps.at["W", "gap_score"] == pytest.approx(100 / (1 + KM_PER_DEGREE / 160), abs=0.1)


def test_a_block_split_between_territories_has_a_row_per_territory_and_default_territory_is_nearest_rep():
    frame = accounts().assign(territory=["T1", "T2", "T1", "T2", "T2"])
    gaps = block_gaps(frame, REPS, labels=frame["territory"], block_col="block")
    assert sorted(map(tuple, gaps[["block_id", "territory_id"]].to_numpy())) == [
        ("E", "T2"), ("M", "T1"), ("W", "T1"), ("W", "T2")]
    assert gaps["accounts"].sum() == 5  # nothing lost
    nearest = block_gaps(frame, REPS, block_col="block")
    assert set(nearest["territory_id"]) == {"T1"}  # the only rep's territory


def test_blocks_place_accounts_by_polygon_and_nothing_is_dropped():
    frame = accounts().drop(columns="block")
    frame.loc[len(frame)] = ["x1", 5.0, 5.0, 10.0, 0.0, "T1"]  # outside every block
    assert assign_blocks(frame, BLOCKS).tolist() == ["W", "W", "M", "E", "E", OUTSIDE]
    gaps = block_gaps(frame, REPS, blocks=BLOCKS)
    assert gaps["accounts"].sum() == 6
    names = gaps.set_index("block_id")["block_name"]
    assert names["E"] == "East" and pd.isna(names[OUTSIDE])


def test_territory_totals():
    gaps = block_gaps(accounts(), REPS, labels=accounts()["territory"], block_col="block", max_km=160)
    totals = territory_gaps(gaps, max_km=160).set_index("territory_id")
    assert totals.at["T1", "potential"] == 400 and totals.at["T1", "revenue"] == 410
    assert totals.at["T1", "white_space"] == 0  # over-won overall
    assert totals.at["T2", "white_space"] == 300 and totals.at["T2", "gap_score"] == 100.0
    assert totals.at["T1", "km_to_rep"] == pytest.approx(KM_PER_DEGREE / 2, abs=0.1)  # (0*200 + 111*200) / 400


def test_uncovered_accounts_farthest_first_and_pluggable_distance():
    frame = accounts().assign(longitude=[0.5, 0.5, 1.5, 3.5, 2.5])
    out = uncovered_accounts(frame, REPS, max_km=160, labels=frame["territory"])
    assert out["account_id"].tolist() == ["e1", "e2"]
    assert out["territory_id"].tolist() == ["T2", "T2"] and out["nearest_rep_id"].tolist() == ["R1", "R1"]

    def minutes(lat1, lon1, lat2, lon2):  # a "drive time": one minute per 0.01 degree of longitude
        return np.abs(np.asarray(lon1) - np.asarray(lon2)) * 100 + 0 * np.asarray(lat1) * np.asarray(lat2)

    near = nearest_rep_km(frame, REPS, distance=minutes)
    assert near["km_to_rep"].tolist() == pytest.approx([0, 0, 100, 300, 200])
    assert uncovered_accounts(frame, REPS, max_km=150, distance=minutes)["account_id"].tolist() == ["e1", "e2"]


def test_two_reps_nearest_is_chosen():
    reps = pd.concat([REPS, pd.DataFrame({"rep_id": ["R2"], "territory_id": ["T2"], "latitude": [0.0],
                                          "longitude": [2.5]})], ignore_index=True)
    near = nearest_rep_km(accounts(), reps)
    assert near["nearest_rep_id"].tolist() == ["R1", "R1", "R1", "R2", "R2"]
    assert uncovered_accounts(accounts(), reps, max_km=120).empty  # m1 is 111 km from both


@pytest.mark.parametrize("change, kwargs, match", [
    ({"potential": [1.0, -1.0, 1.0, 1.0, 1.0]}, {}, r"'potential' \(potential\) must hold amounts >= 0; the rows with index \[1\]"),
    ({}, {"potential_col": "pot"}, "no potential column 'pot'.*--potential-col"),
    ({}, {"revenue_col": "sales"}, "no revenue column 'sales'.*--revenue-col"),
    ({}, {"max_km": 0}, r"max_km \(CLI: --max-km\) must be a positive distance"),
    ({}, {"block_col": "nope"}, "no block column 'nope'"),
])
def test_bad_inputs(change, kwargs, match):
    frame = accounts().assign(**change)
    kwargs = {"block_col": "block", **kwargs}
    with pytest.raises(InputError, match=match):
        block_gaps(frame, REPS, **kwargs)


def test_reps_without_homes_are_refused():
    with pytest.raises(InputError, match="reps are empty"):
        nearest_rep_km(accounts(), REPS.iloc[:0])
    with pytest.raises(InputError, match=r"reps \['R1'\] have no home"):
        nearest_rep_km(accounts(), REPS.assign(latitude=[np.nan]))
