"""The bundled sample data: a fresh build equals the committed files and is plausible."""

from __future__ import annotations

import gzip
import shutil

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from workbench.errors import InputError
from workbench.geo import block_adjacency
from workbench.safeio import sha256_file
from workbench.sample import RELATIVE_PATHS, build_sample, default_raw_dir
from workbench.sample.__main__ import main
from workbench.sample.accounts import ACCOUNT_COLUMNS, jitter_points
from workbench.sample.alignment import balance_on_graph, bisect_regions, repair_contiguity, territory_ids
from workbench.sample.geodata import POPULATION_FILE, as_multipolygon, build_counties
from workbench.bundled import DATA_DIR

RAW = default_raw_dir()
needs_raw = pytest.mark.skipif(not (RAW / POPULATION_FILE).is_file(),
                               reason=f"raw public data not found at {RAW} (set WORKBENCH_RAW_DATA)")
TEXT = {"zip": str, "county_fips": str}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not (RAW / POPULATION_FILE).is_file():
        pytest.skip(f"raw public data not found at {RAW} (set WORKBENCH_RAW_DATA)")
    out = tmp_path_factory.mktemp("sample")
    summary = build_sample(RAW, out)
    return out, summary


@pytest.fixture(scope="module")
def accounts(built):
    return pd.read_csv(built[0] / "sample/accounts.csv", dtype=TEXT)


@pytest.fixture(scope="module")
def counties(built):
    return gpd.read_file(built[0] / "geo/counties.gpkg", layer="counties")


@pytest.fixture(scope="module")
def county_territories(built):
    table = pd.read_csv(built[0] / "sample/county_territories.csv", dtype=TEXT)
    return table.set_index("county_fips")["current_territory"]


# --- the build as a whole -------------------------------------------------------------------

def test_fresh_build_is_byte_identical_to_committed_data(built):
    out, summary = built
    for relative in RELATIVE_PATHS.values():
        assert (DATA_DIR / relative).is_file(), f"{relative} is not in data/: run make sample and commit"
        assert sha256_file(out / relative) == sha256_file(DATA_DIR / relative), (
            f"{relative} differs from a fresh build: run make sample and commit data/")
        assert summary.sha256[str(relative)] == sha256_file(out / relative)


def test_summary_reports_counts_and_imbalance(built):
    text = str(built[1])
    assert "accounts: 25,000" in text
    assert "max_abs_workload_deviation" in text
    assert "sha256" in text and "geo/counties.gpkg" in text


def test_zip_points_keep_every_zip_with_fixed_gzip_header(built):
    path = built[0] / "geo/zip_points.csv.gz"
    header = path.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # mtime 0
    zips = pd.read_csv(path, dtype={"zip": str, "county_fips": str, "cbsa_code": str})
    assert len(zips) == 41_994
    assert list(zips.columns) == [
        "zip", "state", "county_fips", "primary_city", "latitude", "longitude", "population",
        "households", "median_household_income", "zip_type", "land_area_sq_mi", "cbsa_code",
        "urbanicity_tier"]
    assert zips["zip"].is_unique and zips["zip"].str.fullmatch(r"\d{5}").all()
    assert zips["zip"].iloc[0] == "00501"
    with gzip.open(path, "rt") as handle:
        assert "\r" not in handle.read(10_000)


# --- counties and states --------------------------------------------------------------------

def test_counties_are_repaired_and_falls_church_folded(counties):
    assert len(counties) == 3_107
    assert counties["county_fips"].is_unique
    assert "51610" not in set(counties["county_fips"])
    assert counties.is_valid.all() and not counties.is_empty.any()
    assert (counties.geom_type == "MultiPolygon").all()
    assert counties.crs.to_epsg() == 4326
    raw = pd.read_csv(RAW / POPULATION_FILE, encoding="latin-1")
    fairfax = counties.set_index("county_fips").at["51059", "population_2019"]
    assert fairfax == raw.loc[raw["fips"].isin([51059, 51610]), "pop2019"].sum()
    lower48 = raw.loc[~raw["state_name"].isin(["Alaska", "Hawaii"]), "pop2019"].sum()
    assert counties["population_2019"].sum() == lower48


def test_only_the_water_islands_are_flagged(counties):
    assert sorted(counties.loc[counties["is_island"], "county_fips"]) == ["25019", "53055"]
    assert counties["is_island"].dtype == bool


def test_counties_columns_and_states(built, counties):
    assert list(counties.columns) == [
        "county_fips", "name", "state", "state_fips", "population_2019", "is_island", "geometry"]
    assert (counties["county_fips"].str[:2] == counties["state_fips"]).all()
    states = gpd.read_file(built[0] / "geo/states.gpkg", layer="states")
    assert list(states.columns) == ["state_fips", "state", "name", "geometry"]
    assert len(states) == 49 and set(counties["state"]) == set(states["state"])
    assert {"DC", "TX"} <= set(states["state"]) and not {"AK", "HI", "PR"} & set(states["state"])


