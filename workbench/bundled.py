"""Paths to, and cached loaders of, the bundled sample data and guided notebooks.

The data files are built by ``make sample`` (``python -m workbench.sample``);
see ``data/README.md`` (shipped as :func:`data_readme_path`) for their
provenance and column dictionary. Loaders cache the parsed file and hand out
copies, so callers may modify what they get.

Where the files are: an installed wheel carries them inside the package
(``workbench/resources/data`` and ``workbench/resources/notebooks``, found with
:mod:`importlib.resources`); a checkout or an editable install uses the
repository's ``data/`` and ``notebooks/`` folders. :func:`copy_notebooks`
(``workbench notebooks DIR``) copies the guided notebooks into a working folder.

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

import filecmp
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from workbench.errors import InputError
from workbench.safeio import atomic_write_bytes

#: The repository checkout this module sits in (meaningful only when :data:`IN_REPOSITORY`).
REPO_DIR = Path(__file__).resolve().parents[1]


def _resource_dir(name: str) -> tuple[Path, bool]:
    """``(folder, packaged)``: the wheel's ``workbench/resources/<name>`` if installed, else ``<repo>/<name>``."""
    packaged = resources.files("workbench") / "resources" / name
    if packaged.is_dir():
        # Wheels install as plain files, so the traversable is a real folder (GDAL needs real paths).
        return Path(str(packaged)), True
    return REPO_DIR / name, False


#: Folder holding the bundled data (``<repo>/data``, or ``workbench/resources/data`` when installed).
DATA_DIR, _DATA_PACKAGED = _resource_dir("data")
#: Folder holding the guided notebooks (``<repo>/notebooks``, or ``workbench/resources/notebooks``).
NOTEBOOKS_DIR, _NOTEBOOKS_PACKAGED = _resource_dir("notebooks")
#: True in a checkout (or an editable install of one): ``make sample`` may write into ``<repo>/data``.
IN_REPOSITORY = not _DATA_PACKAGED and (REPO_DIR / "pyproject.toml").is_file()

_TEXT_COLUMNS = {"zip": str, "county_fips": str, "cbsa_code": str}


def _existing(relative: str) -> Path:
    path = DATA_DIR / relative
    if not path.is_file():
        if _DATA_PACKAGED:
            fix = "the installed package is incomplete: reinstall territory-workbench"
        else:
            fix = "run make sample (or python -m workbench.sample) to build it from ../shared/data"
        raise InputError(f"bundled data file {path} is missing; {fix}")
    return path


def data_readme_path() -> Path:
    """Path of the data README: provenance, attribution and column dictionary of the bundled files."""
    return _existing("README.md")


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


@lru_cache(maxsize=1)
def _zip_areas() -> gpd.GeoDataFrame:
    from workbench.zipareas import cached_zip_areas

    return cached_zip_areas(log=lambda message: print(message, file=sys.stderr))


def load_zip_areas() -> gpd.GeoDataFrame:
    """Approximate ZIP areas (31,682 polygons), building blocks finer than counties (a fresh copy).

    Voronoi cells of the Standard ZIP points clipped to their county, so they
    tile each county; **approximations** of real ZIP areas (see
    :mod:`workbench.zipareas`). Built from the bundled ZIP points and counties
    on first use (about 10 s) and cached in the user's cache folder
    (``$WORKBENCH_CACHE_DIR`` overrides), never inside the package.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zip`` (5-digit text), ``county_fips``, ``state``, ``primary_city``,
        ``population``, polygon geometry (EPSG:4326). Use ``block_col="zip"``
        (accounts' ``zip`` column) with the block-based estimators, or
        ``--blocks zip-areas`` on the command line.

    Examples
    --------
    >>> areas = load_zip_areas()
    >>> areas.loc[areas["zip"] == "10001", "county_fips"].item(), areas.crs.to_string()
    ('36061', 'EPSG:4326')
    """
    return _zip_areas().copy()


#: Names the command line accepts for ``--blocks`` instead of a file: the bundled building blocks.
BUNDLED_BLOCKS = {"counties": (load_counties, "county_fips"), "zip-areas": (load_zip_areas, "zip")}


def bundled_blocks(name: str):
    """``(blocks, block_col)`` for a bundled block name (``counties``, ``zip-areas``), else None.

    Examples
    --------
    >>> blocks, block_col = bundled_blocks("counties")
    >>> block_col, len(blocks)
    ('county_fips', 3107)
    >>> bundled_blocks("my_blocks.gpkg") is None
    True
    """
    entry = BUNDLED_BLOCKS.get(str(name).strip().lower().replace("_", "-"))
    if entry is None:
        return None
    loader, block_col = entry
    return loader(), block_col


def notebook_paths() -> list[Path]:
    """The guided notebooks (``01_explore_accounts.ipynb``, ...), in the order a user walks them.

    Examples
    --------
    >>> notebook_paths()[0].name
    '01_explore_accounts.ipynb'
    """
    paths = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise InputError(f"no guided notebooks (01_*.ipynb, ...) in {NOTEBOOKS_DIR}; reinstall territory-workbench")
    return paths


def copy_notebooks(folder: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the guided notebooks into ``folder`` (created) and return the copies' paths.

    The copies run from there on the bundled sample: they find the data
    through this module and save plans and exports next to themselves
    (``plans/``, ``exports/``). A notebook already in ``folder`` with the same
    content is left as it is; one that differs (your edits, or an older
    version) is never overwritten unless ``overwrite=True``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "work"
    >>> [p.name for p in copy_notebooks(folder)][:2]
    ['01_explore_accounts.ipynb', '02_cluster_accounts.ipynb']
    >>> _ = copy_notebooks(folder)  # same content again: nothing to do
    """
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder: pass a folder for the notebooks")
    sources = notebook_paths()
    changed = [folder / src.name for src in sources
               if (folder / src.name).exists() and not filecmp.cmp(src, folder / src.name, shallow=False)]
    if changed and not overwrite:
        names = ", ".join(p.name for p in changed)
        raise InputError(f"{folder} already has different copies of {names}: they were kept; "
                         "pass --overwrite (overwrite=True) to replace them, or pick another folder")
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for src in sources:
        target = folder / src.name
        if not target.exists() or target in changed:
            atomic_write_bytes(target, src.read_bytes())  # a half-copied notebook never carries the final name
        copies.append(target)
    return copies
