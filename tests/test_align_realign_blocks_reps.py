"""Contiguous realignment with a reps file: capacities as targets, new hires open, absent reps close."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.align.realign_blocks import ContiguousRealignment
from workbench.cli import main
from workbench.errors import InputError

from test_align_realign_blocks import _contiguous, _grid

#: Homes at the middle of each quadrant of the 6 x 6 grid (latitude, longitude).
HOMES = {"Q1": (1.5, 1.5), "Q2": (1.5, 4.5), "Q3": (4.5, 1.5), "Q4": (4.5, 4.5)}


def _reps(ids=("Q1", "Q2", "Q3", "Q4"), capacity=None, hires=()):
    """One rep per id (``r_Q1``...), at its quadrant's middle; ``hires`` are (rep_id, lat, lon) without a territory."""
    rows = [{"rep_id": f"r_{t}", "territory_id": t, "latitude": HOMES[t][0], "longitude": HOMES[t][1]} for t in ids]
    rows += [{"rep_id": r, "territory_id": None, "latitude": lat, "longitude": lon} for r, lat, lon in hires]
    reps = pd.DataFrame(rows)
    if capacity is not None:
        reps["capacity_hours"] = capacity
    return reps


def _fit(accounts, blocks, reps, **kwargs):
    kwargs.setdefault("tolerance", 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ContiguousRealignment(**kwargs).fit(accounts, blocks=blocks, reps=reps)


def _deviation_from_targets(accounts, model):
    """Each territory's workload against its rep's capacity share, computed by hand."""
    load = accounts.groupby(model.labels_)["workload"].sum()
    capacity = model.reps_.set_index("territory_id")["capacity_hours"].reindex(load.index)
    return load / (capacity / capacity.sum() * load.sum()) - 1


def test_a_rep_with_twice_the_hours_keeps_a_quadrant_twice_as_heavy_and_nothing_moves():
    accounts, blocks = _grid(grown=2.0)  # Q1 holds 18 of 45: 2/5 of the work, the others 9 each
    model = _fit(accounts, blocks, _reps(capacity=[2000.0, 1000.0, 1000.0, 1000.0]))
    r = model.report_
    assert r.moved_share == 0.0 and r.max_deviation["workload"] == pytest.approx(0.0, abs=1e-12)
    assert r.within_tolerance and r.contiguous
    assert model.target_shares_.tolist() == pytest.approx([0.4, 0.2, 0.2, 0.2])
    # equal targets (no capacity column) have to move blocks out of Q1
    assert _fit(accounts, blocks, _reps()).report_.moved_share > 0.1


def test_the_report_measures_balance_against_each_reps_capacity():
    accounts, blocks = _grid(grown=1.0)  # 9 accounts each; the reps' hours are 3 : 3 : 2 : 2
    model = _fit(accounts, blocks, _reps(capacity=[1800.0, 1800.0, 1200.0, 1200.0]))
    r = model.report_
    assert r.within_tolerance and r.contiguous and _contiguous(model, blocks)
    by_hand = _deviation_from_targets(accounts, model)
    assert r.max_deviation["workload"] == pytest.approx(by_hand.abs().max())
    assert by_hand.abs().max() <= 0.1 + 1e-9
    # targets 36 * 0.3 = 10.8 and 36 * 0.2 = 7.2 accounts; within 10% in whole accounts: 11, 11, 7, 7
    assert pd.Series(model.labels_).value_counts().to_dict() == {"Q1": 11, "Q2": 11, "Q3": 7, "Q4": 7}


def test_a_rep_who_left_closes_their_territory_and_a_new_hire_opens_one_near_home():
    accounts, blocks = _grid(grown=1.0)
    reps = _reps(("Q1", "Q2", "Q3"), hires=[("r_new", 5.0, 5.0)])  # Q4's rep left; the hire lives in Q4's corner
    model = _fit(accounts, blocks, reps)
    r = model.report_
    assert r.closed == ("Q4",) and r.opened == ("Q5",)
    assert set(model.labels_) == {"Q1", "Q2", "Q3", "Q5"}
    assert r.within_tolerance and r.contiguous and _contiguous(model, blocks)
    assert model.reps_["territory_id"].tolist() == ["Q1", "Q2", "Q3", "Q5"]
    # the new territory is around the hire's home: the corner block is in it
    corner = accounts.index[(accounts["latitude"] == 5.5) & (accounts["longitude"] == 5.5)][0]
    assert model.labels_[corner] == "Q5"
    # the other territories keep most of what they had
    for t in ("Q1", "Q2", "Q3"):
        assert (model.labels_[accounts["current_territory"] == t] == t).mean() >= 0.6


def test_reps_named_by_their_rep_ids_hire_with_their_own_ids():
    accounts, blocks = _grid(grown=1.0)
    accounts["current_territory"] = accounts["current_territory"].str.replace("Q", "R")
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4", "R9"], "latitude": [1.5, 1.5, 4.5, 4.5, 3.0],
                         "longitude": [1.5, 4.5, 1.5, 4.5, 3.0]})
    model = _fit(accounts, blocks, reps, tolerance=0.15)
    assert model.report_.opened == ("R9",) and model.report_.closed == ()
    assert set(model.labels_) == {"R1", "R2", "R3", "R4", "R9"}
    assert model.report_.contiguous


