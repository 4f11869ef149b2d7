"""Approximate ZIP areas: Voronoi cells of the ZIP points clipped to their county, built once and cached."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from workbench import bundled, zipareas
from workbench.cli._common import resolve_blocks
from workbench.errors import InputError


def tiny():
    counties = gpd.GeoDataFrame({"county_fips": ["00001", "00002"]}, geometry=[box(0, 0, 2, 1), box(2, 0, 3, 1)],
                                crs="EPSG:4326")
    zips = pd.DataFrame({
        "zip": ["00011", "00012", "00013", "00021", "00099", "00098"],
        "zip_type": ["Standard", "Standard", "Standard", "Standard", "PO_Box", "Standard"],
        "latitude": [0.5, 0.2, 0.8, 0.5, 0.5, 5.0], "longitude": [0.3, 1.5, 1.7, 2.5, 1.0, 5.0],
        "state": "KS", "primary_city": "Hays", "population": [1, 2, 3, 4, 0, 5]})
    return zips, counties


def test_areas_tile_each_county_and_contain_their_point():
    zips, counties = tiny()
    areas = zipareas.build_zip_areas(zips, counties, simplify=0)
    assert areas["zip"].tolist() == ["00011", "00012", "00013", "00021"], "PO boxes and points outside get none"
    assert areas["county_fips"].tolist() == ["00001", "00001", "00001", "00002"]
    per_county = areas.dissolve("county_fips").area
    assert per_county.round(9).to_dict() == {"00001": 2.0, "00002": 1.0}
    assert areas.area.sum() == pytest.approx(3.0), "no overlaps"
    points = shapely.points(zips.set_index("zip").loc[areas["zip"], ["longitude", "latitude"]].to_numpy())
    assert shapely.contains(areas.geometry.values, points).all()
    assert areas.attrs["counties_without_zip"] == []


def test_bad_inputs_are_named():
    zips, counties = tiny()
    with pytest.raises(InputError, match=r"ZIP points lack columns \['zip_type'\]"):
        zipareas.build_zip_areas(zips.drop(columns="zip_type"), counties)
    with pytest.raises(InputError, match="counties lack 'county_fips'"):
        zipareas.build_zip_areas(zips, counties.rename(columns={"county_fips": "fips"}))


def test_bundled_zip_areas_cover_the_sample():
    areas = bundled.load_zip_areas()
    assert len(areas) > 30_000 and areas["zip"].is_unique and areas.crs.to_epsg() == 4326
    assert areas["zip"].str.fullmatch(r"\d{5}").all()
    accounts = pd.read_csv(bundled.sample_accounts_path(), dtype={"zip": str})
    assert accounts["zip"].isin(areas["zip"]).all(), "every sample account has its ZIP area"
    assert (areas["county_fips"] == "06037").sum() > 200, "Los Angeles County is split into its ZIP areas"
    counties = bundled.load_counties().set_index("county_fips").to_crs(5070).area
    ratio = areas.to_crs(5070).area.groupby(areas["county_fips"].to_numpy()).sum() / counties
    assert ratio.dropna().between(0.97, 1.01).all(), "simplified, the areas still tile their county"
    assert areas.is_valid.all()


def test_first_use_builds_and_caches_outside_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv(zipareas.CACHE_ENV, str(tmp_path / "cache"))
    zips, counties = tiny()
    monkeypatch.setattr(bundled, "load_zip_points", lambda: zips)
    monkeypatch.setattr(bundled, "load_counties", lambda: counties)
    messages = []
    built = zipareas.cached_zip_areas(log=messages.append)
    files = list((tmp_path / "cache").glob("zip_areas-*.parquet"))
    assert len(files) == 1 and "built 4 approximate ZIP areas" in messages[0]

    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt although cached")

    monkeypatch.setattr(zipareas, "build_zip_areas", no_build)
    again = zipareas.cached_zip_areas()
    assert again["zip"].tolist() == built["zip"].tolist()
    assert shapely.equals_exact(again.geometry.values, built.geometry.values, tolerance=0).all()


def test_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(zipareas.CACHE_ENV, str(tmp_path))
    zips, counties = tiny()
    monkeypatch.setattr(bundled, "load_zip_points", lambda: zips)
    monkeypatch.setattr(bundled, "load_counties", lambda: counties)
    zipareas.cached_zip_areas()
    path = next(tmp_path.glob("zip_areas-*.parquet"))
    path.write_bytes(b"not parquet")
    messages = []
    assert len(zipareas.cached_zip_areas(log=messages.append)) == 4
    assert "unreadable" in messages[0] and len(gpd.read_parquet(path)) == 4


def test_cache_folder_defaults_to_the_user_cache(monkeypatch):
    monkeypatch.delenv(zipareas.CACHE_ENV, raising=False)
    folder = zipareas.cache_dir()
    assert folder.name == "territory-workbench"
    assert bundled.REPO_DIR not in folder.parents and "site-packages" not in str(folder)


def test_blocks_shorthand_names_the_bundled_blocks(tmp_path, monkeypatch):
    blocks, block_col = resolve_blocks("zip-areas", None)
    assert block_col == "zip" and len(blocks) > 30_000 and "block_id" in blocks.columns
    blocks, block_col = resolve_blocks("counties", None)
    assert block_col == "county_fips" and len(blocks) == 3_107
    with pytest.raises(InputError, match=r"--blocks mine\.gpkg needs --block-col .* or name a bundled set: "
                                         r"counties, zip-areas"):
        resolve_blocks("mine.gpkg", None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "counties").write_text("a file of that name wins")
    with pytest.raises(InputError):
        resolve_blocks("counties", None)
