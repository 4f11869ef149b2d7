"""Metrics on a fixture whose answers can be checked by hand (shared with test_compare and test_cli_plans).

Six accounts on the equator in three territories, with reps and county blocks: every answer by hand.

One degree of longitude on the equator is 111.195 km (Earth radius 6371.0088 km).

    account  lon  workload revenue block  current  proposed (a4 -> T3, a5 -> T1)
    a1        0     10      100     b1     T1       T1
    a2        2     10      100     b2     T1       T1
    a3       10     20      300     b3     T2       T2
    a4       12     20      300     b4     T2       T3
    a5       20     30      200     b5     T3       T1
    a6       22     30      200     b6     T3       T3

Reps live at lon 0 (T1), 10 (T2), 20 (T3). Blocks are 2x2-degree boxes around
each account plus two empty filler blocks (lon 3..9 and 13..19) so the blocks form one chain.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from workbench import metrics
from workbench.errors import InputError



KM_PER_DEGREE = 111.19508

LONGITUDES = [0.0, 2.0, 10.0, 12.0, 20.0, 22.0]


def six_accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": [f"a{i}" for i in range(1, 7)],
        "name": list("ABCDEF"),
        "latitude": [0.0] * 6,
        "longitude": LONGITUDES,
        "workload": [10.0, 10.0, 20.0, 20.0, 30.0, 30.0],
        "revenue": [100.0, 100.0, 300.0, 300.0, 200.0, 200.0],
        "county_fips": [f"b{i}" for i in range(1, 7)],
        "current_territory": ["T1", "T1", "T2", "T2", "T3", "T3"],
        "proposed": ["T1", "T1", "T2", "T3", "T1", "T3"],
    })


def three_reps() -> pd.DataFrame:
    return pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "name": ["Ann", "Bob", "Cy"],
                         "territory_id": ["T1", "T2", "T3"], "latitude": [0.0] * 3,
                         "longitude": [0.0, 10.0, 20.0]})


def chain_blocks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"block_id": [f"b{i}" for i in range(1, 7)] + ["f1", "f2"]},
        geometry=[box(x - 1, -1, x + 1, 1) for x in LONGITUDES] + [box(3, -1, 9, 1), box(13, -1, 19, 1)],
        crs="EPSG:4326")


# ---------------------------------------------------------------- tests
T1_T2_T3 = ["T1", "T1", "T2", "T2", "T3", "T3"]
PROPOSED = ["T1", "T1", "T2", "T3", "T1", "T3"]


def test_lead_core_functions_keep_their_behaviour():
    accounts = six_accounts()
    loads = metrics.territory_loads(accounts, T1_T2_T3, ["workload"])
    assert loads["workload"].to_dict() == {"T1": 20.0, "T2": 40.0, "T3": 60.0}
    assert metrics.max_deviation(accounts, T1_T2_T3, ["workload", "revenue"]) == {"workload": 0.5, "revenue": 0.5}


def test_summary_loads_and_deviation_by_hand():
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload", "revenue"], tolerance=0.05)
    assert table.index.tolist() == ["T1", "T2", "T3"]
    assert table["accounts"].tolist() == [2, 2, 2]
    assert table["workload"].tolist() == [20.0, 40.0, 60.0]
    assert table["workload_deviation_pct"].tolist() == pytest.approx([-50.0, 0.0, 50.0])
    assert table["revenue"].tolist() == [200.0, 600.0, 400.0]
    assert table["revenue_deviation_pct"].tolist() == pytest.approx([-50.0, 50.0, 0.0])
    assert table["within_tolerance"].tolist() == [False, False, False]  # T2 fails on revenue
    only_workload = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"])
    assert only_workload["within_tolerance"].tolist() == [False, True, False]


def test_summary_compactness_by_hand():
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"])
    # two equal-weight accounts 2 degrees apart: the centre is halfway, each is 1 degree from it
    assert table["centre_longitude"].tolist() == pytest.approx([1.0, 11.0, 21.0])
    assert table["compactness_km"].tolist() == pytest.approx([KM_PER_DEGREE] * 3, rel=1e-6)
    assert table["max_distance_km"].tolist() == pytest.approx([KM_PER_DEGREE] * 3, rel=1e-6)
    # proposed T3 holds a4 (lon 12) and a6 (lon 22), weights 20 and 30: max distance is a4's
    proposed = metrics.territory_summary(six_accounts(), PROPOSED, ["workload"])
    centre = proposed.loc["T3", "centre_longitude"]
    assert 12 < centre < 22 and proposed.loc["T3", "max_distance_km"] == pytest.approx(
        (centre - 12) * KM_PER_DEGREE, rel=1e-6)


def test_summary_rep_home_distances_by_hand():
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"], reps=three_reps())
    assert table["rep_id"].tolist() == ["R1", "R2", "R3"]
    # each rep lives on the first account of the territory: distances 0 and 2 degrees, mean 1 degree
    assert table["rep_home_distance_km"].tolist() == pytest.approx([KM_PER_DEGREE] * 3, rel=1e-6)
    assert table["centre_to_home_km"].tolist() == pytest.approx([KM_PER_DEGREE] * 3, rel=1e-6)
    # workload weighting: proposed T1 = a1 (0 km, w10), a2 (2 deg, w10), a5 (20 deg, w30)
    proposed = metrics.territory_summary(six_accounts(), PROPOSED, ["workload"], reps=three_reps())
    expected = (0 * 10 + 2 * 10 + 20 * 30) / 50 * KM_PER_DEGREE
    assert proposed.loc["T1", "rep_home_distance_km"] == pytest.approx(expected, rel=1e-6)


def test_summary_without_blocks_or_reps_says_so():
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"])
    assert table["contiguous"].tolist() == [None, None, None]
    assert table["polsby_popper"].isna().all() and table["rep_home_distance_km"].isna().all()


def test_polsby_popper_by_hand():
    # a 2x2-degree box on the equator is (nearly) a square: 4*pi*A/P^2 = pi/4
    square = metrics.polsby_popper(six_accounts().iloc[:1], ["T1"], chain_blocks())
    assert square["T1"] == pytest.approx(np.pi / 4, abs=0.005)
    # two boxes side by side make a 2:1 rectangle: 4*pi*2/36 = 2*pi/9
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"], blocks=chain_blocks())
    assert table["polsby_popper"].tolist() == pytest.approx([2 * np.pi / 9] * 3, abs=0.005)


def test_contiguity_by_hand():
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"], blocks=chain_blocks())
    assert table["contiguous"].tolist() == [True, True, True]
    # proposed T1 = b1, b2 and b5 (filler f1 and b3, b4 lie between): two pieces; T3 = b4 + b6 also two
    proposed = metrics.contiguity(six_accounts(), PROPOSED, chain_blocks())
    assert proposed.to_dict("index") == {"T1": {"contiguous": False, "pieces": 2},
                                         "T2": {"contiguous": True, "pieces": 1},
                                         "T3": {"contiguous": False, "pieces": 2}}


def test_blocks_must_cover_the_accounts():
    with pytest.raises(InputError, match=r"county_fips values \['b6'\] that are not in the blocks"):
        metrics.polsby_popper(six_accounts(), T1_T2_T3, chain_blocks().iloc[:5])


def test_scorecard_by_hand():
    card = metrics.scorecard(six_accounts(), T1_T2_T3, ["workload"], tolerance=0.05, reps=three_reps())
    assert card["territories"] == 3 and card["accounts"] == 6 and card["unassigned_accounts"] == 0
    assert card["workload_max_deviation_pct"] == pytest.approx(50.0)
    assert card["workload_cv_pct"] == pytest.approx(np.std([20, 40, 60]) / 40 * 100)  # 40.82
    assert card["within_tolerance_pct"] == pytest.approx(100 / 3)
    assert card["compactness_km"] == pytest.approx(KM_PER_DEGREE, rel=1e-6)
    assert card["rep_home_distance_km"] == pytest.approx(KM_PER_DEGREE, rel=1e-6)
    assert card["non_contiguous_territories"] is None and card["mean_polsby_popper"] is None
    with_blocks = metrics.scorecard(six_accounts(), PROPOSED, ["workload"], blocks=chain_blocks())
    assert with_blocks["non_contiguous_territories"] == 2


def test_scorecard_counts_unassigned_and_ignores_them_in_balance():
    labels = ["T1", None, "T2", "", np.nan, "T2"]
    card = metrics.scorecard(six_accounts(), labels, ["workload"])
    assert card["unassigned_accounts"] == 3 and card["territories"] == 2
    # T1 = 10, T2 = 20 + 30 = 50: mean 30, T2 is +66.7%
    assert card["workload_max_deviation_pct"] == pytest.approx(200 / 3)


def test_empty_territories_count_in_the_mean():
    table = metrics.territory_summary(six_accounts(), T1_T2_T3, ["workload"], territory_ids=["T1", "T2", "T3", "T4"])
    assert table.loc["T4", "accounts"] == 0 and table.loc["T4", "workload_deviation_pct"] == -100.0
    assert table.loc["T3", "workload_deviation_pct"] == pytest.approx(100.0)  # 60 vs mean 30