def test_locked_accounts_stay_with_reps():
    accounts, blocks = _grid(grown=2.0)
    free = _fit(accounts, blocks, _reps())
    moved = np.flatnonzero(free.labels_ != accounts["current_territory"].to_numpy())
    accounts["locked"] = False
    accounts.loc[moved[:2], "locked"] = True
    model = _fit(accounts, blocks, _reps(), lock_col="locked")
    assert (model.labels_[moved[:2]] == accounts["current_territory"].to_numpy()[moved[:2]]).all()


def test_bad_reps_are_refused_with_the_fix():
    accounts, blocks = _grid()
    with pytest.raises(InputError, match=r"n_territories=5 but the reps file has 4 reps"):
        _fit(accounts, blocks, _reps(), n_territories=5)
    with pytest.raises(InputError, match=r"close=\['Q2'\] but those territories still have a rep"):
        _fit(accounts, blocks, _reps(), close=["Q2"])
    stranger = pd.DataFrame({"rep_id": ["x", "y"], "latitude": [1.0, 2.0], "longitude": [1.0, 2.0]})
    with pytest.raises(InputError, match=r"names territories that are not rep ids.*territory_id"):
        _fit(accounts, blocks, stranger)
    accounts["locked"] = accounts["current_territory"] == "Q4"
    with pytest.raises(InputError, match="locked accounts .* closing territories"):
        _fit(accounts, blocks, _reps(("Q1", "Q2", "Q3")), lock_col="locked")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leave=st.sets(st.sampled_from(["Q1", "Q2", "Q3", "Q4"]), max_size=1),
       hires=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=2, unique=True),
       capacity=st.lists(st.sampled_from([900.0, 1000.0, 1100.0]), min_size=6, max_size=6),
       locked=st.lists(st.integers(0, 35), max_size=3, unique=True))
def test_every_account_once_contiguous_locks_kept_and_exactly_the_asked_headcount(leave, hires, capacity, locked):
    accounts, blocks = _grid(grown=1.5)
    stay = [t for t in ("Q1", "Q2", "Q3", "Q4") if t not in leave]
    reps = _reps(stay, hires=[(f"h{i}", y + 0.5, x + 0.5) for i, (x, y) in enumerate(hires)])
    reps["capacity_hours"] = capacity[:len(reps)]
    accounts["locked"] = False
    locked = [i for i in locked if accounts["current_territory"][i] not in leave]
    accounts.loc[locked, "locked"] = True
    model = _fit(accounts, blocks, reps, tolerance=0.25, lock_col="locked", max_seconds=0.5)
    labels = pd.Series(model.labels_)
    new_ids = [f"Q{5 + i}" for i in range(len(hires))]
    assert len(labels) == len(accounts) and labels.notna().all()
    assert set(labels) <= set(stay) | set(new_ids)
    assert model.report_.closed == tuple(sorted(leave)) and model.report_.opened == tuple(new_ids)
    assert (labels[locked] == accounts["current_territory"][locked]).all()
    assert model.block_labels_.index.is_unique and set(model.block_labels_) == set(stay) | set(new_ids)
    assert _contiguous(model, blocks)
    assert model.report_.lower_bound_share <= model.report_.bordering_lower_bound_share + 1e-12


