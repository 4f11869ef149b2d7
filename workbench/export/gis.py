"""``territories.gpkg`` and ``territories.geojson``: one polygon per territory with its totals."""

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
