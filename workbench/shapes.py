"""Territory shapes for maps: blocks grouped per territory, or cells around accounts.

A territory built from building blocks (counties, ZIPs) is drawn as its blocks.
A territory of loose accounts has no natural outline; it is drawn as the union
of the Voronoi cells of its accounts, clipped to land (or to a buffered hull
of the accounts when no land is given), so that neighbouring territories tile
the map without gaps or overlaps.

Everything here works in longitude/latitude degrees: these are display shapes,
not measurements.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from workbench.errors import InputError
from workbench.labels import labels_for_rows
from workbench.schema import BLOCK_ID, LATITUDE, LONGITUDE, TERRITORY_ID, WGS84

#: Margin (degrees) around the accounts' convex hull when no land is given.
HULL_MARGIN_DEG = 0.5


def block_labels(accounts: pd.DataFrame, labels, block_col: str) -> pd.Series:
    """Territory of each building block: the territory holding most of its accounts.

    Ties go to the smallest territory id, so the answer does not depend on row order.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Accounts with a ``block_col`` column.
    labels : array-like
        Territory id of each account row.
    block_col : str
        Column of ``accounts`` naming each account's block.

    Returns
    -------
    pandas.Series
        Index block id (str, sorted), values territory id (str), name ``territory_id``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"county_fips": ["01", "01", "01", "02"]})
    >>> block_labels(accounts, ["B", "A", "A", "B"], "county_fips").to_dict()
    {'01': 'A', '02': 'B'}
    """
    if block_col not in accounts.columns:
        raise InputError(
            f"accounts have no block column {block_col!r} (columns: {list(accounts.columns)}); "
            "pass block_col= naming the column that holds each account's block id"
        )
    frame = pd.DataFrame({"block": accounts[block_col].astype(str).to_numpy(),
                          TERRITORY_ID: labels_for_rows(labels, accounts).astype(str)})
    counts = frame.groupby(["block", TERRITORY_ID], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["block", "n", TERRITORY_ID], ascending=[True, False, True], kind="stable")
    best = counts.drop_duplicates("block").set_index("block")[TERRITORY_ID]
    best.index.name = BLOCK_ID
    return best


def _land_geometry(land, points: np.ndarray):
    if land is None:
        hull = shapely.convex_hull(shapely.multipoints(points))
        return shapely.buffer(hull, HULL_MARGIN_DEG)
    if isinstance(land, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if land.crs is not None and not land.crs.equals(WGS84):
            land = land.to_crs(WGS84)
        return shapely.union_all(shapely.make_valid(np.asarray(land.geometry.values if isinstance(land, gpd.GeoDataFrame) else land.values)))
    if isinstance(land, shapely.Geometry):
        return land
    raise TypeError(f"land must be a GeoDataFrame, GeoSeries or shapely geometry, got {type(land).__name__}")


def point_cells(longitude, latitude, land=None) -> gpd.GeoSeries:
    """Voronoi cell of every point, clipped to land: a tiling to draw point territories.

    Points at the same location share one cell.

    Parameters
    ----------
    longitude, latitude : array-like
        Point coordinates in degrees.
    land : GeoDataFrame, GeoSeries or shapely geometry, optional
        Area the cells are clipped to; default the points' convex hull buffered by
        ``HULL_MARGIN_DEG`` degrees.

    Returns
    -------
    geopandas.GeoSeries
        One (multi)polygon per input point, in input order, EPSG:4326.

    Examples
    --------
    >>> cells = point_cells([0.0, 2.0], [0.0, 0.0])
    >>> [round(c.area, 2) for c in cells]  # the buffered hull split in two halves
    [1.39, 1.39]
    >>> round(cells[0].bounds[2], 6)   # the boundary runs half way between the points
    1.0
    """
    lon = np.asarray(longitude, dtype=float)
    lat = np.asarray(latitude, dtype=float)
    if len(lon) != len(lat):
        raise InputError(f"longitude has {len(lon)} values but latitude has {len(lat)}")
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        bad = np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))[:5].tolist()
        raise InputError(f"points need finite coordinates; rows {bad} have none; geocode or drop them first")
    if len(lon) == 0:
        return gpd.GeoSeries([], crs=WGS84)
    coords = np.column_stack([lon, lat])
    unique, inverse = np.unique(coords, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    region = _land_geometry(land, unique)
    if len(unique) == 1:
        cells = np.array([region], dtype=object)
    else:
        envelope = shapely.box(*shapely.bounds(shapely.union(region, shapely.multipoints(unique))))
        diagram = shapely.voronoi_polygons(shapely.multipoints(unique), extend_to=shapely.buffer(envelope, 1.0),
                                           ordered=True)
        cells = np.asarray(shapely.get_parts(diagram))
        if len(cells) != len(unique):  # collinear or snapped input: match cells to points by location
            tree = shapely.STRtree(cells)
            hit = tree.query(shapely.points(unique), predicate="intersects")
            order = pd.Series(hit[1]).groupby(hit[0]).first().reindex(range(len(unique)))
            cells = cells[order.fillna(0).astype(int).to_numpy()]
        cells = shapely.intersection(cells, region)
    return gpd.GeoSeries(cells[inverse], crs=WGS84)


def territory_polygons(accounts: pd.DataFrame, labels, blocks: gpd.GeoDataFrame | None = None,
                       block_col: str | None = None, land=None) -> gpd.GeoDataFrame:
    """One polygon per territory: its blocks dissolved, or its accounts' Voronoi cells.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Accounts with ``latitude``/``longitude`` (and ``block_col`` when blocks are given).
    labels : array-like
        Territory id of each account row.
    blocks : geopandas.GeoDataFrame, optional
        Building blocks with an id column named ``block_col`` (or ``block_id``).
        A block goes to the territory holding most of its accounts; blocks
        without accounts are left out.
    block_col : str, optional
        Column naming each account's block; required with ``blocks``.
    land : GeoDataFrame, GeoSeries or shapely geometry, optional
        Without blocks, cells are clipped to it (default: buffered hull of the accounts).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``territory_id`` (sorted), columns ``accounts`` (count) and ``geometry``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> blocks = gpd.GeoDataFrame({"county_fips": ["a", "b", "c"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"county_fips": ["a", "b", "c", "c"],
    ...     "latitude": [0.5] * 4, "longitude": [0.5, 1.5, 2.5, 2.6]})
    >>> shapes = territory_polygons(accounts, ["T1", "T1", "T2", "T2"], blocks, "county_fips")
    >>> shapes["accounts"].to_dict(), [round(g.area, 1) for g in shapes.geometry]
    ({'T1': 2, 'T2': 2}, [2.0, 1.0])
    """
    values = labels_for_rows(labels, accounts).astype(str)
    counts = pd.Series(values).value_counts().sort_index()
    if blocks is not None:
        if block_col is None:
            raise InputError("blocks were given without block_col; pass block_col= naming the accounts' block column")
        id_col = block_col if block_col in blocks.columns else BLOCK_ID
        if id_col not in blocks.columns:
            raise InputError(
                f"blocks have neither a {block_col!r} nor a {BLOCK_ID!r} column (columns: {list(blocks.columns)}); "
                "rename the blocks' id column"
            )
        owner = block_labels(accounts, values, block_col)
        frame = gpd.GeoDataFrame({TERRITORY_ID: blocks[id_col].astype(str).map(owner).to_numpy()},
                                 geometry=blocks.geometry.to_crs(WGS84).values if blocks.crs is not None
                                 else blocks.geometry.values, crs=WGS84)
        frame = frame[frame[TERRITORY_ID].notna()]
    else:
        cells = point_cells(accounts[LONGITUDE], accounts[LATITUDE], land)
        frame = gpd.GeoDataFrame({TERRITORY_ID: values}, geometry=cells.values, crs=WGS84)
    shapes = frame.dissolve(by=TERRITORY_ID, sort=True)
    shapes.insert(0, "accounts", counts.reindex(shapes.index).fillna(0).astype(int))
    shapes.index.name = TERRITORY_ID
    return shapes