def test_cli_reps_with_blocks_and_current_hire_and_close(tmp_path, capsys):
    accounts, blocks = _grid(grown=1.0)
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    blocks.rename(columns={"block_id": "county_fips"}).to_file(tmp_path / "blocks.gpkg", layer="blocks")
    reps = _reps(("Q1", "Q2", "Q3"), capacity=[1000.0, 1000.0, 1000.0, 1000.0], hires=[("r_new", 5.0, 5.0)])
    reps.to_csv(tmp_path / "reps.csv", index=False)
    out = tmp_path / "out.csv"
    assert main(["align", str(tmp_path / "accounts.csv"), "--current", "current_territory", "--blocks",
                 str(tmp_path / "blocks.gpkg"), "--block-col", "county_fips", "--reps", str(tmp_path / "reps.csv"),
                 "--tolerance", "0.1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "contiguous: yes" in printed and "opened: Q5" in printed and "closed: Q4" in printed
    written = pd.read_csv(out)
    assert written["account_id"].tolist() == accounts["account_id"].tolist()
    assert set(written["territory_id"]) == {"Q1", "Q2", "Q3", "Q5"}
    # a draft plan records the new hire as the rep of the new territory
    assert main(["align", str(tmp_path / "accounts.csv"), "--current", "current_territory", "--blocks",
                 str(tmp_path / "blocks.gpkg"), "--block-col", "county_fips", "--reps", str(tmp_path / "reps.csv"),
                 "--tolerance", "0.1", "--out", str(tmp_path / "draft")]) == 0
    from workbench.plan import load_plan

    plan = load_plan(tmp_path / "draft")
    assert plan.territories.loc["Q5", "rep_id"] == "r_new"


def _strip():
    """A 1 x 9 strip of unit squares: B (0-1), A (2-7, overloaded), C (8, light); one account per block."""
    import geopandas as gpd
    from shapely.geometry import box

    blocks = gpd.GeoDataFrame({"block_id": [f"S{x}" for x in range(9)]},
                              geometry=[box(x, 0, x + 1, 1) for x in range(9)], crs="EPSG:4326")
    accounts = pd.DataFrame({"account_id": [f"A{x}" for x in range(9)], "county_fips": blocks["block_id"],
                             "latitude": 0.5, "longitude": [x + 0.5 for x in range(9)], "workload": 1.0,
                             "current_territory": ["B"] * 2 + ["A"] * 6 + ["C"]})
    return accounts, blocks


def test_a_block_goes_to_the_near_rep_not_the_far_one():
    # Targets 3 blocks, 2 to 4 within 34%: A (6) must give two and C (1) take one. C's rep lives 20 degrees
    # east (over 2,000 km); B's next door: A's second block goes west to B, not a second one east to C.
    accounts, blocks = _strip()
    reps = pd.DataFrame({"rep_id": ["rb", "ra", "rc"], "territory_id": ["B", "A", "C"], "latitude": 0.5,
                         "longitude": [1.0, 4.5, 28.0]})
    model = _fit(accounts, blocks, reps, tolerance=0.34)
    assert model.report_.within_tolerance and model.report_.moved_accounts == 2
    assert model.labels_.tolist() == ["B", "B", "B", "A", "A", "A", "A", "C", "C"]


def test_far_moves_cost_more_than_near_ones_in_the_flows():
    from workbench.align._block_moves import flow_prices

    # blocks 0, 1 in territory 0 and 2 in territory 1; block 1 would gain 900 km going to territory 1
    km = lambda rows, territories: np.where(territories == 1, 1000.0, 100.0)
    prices = flow_prices(np.array([0, 0, 1]), np.array([[0, 1], [1, 2]]), np.ones(3), km, 2, 300.0)
    assert prices[0, 1] == pytest.approx(1 + 900 / 300) and prices[1, 0] == 1.0
