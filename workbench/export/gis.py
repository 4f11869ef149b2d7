"""``territories.gpkg`` and ``territories.geojson`` (and, asked for, ``shapefile/``): one polygon per territory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.schema import COUNTY_FIPS, TERRITORY_ID, WGS84

#: Layer name inside ``territories.gpkg``.
LAYER = "territories"


def default_blocks(accounts: pd.DataFrame, blocks=None, block_col: str | None = None):
    """The blocks to dissolve for a plan's accounts: given ones, else bundled counties, else none.

    Returns ``(blocks, block_col)``; ``(None, None)`` means territory polygons
    are drawn as hulls around the accounts.
    """
    if blocks is not None:
        if block_col is None:
            raise TypeError("blocks were given without block_col: name the accounts' column holding the block id")
        return blocks, block_col
    if block_col is None and COUNTY_FIPS in accounts.columns:
        block_col = COUNTY_FIPS
    if block_col == COUNTY_FIPS:
        from workbench.bundled import load_counties

        return load_counties(), COUNTY_FIPS
    return None, None


def territory_shapes(accounts: pd.DataFrame, labels, territories: pd.DataFrame, *, blocks=None,
                     block_col: str | None = None):
    """GeoDataFrame (EPSG:4326) with one row per territory: its polygon and the ``territories`` columns.

    Parameters
    ----------
    accounts : pandas.DataFrame
        The plan's accounts.
    labels : array-like
        Territory id per account row.
    territories : pandas.DataFrame
        Index territory_id: names, rep, hierarchy and totals to attach.
    blocks, block_col
        Building blocks to dissolve (see :func:`default_blocks`).
    """
    import geopandas as gpd

    from workbench.shapes import territory_polygons

    blocks, block_col = default_blocks(accounts, blocks, block_col)
    polygons = territory_polygons(accounts, labels, blocks=blocks, block_col=block_col)
    polygons = polygons.copy()
    polygons.index = polygons.index.astype(str)
    frame = territories.copy()
    frame.index = frame.index.astype(str)
    geometry = polygons.geometry.reindex(frame.index)
    out = gpd.GeoDataFrame(frame.reset_index(), geometry=geometry.to_numpy(), crs=polygons.crs or WGS84)
    out = out.rename(columns={"index": TERRITORY_ID})
    return out.to_crs(WGS84)


def write_shapes(shapes, folder: Path) -> list[Path]:
    """Write ``territories.gpkg`` (layer ``territories``) and ``territories.geojson``."""
    gpkg = folder / "territories.gpkg"
    geojson = folder / "territories.geojson"
    shapes.to_file(gpkg, layer=LAYER, driver="GPKG")
    shapes.to_file(geojson, driver="GeoJSON")
    return [gpkg, geojson]


#: Folder of the shapefile export (``--format shp``) and the stem of its files.
SHAPEFILE_DIR, SHAPEFILE_STEM = "shapefile", "territories"


def shapefile_names(columns) -> dict:
    """Column -> DBF field name of at most 10 characters, unique (shapefiles allow no longer names).

    Examples
    --------
    >>> shapefile_names(["territory_id", "workload_deviation", "workload_deviation_pct", "rep"])
    {'territory_id': 'territory_', 'workload_deviation': 'workload_d', 'workload_deviation_pct': 'workload_1', 'rep': 'rep'}
    """
    names, used = {}, set()
    for column in columns:
        base = str(column)[:10]
        name, number = base, 0
        while name.lower() in used:
            number += 1
            name = f"{base[:10 - len(str(number))]}{number}"
        used.add(name.lower())
        names[column] = name
    return names


def write_shapefile(shapes, folder: Path) -> list[Path]:
    """Write ``shapefile/territories.shp`` (+ .shx, .dbf, .prj, .cpg) and ``shapefile/fields.csv``.

    DBF field names are cut to 10 characters; ``fields.csv`` maps each back
    to the full column name. Text is UTF-8 (the ``.cpg`` says so).
    """
    target = folder / SHAPEFILE_DIR
    target.mkdir(parents=True, exist_ok=True)
    names = shapefile_names([c for c in shapes.columns if c != shapes.geometry.name])
    short = shapes.rename(columns=names)
    path = target / f"{SHAPEFILE_STEM}.shp"
    short.to_file(path, driver="ESRI Shapefile", encoding="UTF-8")
    pd.DataFrame({"field": list(names.values()), "column": list(names.keys())}).to_csv(
        target / "fields.csv", index=False, lineterminator="\n")
    return sorted(target.iterdir())