@needs_raw
def test_population_without_shape_stops_the_build(tmp_path):
    for path in RAW.iterdir():
        shutil.copy(path, tmp_path / path.name)
    population = pd.read_csv(RAW / POPULATION_FILE, encoding="latin-1")
    population = population.loc[population["fips"] != 48201]  # Harris county, TX
    population.to_csv(tmp_path / POPULATION_FILE, index=False, encoding="latin-1")
    with pytest.raises(InputError, match=r"shapes without population \['48201'\].*FIPS_RENAMES"):
        build_counties(tmp_path)


# --- accounts -------------------------------------------------------------------------------

def test_accounts_columns_ids_and_types(accounts):
    assert list(accounts.columns) == ACCOUNT_COLUMNS + ["current_territory"]
    assert len(accounts) == 25_000
    assert accounts["account_id"].is_unique and accounts["account_id"].iloc[0] == "A000001"
    assert accounts["zip"].str.fullmatch(r"\d{5}").all()
    assert accounts["county_fips"].str.fullmatch(r"\d{5}").all()
    assert accounts["visits_per_year"].dtype == np.int64 and (accounts["visits_per_year"] >= 1).all()
    assert (accounts["workload"] > 0).all() and (accounts["revenue"] > 0).all()


def test_accounts_lie_in_the_lower_48_and_in_their_county(accounts, counties):
    assert accounts["latitude"].between(24.3, 49.5).all()
    assert accounts["longitude"].between(-125.0, -66.9).all()
    geoms = counties.set_index("county_fips").geometry.reindex(accounts["county_fips"]).to_numpy()
    inside = shapely.contains_xy(geoms, accounts["longitude"].to_numpy(), accounts["latitude"].to_numpy())
    assert inside.all(), accounts.loc[~inside, ["account_id", "county_fips"]].head()
    state = counties.set_index("county_fips")["state"].reindex(accounts["county_fips"]).to_numpy()
    assert (state == accounts["state"].to_numpy()).all()


def test_segments_have_realistic_shares_and_sizes(accounts):
    shares = accounts["segment"].value_counts(normalize=True)
    assert shares["Enterprise"] == pytest.approx(0.05, abs=0.01)
    assert shares["Mid-Market"] == pytest.approx(0.25, abs=0.02)
    assert shares["SMB"] == pytest.approx(0.70, abs=0.02)
    medians = accounts.groupby("segment")[["revenue", "potential", "workload"]].median()
    for column in medians:
        assert medians.at["Enterprise", column] > medians.at["Mid-Market", column] > medians.at["SMB", column]


def test_accounts_follow_population(accounts, counties):
    per_county = accounts["county_fips"].value_counts().reindex(counties["county_fips"], fill_value=0)
    correlation = np.corrcoef(per_county.to_numpy(), counties["population_2019"].to_numpy())[0, 1]
    assert correlation > 0.95


# --- current alignment and reps -------------------------------------------------------------

def test_every_county_has_one_current_territory(accounts, counties, county_territories):
    assert sorted(county_territories.index) == sorted(counties["county_fips"])
    assert (accounts.groupby("county_fips")["current_territory"].nunique() == 1).all()
    expected = county_territories.reindex(accounts["county_fips"]).to_numpy()
    assert (accounts["current_territory"].to_numpy() == expected).all()
    assert sorted(accounts["current_territory"].unique()) == territory_ids(40)


def test_current_alignment_has_drifted_into_the_intended_imbalance(accounts):
    loads = accounts.groupby("current_territory")["workload"].sum()
    deviation = loads / loads.mean() - 1
    assert 0.25 <= deviation.abs().max() <= 0.40
    assert deviation.min() < -0.15 and deviation.max() > 0.15


def test_current_territories_are_contiguous(counties, county_territories):
    graph = block_adjacency(counties, id_col="county_fips")
    broken = [t for t, members in county_territories.groupby(county_territories).groups.items()
              if not nx.is_connected(graph.subgraph(members))]
    assert broken == []


