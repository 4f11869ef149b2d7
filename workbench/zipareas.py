"""Approximate ZIP areas: building blocks finer than counties, made from the bundled ZIP points.

ZIP codes are the building block most sales organisations use, and counties
are too coarse (Los Angeles County alone is about a third more than a
territory's share at 40 territories). The Postal Service publishes no ZIP
boundaries (ZIP codes are delivery routes; the Census Bureau's ZCTAs
approximate them), so the workbench approximates them from what it ships:

* every *Standard* ZIP point of the lower 48 + DC that lies inside a county
  polygon gets one area;
* within each county, the area of a ZIP is the part of the county nearer to
  its point than to any other ZIP point of that county (a Voronoi cell
  clipped to the county), so the areas of a county tile it exactly and never
  cross a county line;
* the shapes are simplified (about 200 m) to keep them light.

These are **approximations**: real ZIP areas follow roads and rivers, and PO
Box, unique and military ZIP codes (points inside other ZIPs) get no area.
Use them to draw territories finer than counties; for legal or mailing
boundaries load real polygons (e.g. Census ZCTAs) with
:func:`workbench.io.load_blocks`.

Building them takes about 10 s, so :func:`load_zip_areas` does it on first use
and caches the result in the user's cache folder (``platformdirs``:
``~/.cache/territory-workbench`` on Linux; ``$WORKBENCH_CACHE_DIR`` overrides),
never inside the installed package. The cache file is named after the hash of
the inputs and of the build settings, so new data or a new version rebuilds it.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> counties = gpd.GeoDataFrame({"county_fips": ["00001"]}, geometry=[box(0, 0, 2, 1)], crs="EPSG:4326")
>>> zips = pd.DataFrame({"zip": ["00010", "00020", "00030"], "zip_type": ["Standard", "Standard", "PO_Box"],
...                      "latitude": [0.5, 0.5, 0.5], "longitude": [0.5, 1.5, 1.0], "state": "KS",
...                      "primary_city": "Hays", "population": [10, 20, 0]})
>>> areas = build_zip_areas(zips, counties, simplify=0)
>>> areas[["zip", "county_fips"]].to_dict("list"), shapely.area(areas.geometry.values).round(3).tolist()
({'zip': ['00010', '00020'], 'county_fips': ['00001', '00001']}, [1.0, 1.0])
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from workbench.errors import InputError
from workbench.schema import COUNTY_FIPS, LATITUDE, LONGITUDE, STATE, ZIP

#: Bump when the construction changes: the cache key includes it.
BUILD_VERSION = 1
#: Simplification tolerance in degrees (about 200 m): small enough that areas keep their shape and still tile.
SIMPLIFY_DEGREES = 0.002
#: Environment variable naming the cache folder (else the platform's user cache folder).
CACHE_ENV = "WORKBENCH_CACHE_DIR"
#: Columns of the result, besides geometry.
COLUMNS = (ZIP, COUNTY_FIPS, STATE, "primary_city", "population")


def cache_dir() -> Path:
    """Folder for files the workbench builds on first use: ``$WORKBENCH_CACHE_DIR``, else the user cache folder.

    Examples
    --------
    >>> cache_dir().name in ("territory-workbench", os.environ.get(CACHE_ENV, "-").rstrip("/").split("/")[-1])
    True
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("territory-workbench", appauthor=False))


