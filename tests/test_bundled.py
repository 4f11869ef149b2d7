"""workbench.bundled: paths and cached loaders of the committed sample data."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench import bundled
from workbench.errors import InputError


def test_paths_point_into_the_data_folder():
    assert bundled.sample_accounts_path() == bundled.DATA_DIR / "sample" / "accounts.csv"
    assert bundled.sample_reps_path() == bundled.DATA_DIR / "sample" / "reps.csv"
    assert bundled.county_territories_path().name == "county_territories.csv"
    assert bundled.counties_path().suffix == ".gpkg" and bundled.states_path().suffix == ".gpkg"
    assert bundled.zip_points_path().name == "zip_points.csv.gz"


def test_counties_loader_types():
    counties = bundled.load_counties()
    assert len(counties) == 3_107
    assert counties["county_fips"].str.fullmatch(r"\d{5}").all()
    assert counties["county_fips"].str.startswith("0").any()  # leading zeros kept
    assert counties["population_2019"].dtype == "int64"
    assert counties["is_island"].dtype == bool
    assert counties.crs.to_epsg() == 4326


def test_zip_points_keep_leading_zeros_as_text():
    zips = bundled.load_zip_points()
    assert zips["zip"].iloc[0] == "00501"
    assert zips.loc[zips["zip"] == "02108", "county_fips"].item() == "25025"
    assert zips.loc[zips["zip"] == "02108", "cbsa_code"].item() == "14460"


def test_loaders_return_copies_the_cache_is_not_mutated():
    first = bundled.load_zip_points()
    first.loc[:, "state"] = "XX"
    assert (bundled.load_zip_points()["state"] != "XX").any()
    states = bundled.load_states()
    states.loc[:, "name"] = "changed"
    assert "Texas" in set(bundled.load_states()["name"])
    counties = bundled.load_counties()
    counties["population_2019"] = 0
    assert bundled.load_counties()["population_2019"].sum() > 300_000_000


def test_sample_accounts_and_reps_read_with_standard_columns():
    accounts = pd.read_csv(bundled.sample_accounts_path(), dtype={"zip": str, "county_fips": str})
    assert {"account_id", "latitude", "longitude", "workload", "current_territory"} <= set(accounts.columns)
    reps = pd.read_csv(bundled.sample_reps_path())
    assert set(reps["territory_id"]) == set(accounts["current_territory"])


def test_missing_data_folder_says_run_make_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "DATA_DIR", tmp_path)
    with pytest.raises(InputError, match=r"accounts.csv is missing; run make sample"):
        bundled.sample_accounts_path()
    with pytest.raises(InputError, match=r"counties.gpkg is missing; run make sample"):
        bundled.counties_path()


ATTRIBUTION = ("Contains data (c) GeoNames (geonames.org), CC BY 4.0; U.S. Census Bureau ACS 2022 5-year, "
               "Gazetteer and ZCTA-county relationship files; OMB CBSA delineations.")


def test_readme_keeps_the_attribution_and_documents_every_column():
    readme = (bundled.DATA_DIR / "README.md").read_text()
    assert ATTRIBUTION in readme
    columns = set(pd.read_csv(bundled.sample_accounts_path(), nrows=1).columns)
    columns |= set(pd.read_csv(bundled.sample_reps_path(), nrows=1).columns)
    columns |= set(bundled.load_zip_points().columns) | set(bundled.load_counties().columns)
    undocumented = sorted(c for c in columns if f"`{c}`" not in readme)
    assert undocumented == []


# --- where the files are, and the notebooks copied out ---------------------------------------------

def test_a_checkout_reads_the_repository_folders():
    # An editable install (this venv) has no packaged copy: data/ and notebooks/ of the checkout are used.
    assert bundled.DATA_DIR == bundled.REPO_DIR / "data" and bundled.NOTEBOOKS_DIR == bundled.REPO_DIR / "notebooks"
    assert bundled.IN_REPOSITORY
    assert bundled.data_readme_path().read_text().startswith("#")


def test_copy_notebooks_makes_a_working_folder(tmp_path):
    copies = bundled.copy_notebooks(tmp_path / "new" / "work")
    assert [p.name for p in copies] == [p.name for p in bundled.notebook_paths()]
    assert all(c.read_bytes() == s.read_bytes() for c, s in zip(copies, bundled.notebook_paths()))
    assert sorted(p.name for p in (tmp_path / "new" / "work").iterdir()) == [p.name for p in copies], "no temp files left"


def test_copy_notebooks_never_overwrites_an_edited_notebook(tmp_path):
    first = bundled.copy_notebooks(tmp_path)
    first[1].write_text("my edits")
    with pytest.raises(InputError, match=r"different copies of 02_cluster_accounts.ipynb: they were kept; pass --overwrite"):
        bundled.copy_notebooks(tmp_path)
    assert first[1].read_text() == "my edits"
    bundled.copy_notebooks(tmp_path, overwrite=True)
    assert first[1].read_bytes() == bundled.notebook_paths()[1].read_bytes()


def test_copy_notebooks_refuses_a_file_as_the_folder(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        bundled.copy_notebooks(tmp_path / "file.txt")


def test_installed_package_data_is_found_with_importlib_resources(tmp_path, monkeypatch):
    # What a wheel installs: workbench/resources/data inside the package; it wins over a checkout's data/.
    import importlib

    from workbench import bundled as module

    fake = tmp_path / "workbench"
    (fake / "resources" / "data" / "sample").mkdir(parents=True)
    (fake / "resources" / "notebooks").mkdir(parents=True)
    monkeypatch.setattr(module.resources, "files", lambda package: fake)
    try:
        reloaded = importlib.reload(module)
        assert reloaded.DATA_DIR == fake / "resources" / "data" and not reloaded.IN_REPOSITORY
        with pytest.raises(InputError, match="installed package is incomplete: reinstall territory-workbench"):
            reloaded.sample_accounts_path()
    finally:
        monkeypatch.undo()
        importlib.reload(module)
    assert bundled.DATA_DIR == bundled.REPO_DIR / "data"
