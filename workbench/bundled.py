"""Paths to, and cached loaders of, the bundled sample data in ``data/``.

The files are built by ``make sample`` (``python -m workbench.sample``); see
``data/README.md`` for their provenance and column dictionary. Loaders cache
the parsed file and hand out copies, so callers may modify what they get.

Examples
--------
>>> from workbench import bundled
>>> bundled.sample_accounts_path().name
'accounts.csv'
>>> zips = bundled.load_zip_points()
>>> zips.loc[zips["zip"] == "10001", "state"].item()
'NY'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from workbench.errors import InputError

#: Folder holding the bundled data (``<repo>/data``).
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

_TEXT_COLUMNS = {"zip": str, "county_fips": str, "cbsa_code": str}


def _existing(relative: str) -> Path:
    path = DATA_DIR / relative
    if not path.is_file():
        raise InputError(
            f"bundled data file {path} is missing; run make sample "
            "(or python -m workbench.sample) to build it from ../shared/data"
        )
    return path


def sample_accounts_path() -> Path:
    """Path of the sample accounts CSV (25,000 synthetic accounts)."""
    return _existing("sample/accounts.csv")


def sample_reps_path() -> Path:
    """Path of the sample reps CSV (one rep per current territory)."""
    return _existing("sample/reps.csv")


def county_territories_path() -> Path:
    """Path of the CSV giving the current territory of every county (``county_fips, current_territory``)."""
    return _existing("sample/county_territories.csv")


def counties_path() -> Path:
    """Path of the counties GeoPackage (layer ``counties``, lower 48 + DC)."""
    return _existing("geo/counties.gpkg")


def states_path() -> Path:
    """Path of the states GeoPackage (layer ``states``, lower 48 + DC)."""
    return _existing("geo/states.gpkg")


def zip_points_path() -> Path:
    """Path of the gzipped ZIP point table (every US ZIP code)."""
    return _existing("geo/zip_points.csv.gz")


@lru_cache(maxsize=1)
def _counties() -> gpd.GeoDataFrame:
    return gpd.read_file(counties_path(), layer="counties")


@lru_cache(maxsize=1)
def _states() -> gpd.GeoDataFrame:
    return gpd.read_file(states_path(), layer="states")


@lru_cache(maxsize=1)
def _zip_points() -> pd.DataFrame:
    return pd.read_csv(zip_points_path(), dtype=_TEXT_COLUMNS)


def load_counties() -> gpd.GeoDataFrame:
    """Counties of the lower 48 + DC with 2019 population (a fresh copy).

    Returns
    -------
    geopandas.GeoDataFrame
        ``county_fips`` (str, 5 digits), ``name``, ``state`` (2 letters),
        ``state_fips``, ``population_2019`` (int), ``is_island`` (bool),
        geometry (MultiPolygon, EPSG:4326).

    Examples
    --------
    >>> counties = load_counties()
    >>> counties.crs.to_string(), bool(counties["county_fips"].is_unique)
    ('EPSG:4326', True)
    """
    return _counties().copy()


def load_states() -> gpd.GeoDataFrame:
    """States of the lower 48 + DC: ``state_fips, state, name, geometry`` (a fresh copy).

    Examples
    --------
    >>> len(load_states())
    49
    """
    return _states().copy()


def load_zip_points() -> pd.DataFrame:
    """Every US ZIP code as a point with ACS 2022 figures (a fresh copy).

    ``zip``, ``county_fips`` and ``cbsa_code`` are text, so leading zeros stay.

    Examples
    --------
    >>> load_zip_points()["zip"].str.len().eq(5).all()
    np.True_
    """
    return _zip_points().copy()