def build_zip_areas(zip_points: pd.DataFrame, counties: gpd.GeoDataFrame, *,
                    simplify: float = SIMPLIFY_DEGREES) -> gpd.GeoDataFrame:
    """Approximate ZIP areas: Voronoi cells of the Standard ZIP points, clipped to their county.

    Parameters
    ----------
    zip_points : pandas.DataFrame
        ``zip``, ``zip_type``, ``latitude``, ``longitude`` (and optionally
        ``state``, ``primary_city``, ``population``), e.g.
        :func:`workbench.bundled.load_zip_points`.
    counties : geopandas.GeoDataFrame
        ``county_fips`` and polygons in EPSG:4326, e.g.
        :func:`workbench.bundled.load_counties`.
    simplify : float, default SIMPLIFY_DEGREES
        Douglas-Peucker tolerance in degrees (0 keeps the exact cells).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per Standard ZIP point inside a county, sorted by ``zip``:
        ``zip``, ``county_fips`` (the county the point lies in), ``state``,
        ``primary_city``, ``population`` and the polygon (EPSG:4326). The areas
        of a county cover it without overlap. ``attrs["counties_without_zip"]``
        lists counties with no Standard ZIP point (not covered).
    """
    from workbench.sample.geodata import locate_zips

    missing = [c for c in (ZIP, "zip_type", LATITUDE, LONGITUDE) if c not in zip_points.columns]
    if missing:
        raise InputError(f"ZIP points lack columns {missing} (columns: {list(zip_points.columns)}); "
                         "pass workbench.bundled.load_zip_points()")
    if COUNTY_FIPS not in counties.columns:
        raise InputError(f"counties lack {COUNTY_FIPS!r} (columns: {list(counties.columns)}); "
                         "pass workbench.bundled.load_counties()")
    counties = counties.to_crs(4326) if counties.crs is not None and counties.crs.to_epsg() != 4326 else counties
    standard = zip_points.loc[zip_points["zip_type"] == "Standard"].copy()
    located = locate_zips(standard, counties).to_numpy(dtype=object)
    inside = pd.notna(located) & (located != "nan")
    standard = standard.loc[inside].assign(**{COUNTY_FIPS: located[inside]})
    standard = standard.drop_duplicates([LATITUDE, LONGITUDE]).sort_values(ZIP, kind="stable")
    shapes = counties.set_index(COUNTY_FIPS).geometry
    ids, cells = [], []
    for fips, group in standard.groupby(COUNTY_FIPS, sort=True):
        county = shapes[fips]
        points = shapely.points(group[LONGITUDE].to_numpy(), group[LATITUDE].to_numpy())
        if len(points) == 1:
            ids.append(group[ZIP].iloc[0])
            cells.append(county)
            continue
        parts = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=county))
        point_index, cell_index = shapely.STRtree(parts).query(points, predicate="within")
        cell_of = np.full(len(points), -1)
        cell_of[point_index] = cell_index
        for zip_code, cell in zip(group[ZIP].to_numpy(), cell_of):
            if cell >= 0:
                ids.append(zip_code)
                cells.append(parts[cell])
    table = standard.set_index(ZIP).loc[ids]
    clipped = shapely.intersection(np.asarray(cells, dtype=object), shapes.loc[table[COUNTY_FIPS]].to_numpy())
    if simplify:
        clipped = shapely.simplify(clipped, simplify, preserve_topology=True)
    clipped = shapely.make_valid(clipped)
    frame = pd.DataFrame({ZIP: ids, COUNTY_FIPS: table[COUNTY_FIPS].to_numpy()})
    for column in COLUMNS[2:]:
        frame[column] = table[column].to_numpy() if column in table.columns else None
    areas = gpd.GeoDataFrame(frame, geometry=clipped, crs="EPSG:4326")
    areas = areas.loc[~areas.geometry.is_empty & areas.geometry.notna()].reset_index(drop=True)
    areas.attrs["counties_without_zip"] = sorted(set(shapes.index) - set(areas[COUNTY_FIPS]))
    return areas


def _inputs_key(paths, simplify: float) -> str:
    digest = hashlib.sha256(f"zip-areas/{BUILD_VERSION}/{simplify!r}".encode())
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def cached_zip_areas(*, refresh: bool = False, log=None) -> gpd.GeoDataFrame:
    """The bundled ZIP areas, built on first use and cached (see the module docstring).

    Parameters
    ----------
    refresh : bool, default False
        Rebuild even if a cached copy exists.
    log : callable, optional
        Called with a message when the areas are built (e.g. ``print``).
    """
    from workbench import bundled
    from workbench.safeio import atomic_path

    inputs = (bundled.zip_points_path(), bundled.counties_path())
    path = cache_dir() / f"zip_areas-{_inputs_key(inputs, SIMPLIFY_DEGREES)}.parquet"
    if path.is_file() and not refresh:
        try:
            return gpd.read_parquet(path)
        except (OSError, ValueError) as exc:  # a damaged cache file is rebuilt, not trusted
            if log:
                log(f"cached ZIP areas {path} unreadable ({exc}); rebuilding")
    started = time.perf_counter()
    areas = build_zip_areas(bundled.load_zip_points(), bundled.load_counties())
    try:
        with atomic_path(path) as tmp:
            areas.to_parquet(tmp)
    except OSError as exc:  # a read-only home still gets the areas, just not cached
        if log:
            log(f"could not cache the ZIP areas in {path.parent} ({exc}); set {CACHE_ENV} to a writable folder")
    if log:
        log(f"built {len(areas):,} approximate ZIP areas in {time.perf_counter() - started:.0f} s; cached in {path}")
    return areas
