"""Counties, states and ZIP points of the bundled sample, from the raw public files.

The raw files (see ``../shared/data/SOURCES.md``) are read unchanged; every fix
applied here is listed in :data:`COUNTY_FIXES` and reported by the build.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from workbench.errors import InputError
from workbench.geo import block_adjacency
from workbench.schema import COUNTY_FIPS, LATITUDE, LONGITUDE, STATE, WGS84, ZIP

#: 2-digit state FIPS code -> USPS abbreviation, lower 48 + DC.
STATE_ABBREVIATIONS = {
    "01": "AL", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE",
    "11": "DC", "12": "FL", "13": "GA", "16": "ID", "17": "IL", "18": "IN", "19": "IA",
    "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI",
    "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE", "32": "NV", "33": "NH",
    "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH", "40": "OK",
    "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX",
    "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY",
}

#: Counties folded into a neighbour: {absorbed: absorbing}. Falls Church city (VA)
#: is an empty shape after the us-atlas simplification; it lies inside Fairfax.
COUNTY_FOLDS = {"51610": "51059"}

#: County FIPS codes renamed between the boundary vintage and the 2019 estimates
#: (old code -> code used by the estimates). Applied to the shapes, reported.
FIPS_RENAMES = {"46113": "46102", "51515": "51019", "02270": "02158"}

#: Raw file names inside the raw data folder.
COUNTIES_FILE = "counties-10m.json"
STATES_FILE = "states-10m.json"
POPULATION_FILE = "us_county_population_2019.csv"
ZIP_FILE = "us_zip_2022.csv.gz"

#: Columns of ``zip_points.csv.gz``, in order.
ZIP_COLUMNS = [
    ZIP, STATE, COUNTY_FIPS, "primary_city", LATITUDE, LONGITUDE, "population", "households",
    "median_household_income", "zip_type", "land_area_sq_mi", "cbsa_code", "urbanicity_tier",
]


def as_multipolygon(geom):
    """Return the polygon parts of a geometry as one MultiPolygon (repairing it first).

    Lines and points left over by ``make_valid`` are dropped; an empty or
    polygon-free input gives an empty MultiPolygon.

    Examples
    --------
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # self-intersecting
    >>> fixed = as_multipolygon(bowtie)
    >>> fixed.geom_type, fixed.is_valid, round(fixed.area, 3)
    ('MultiPolygon', True, 2.0)
    """
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon | MultiPolygon)]
    polygons = [q for p in parts for q in (p.geoms if isinstance(p, MultiPolygon) else [p])]
    return MultiPolygon(polygons)


def _lower48(frame: pd.DataFrame, fips_col: str) -> pd.Series:
    return frame[fips_col].str[:2].isin(STATE_ABBREVIATIONS)


def read_population(raw_dir: Path) -> pd.DataFrame:
    """County population 2010 and 2019 with 5-digit zero-padded ``county_fips`` (str).

    Examples
    --------
    >>> from workbench.sample import default_raw_dir
    >>> read_population(default_raw_dir()).iloc[0].tolist()  # doctest: +SKIP
    ['01001', 54571, 55869]
    """
    path = Path(raw_dir) / POPULATION_FILE
    table = pd.read_csv(path, encoding="latin-1", dtype={"fips": str})
    table[COUNTY_FIPS] = table["fips"].str.strip().str.zfill(5)
    bad = table.loc[~table[COUNTY_FIPS].str.fullmatch(r"\d{5}"), "fips"]
    duplicated = table.loc[table[COUNTY_FIPS].duplicated(), COUNTY_FIPS]
    if len(bad) or len(duplicated):
        raise InputError(
            f"{path}: column 'fips' must hold unique county FIPS codes; bad values "
            f"{bad.head(5).tolist()}, duplicates {duplicated.head(5).tolist()}; restore the raw file"
        )
    return table[[COUNTY_FIPS, "pop2010", "pop2019"]]


def build_counties(raw_dir: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict]:
    """Lower-48 + DC counties with 2019 population, repaired and folded.

    Returns the counties (sorted by ``county_fips``), a table of ``county_fips,
    pop2010, pop2019`` aligned with them (used to age the workload), and a
    report dict of the fixes applied (its ``adjacency`` entry is the county
    graph of :func:`workbench.geo.block_adjacency`).

    Examples
    --------
    >>> from workbench.sample import default_raw_dir
    >>> counties, ages, report = build_counties(default_raw_dir())  # doctest: +SKIP
    >>> len(counties), report["islands"]  # doctest: +SKIP
    (3107, ['25019', '53055'])
    """
    raw_dir = Path(raw_dir)
    shapes = gpd.read_file(raw_dir / COUNTIES_FILE, layer="counties").set_crs(WGS84)
    shapes = shapes.rename(columns={"id": COUNTY_FIPS})
    shapes = shapes.loc[_lower48(shapes, COUNTY_FIPS)].copy()
    renamed = sorted(set(shapes[COUNTY_FIPS]) & set(FIPS_RENAMES))
    shapes[COUNTY_FIPS] = shapes[COUNTY_FIPS].replace(FIPS_RENAMES)

    invalid = shapes.loc[~shapes.is_valid, COUNTY_FIPS].tolist()
    empty = shapes.loc[shapes.is_empty, COUNTY_FIPS].tolist()
    shapes["geometry"] = [as_multipolygon(g) for g in shapes.geometry]

    population = read_population(raw_dir)
    merged = shapes.merge(population, on=COUNTY_FIPS, how="left", validate="one_to_one")
    no_population = merged.loc[merged["pop2019"].isna(), COUNTY_FIPS].tolist()
    pop48 = population.loc[_lower48(population, COUNTY_FIPS)]
    no_shape = sorted(set(pop48[COUNTY_FIPS]) - set(merged[COUNTY_FIPS]))
    if no_population or no_shape:
        raise InputError(
            f"county FIPS codes of {COUNTIES_FILE} and {POPULATION_FILE} do not match: "
            f"shapes without population {no_population[:5]}, population without shape "
            f"{no_shape[:5]}; add the code change to workbench.sample.geodata.FIPS_RENAMES"
        )

    merged = merged.set_index(COUNTY_FIPS)
    for absorbed, into in COUNTY_FOLDS.items():
        merged.loc[into, "geometry"] = as_multipolygon(
            shapely.union(merged.at[into, "geometry"], merged.at[absorbed, "geometry"]))
        merged.loc[into, ["pop2010", "pop2019"]] += merged.loc[absorbed, ["pop2010", "pop2019"]]
        merged = merged.drop(index=absorbed)
    merged = merged.sort_index().reset_index()

    still_bad = merged.loc[~merged.is_valid | merged.is_empty, COUNTY_FIPS].tolist()
    if still_bad:
        raise InputError(f"{COUNTIES_FILE}: counties {still_bad[:5]} are still invalid or empty after repair")

    graph = block_adjacency(merged[[COUNTY_FIPS, "geometry"]], id_col=COUNTY_FIPS)
    bridges = [(a, b) for a, b, bridge in graph.edges(data="bridge") if bridge]
    unbridged = graph.copy()
    unbridged.remove_edges_from(bridges)
    main = max(nx.connected_components(unbridged), key=len)
    islands = sorted(set(merged[COUNTY_FIPS]) - main)

    state_fips = merged[COUNTY_FIPS].str[:2]
    counties = gpd.GeoDataFrame(
        {
            COUNTY_FIPS: merged[COUNTY_FIPS],
            "name": merged["name"],
            STATE: state_fips.map(STATE_ABBREVIATIONS),
            "state_fips": state_fips,
            "population_2019": merged["pop2019"].astype("int64"),
            "is_island": merged[COUNTY_FIPS].isin(islands),
        },
        geometry=gpd.GeoSeries(merged.geometry.to_numpy(), crs=WGS84),
    )
    ages = merged[[COUNTY_FIPS, "pop2010", "pop2019"]].astype({"pop2010": "int64", "pop2019": "int64"})
    report = {
        "invalid_repaired": invalid,
        "empty": empty,
        "folded": dict(COUNTY_FOLDS),
        "fips_renamed": renamed,
        "islands": islands,
        "bridges": sorted(tuple(sorted(edge)) for edge in bridges),
        "adjacency": graph,
    }
    return counties, ages, report


def build_states(raw_dir: Path) -> gpd.GeoDataFrame:
    """Lower-48 + DC state polygons: ``state_fips, state, name, geometry``, sorted by FIPS.

    Examples
    --------
    >>> from workbench.sample import default_raw_dir
    >>> build_states(default_raw_dir())["state"].head(3).tolist()  # doctest: +SKIP
    ['AL', 'AZ', 'AR']
    """
    shapes = gpd.read_file(Path(raw_dir) / STATES_FILE, layer="states").set_crs(WGS84)
    shapes = shapes.rename(columns={"id": "state_fips"})
    shapes = shapes.loc[shapes["state_fips"].isin(STATE_ABBREVIATIONS)].sort_values("state_fips")
    missing = sorted(set(STATE_ABBREVIATIONS) - set(shapes["state_fips"]))
    if missing:
        raise InputError(f"{STATES_FILE}: layer 'states' lacks state FIPS {missing[:5]}; restore the raw file")
    return gpd.GeoDataFrame(
        {
            "state_fips": shapes["state_fips"].to_numpy(),
            STATE: shapes["state_fips"].map(STATE_ABBREVIATIONS).to_numpy(),
            "name": shapes["name"].to_numpy(),
        },
        geometry=gpd.GeoSeries([as_multipolygon(g) for g in shapes.geometry], crs=WGS84),
    )


def read_zip_points(raw_dir: Path) -> pd.DataFrame:
    """The raw ZIP table with the bundled column names, sorted by ``zip`` (every ZIP kept).

    Examples
    --------
    >>> from workbench.sample import default_raw_dir
    >>> read_zip_points(default_raw_dir())["zip"].iloc[0]  # doctest: +SKIP
    '00501'
    """
    path = Path(raw_dir) / ZIP_FILE
    table = pd.read_csv(path, dtype={"zip": str, "county_fips": str, "cbsa_code": str})
    table = table.rename(columns={"lat": LATITUDE, "lon": LONGITUDE})
    missing = [c for c in ZIP_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing}; restore the raw file")
    bad = table.loc[~table[ZIP].str.fullmatch(r"\d{5}", na=False), ZIP]
    if len(bad) or table[ZIP].duplicated().any():
        raise InputError(f"{path}: column 'zip' must hold unique 5-digit codes, e.g. bad {bad.head(5).tolist()}")
    for column in ("population", "households", "median_household_income"):
        table[column] = table[column].round().astype("Int64")
    return table[ZIP_COLUMNS].sort_values(ZIP, kind="stable").reset_index(drop=True)


def locate_zips(zips: pd.DataFrame, counties: gpd.GeoDataFrame) -> pd.Series:
    """County polygon (``county_fips``) strictly containing each ZIP point, or missing.

    Uses the coordinates rounded to 6 decimals, as written to the CSVs.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> counties = gpd.GeoDataFrame({"county_fips": ["00001"]}, geometry=[box(0, 0, 1, 1)])
    >>> zips = pd.DataFrame({"latitude": [0.5, 5.0], "longitude": [0.5, 0.5]})
    >>> locate_zips(zips, counties).tolist()
    ['00001', nan]
    """
    lat = zips[LATITUDE].round(6).to_numpy()
    lon = zips[LONGITUDE].round(6).to_numpy()
    ok = np.isfinite(lat) & np.isfinite(lon)
    points = shapely.points(lon[ok], lat[ok])
    point_idx, county_idx = counties.sindex.query(points, predicate="within")
    order = np.lexsort((county_idx, point_idx))  # first county per point, deterministic
    point_idx, county_idx = point_idx[order], county_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    result = np.full(len(zips), None, dtype=object)
    rows = np.flatnonzero(ok)[point_idx[first]]
    result[rows] = counties[COUNTY_FIPS].to_numpy()[county_idx[first]]
    return pd.Series(result, index=zips.index, name=COUNTY_FIPS).astype("str")