def test_reps_live_in_their_territory_with_plausible_capacity(built, accounts, counties, county_territories):
    reps = pd.read_csv(built[0] / "sample/reps.csv")
    assert list(reps.columns) == ["rep_id", "name", "territory_id", "latitude", "longitude", "home_city",
                                  "capacity_hours"]
    assert reps["rep_id"].tolist() == [f"R{i:02d}" for i in range(1, 41)]
    assert sorted(reps["territory_id"]) == territory_ids(40) and reps["name"].is_unique
    points = gpd.GeoDataFrame(reps, geometry=gpd.points_from_xy(reps["longitude"], reps["latitude"]), crs=4326)
    joined = gpd.sjoin(points, counties[["county_fips", "geometry"]], predicate="within")
    assert len(joined) == 40
    assert (joined["county_fips"].map(county_territories) == joined["territory_id"]).all()
    assert reps["capacity_hours"].between(1600, 1800).all()
    assert reps["capacity_hours"].sum() == pytest.approx(accounts["workload"].sum(), rel=0.10)
    assert reps["home_city"].str.fullmatch(r"[A-Z][\w .'-]+, [A-Z]{2}").all()


# --- small pieces, by hand ------------------------------------------------------------------

def test_bisect_regions_gives_a_heavy_point_its_own_region():
    x = [0, 1, 2, 3, 4, 5]
    labels = bisect_regions(x, [0] * 6, [1, 1, 1, 1, 1, 10], 3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 2]
    with pytest.raises(ValueError, match="n_regions must be between 1 and the number of points \\(6\\), got 7"):
        bisect_regions(x, [0] * 6, [1] * 6, 7)


def test_repair_and_balance_keep_regions_connected():
    graph = nx.grid_2d_graph(3, 3)
    ids = sorted(graph.nodes)
    labels = repair_contiguity(ids, [0, 1, 0, 0, 0, 1, 1, 1, 1], graph, [1] * 9)
    labels = balance_on_graph(ids, labels, graph, [1] * 9)
    counts = np.bincount(labels)
    assert sorted(counts) == [4, 5]
    for region in (0, 1):
        assert nx.is_connected(graph.subgraph([ids[i] for i in np.flatnonzero(labels == region)]))


def test_as_multipolygon_drops_lines_and_empties():
    touching = shapely.GeometryCollection([box(0, 0, 1, 1), shapely.LineString([(5, 5), (6, 6)])])
    assert as_multipolygon(touching).equals(MultiPolygon([box(0, 0, 1, 1)]))
    assert as_multipolygon(Polygon()).is_empty
    assert as_multipolygon(None).geom_type == "MultiPolygon"


def test_jitter_stays_within_the_radius():
    rng = np.random.default_rng(1)
    lat, lon = jitter_points(np.full(1000, 45.0), np.full(1000, -90.0), np.full(1000, 2.0), rng)
    km = np.hypot((lat - 45.0) * 111.32, (lon + 90.0) * 111.32 * np.cos(np.radians(45.0)))
    assert km.max() <= 2.0 + 1e-9 and km.mean() == pytest.approx(2.0 * 2 / 3, rel=0.05)


def test_missing_raw_folder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(InputError, match=r"lacks \[.*counties-10m.json.*\]; pass --raw DIR or set WORKBENCH_RAW_DATA"):
        build_sample(tmp_path / "nowhere", tmp_path / "out")
    assert main(["--raw", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "error: raw data folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_raw_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_RAW_DATA", str(tmp_path))
    assert default_raw_dir() == tmp_path
    monkeypatch.delenv("WORKBENCH_RAW_DATA")
    assert default_raw_dir().parts[-2:] == ("shared", "data")


def test_account_count_is_checked(tmp_path):
    with pytest.raises(TypeError, match="n_accounts must be an int, got float"):
        build_sample(tmp_path, tmp_path, n_accounts=2.5)
    with pytest.raises(InputError, match="n_accounts must be at least 40, got 3"):
        build_sample(tmp_path, tmp_path, n_accounts=3)


def test_revenue_is_a_believable_b2b_book(accounts):
    revenue, potential = accounts["revenue"], accounts["potential"]
    assert 10_000 <= revenue.median() <= 60_000  # tens of thousands of dollars per account
    assert 1_000_000 <= revenue.max() <= 10_000_000  # a long tail to a few million
    assert (revenue <= potential).all() and (revenue >= 500).all()
    books = accounts.groupby("current_territory")["revenue"].sum()
    assert books.between(10e6, 100e6).all()  # territory books in the tens of millions


def test_installed_workbench_needs_an_out_folder(tmp_path, monkeypatch, capsys):
    # Installed from a wheel there is no repository: the sample is never written into site-packages.
    import workbench.sample as sample

    monkeypatch.setattr(sample, "DEFAULT_OUT_DIR", None)
    with pytest.raises(InputError, match="not a checkout, and the sample is never written into the installed package"):
        build_sample(tmp_path)
    assert main(["--raw", str(tmp_path)]) == 2
    assert "pass --out DIR" in capsys.readouterr().err


def test_a_checkout_writes_into_its_data_folder():
    import workbench.sample as sample

    assert sample.DEFAULT_OUT_DIR == DATA_DIR
