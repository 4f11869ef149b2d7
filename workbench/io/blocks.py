"""Load building blocks (counties, ZIP areas, bricks: any polygons) and check accounts fall in them."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.io._checks import Checker, check_on_invalid, near_matches
from workbench.io._source import GEO_SUFFIXES, RawTable, _from_frame, _read_geo, _suffix
from workbench.io.report import LoadReport
from workbench.schema import ACCOUNT_ID, BLOCK_ID, WGS84

_POLYGONAL = ("Polygon", "MultiPolygon")


def load_blocks(source, id_col, *, layer=None, on_invalid="raise", return_report=False):
    """Load building-block polygons with a string ``block_id`` in EPSG:4326.

    Parameters
    ----------
    source : str, pathlib.Path or geopandas.GeoDataFrame
        Any polygon file geopandas reads (GeoPackage, GeoJSON, TopoJSON,
        shapefile, FlatGeobuf) or a GeoDataFrame.
    id_col : str
        Column holding the block id (e.g. ``"county_fips"``); read as text and
        copied to ``block_id``.
    layer : str, optional
        Layer of a multi-layer file (GeoPackage, TopoJSON).
    on_invalid : {"raise", "exclude"}
        What to do with blocks lacking an id or a usable polygon.
    return_report : bool
        Also return a :class:`LoadReport` (repairs are listed in its warnings).

    Returns
    -------
    geopandas.GeoDataFrame or (geopandas.GeoDataFrame, LoadReport)
        ``block_id`` first, the input's other columns, polygonal geometry in
        EPSG:4326. Invalid shapes are repaired with ``make_valid`` keeping their
        polygonal parts (a :class:`UserWarning` names them). A layer with no CRS
        whose coordinates fit longitude/latitude is taken as EPSG:4326, with a
        warning; otherwise that is an error.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> squares = gpd.GeoDataFrame({"code": [7, 8]}, crs="EPSG:4326", geometry=[
    ...     Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]), Polygon([(1, 0), (2, 0), (2, 1), (1, 1)])])
    >>> load_blocks(squares, "code")[["block_id", "code"]]
      block_id code
    0        7    7
    1        8    8
    """
    check_on_invalid(on_invalid)
    table = _read_blocks(source, id_col, layer)
    frame = table.frame
    checker = Checker(table, names={BLOCK_ID: id_col}, id_column=BLOCK_ID, on_invalid=on_invalid)
    geometry = _to_wgs84(table, checker)
    checker.check_ids("block", "id_col")

    ids = [f"block {i!r}" for i in frame[BLOCK_ID].to_numpy(dtype=object)]
    missing = geometry.isna().to_numpy()
    checker.flag(missing, "geometry", "block has no geometry",
                 "Fix: draw the shape in your GIS or remove the row; every block needs a polygon.", values=ids,
                 reasons="block has no geometry")
    kinds = geometry.geom_type.to_numpy(dtype=object, na_value=None)
    wrong = ~missing & ~np.isin(kinds, _POLYGONAL) & ~geometry.is_empty.to_numpy()
    checker.flag(wrong, "geometry", "geometry is not a polygon",
                 "Fix: pass the polygon layer (not points or lines), or buffer points into areas first.",
                 values=[f"{i}: {k}" for i, k in zip(ids, kinds)])
    empty = ~missing & geometry.is_empty.to_numpy()
    checker.flag(empty, "geometry", "geometry is empty",
                 "Fix: redraw the shape or remove the row (on_invalid='exclude' leaves it out); accounts "
                 "in an empty block cannot be mapped.", values=ids, reasons="geometry is empty")
    geometry = _repair(geometry, checker)
    checker.check_all_invalid("blocks")

    import geopandas as gpd

    frame.insert(0, BLOCK_ID, frame.pop(BLOCK_ID))
    keep = checker.keep
    out = gpd.GeoDataFrame(frame, geometry=geometry.to_numpy(), crs=WGS84)
    if not keep.all():
        out = out.loc[keep].reset_index(drop=True)
    for message in checker.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    if not return_report:
        return out
    report = LoadReport(source=table.source.name, n_rows_read=len(keep), n_loaded=len(out),
                        excluded=checker.excluded_frame(), warnings=checker.warnings, unit="row")
    return out, report


def _read_blocks(source, id_col, layer) -> RawTable:
    def is_text(name: str) -> bool:
        return name == id_col

    if isinstance(source, pd.DataFrame):
        if not hasattr(source, "geometry") or getattr(source, "_geometry_column_name", None) not in source:
            raise TypeError(
                "blocks must be a GeoDataFrame with polygon geometry, got a plain DataFrame. "
                "Fix: geopandas.GeoDataFrame(frame, geometry=..., crs=...) or pass the polygon file.")
        table = _from_frame(source, is_text)
        table.crs = source.crs
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"blocks file not found: {path} (working directory: {Path.cwd()})")
        if _suffix(path) not in GEO_SUFFIXES and not path.is_dir():
            raise InputError(
                f"{path.name}: blocks need polygons, and {path.suffix or 'this file'} is not a spatial format. "
                f"Fix: pass a GeoPackage, GeoJSON, TopoJSON (with layer=) or shapefile.")
        table = _read_geo(path, what="blocks", is_text=is_text, layer=layer)
    else:
        raise TypeError(f"blocks source must be a path or GeoDataFrame, got {type(source).__name__}")
    if table.geometry is None:
        raise InputError(f"{table.source.name}: no geometry column. Fix: pass the polygon layer.")
    if id_col not in table.frame:
        present = list(map(str, table.frame.columns))
        near = near_matches(id_col, present)
        hint = f" Did you mean {' or '.join(map(repr, near))}?" if near else ""
        raise InputError(
            f"{table.source.name}: missing the block id column {id_col!r} (columns found: "
            f"{', '.join(map(repr, present[:12]))}).{hint} Fix: pass id_col= with the column holding "
            f"the block ids (CLI: --block-col).")
    table.frame[BLOCK_ID] = table.frame[id_col].astype("str").str.strip()
    return table


def _to_wgs84(table: RawTable, checker: Checker):
    geometry = table.geometry
    crs = table.crs if table.crs is not None else geometry.crs
    if crs is None:
        bounds = geometry.total_bounds
        if np.all(np.isfinite(bounds)) and -180 <= bounds[0] and bounds[2] <= 180 \
                and -90 <= bounds[1] and bounds[3] <= 90:
            checker.warnings.append(
                f"{table.source.name} has no CRS; its coordinates fit longitude/latitude, so they were "
                f"taken as EPSG:4326 (WGS84). Fix if wrong: set the CRS in the file.")
            return geometry.set_crs(WGS84, allow_override=True)
        raise InputError(
            f"{table.source.name} has no CRS (coordinate reference system) and its coordinates "
            f"(x {bounds[0]:.6g} to {bounds[2]:.6g}, y {bounds[1]:.6g} to {bounds[3]:.6g}) are not "
            f"longitude/latitude. Fix: set the CRS in your GIS and re-export, or pass "
            f"gdf.set_crs('EPSG:....') with the projection the file was made in.")
    geometry = geometry.set_crs(crs, allow_override=True)
    if not geometry.crs.equals(WGS84):
        geometry = geometry.to_crs(WGS84)
    return geometry


def _repair(geometry, checker: Checker):
    """make_valid the invalid shapes that are still kept; keep only polygonal parts."""
    import shapely  # here, not at the top: reading accounts (the align CLI) needs no geometry library

    values = np.asarray(geometry.array, dtype=object).copy()
    present = checker.keep & ~pd.isna(values)
    invalid = np.zeros(len(values), bool)
    invalid[present] = ~shapely.is_valid(values[present])
    if not invalid.any():
        return geometry
    fixed = shapely.make_valid(values[invalid], method="structure", keep_collapsed=False)
    fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
    values[invalid] = fixed
    lost = np.zeros(len(values), bool)
    lost[np.flatnonzero(invalid)[shapely.is_empty(fixed)]] = True
    checker.flag(lost, "geometry", "shape is invalid and nothing polygonal is left after repair",
                 "Fix: redraw the shape in your GIS (it has no area once self-intersections are removed).",
                 values=checker.frame[BLOCK_ID].to_numpy(dtype=object))
    repaired = invalid & ~lost
    if repaired.any():
        ids = checker.frame[BLOCK_ID].to_numpy(dtype=object)[repaired]
        shown = ", ".join(map(str, ids[:10])) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        checker.warnings.append(
            f"{checker.source.name}: repaired {int(repaired.sum())} invalid shapes (self-intersections, "
            f"bad rings) with make_valid, keeping their polygonal parts: blocks {shown}.")
    return type(geometry)(values, crs=geometry.crs)


def _polygonal(geom):
    import shapely

    if geom is None or geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    if not parts:
        return shapely.MultiPolygon()
    merged = shapely.union_all(parts)
    return merged


def check_blocks_cover(accounts, blocks, block_col) -> None:
    """Raise if an account's block id is missing or not among the blocks.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Loaded accounts (see :func:`load_accounts`).
    blocks : pandas.DataFrame or geopandas.GeoDataFrame
        Loaded blocks with a ``block_id`` column (see :func:`load_blocks`).
    block_col : str
        Account column holding the block id, e.g. ``"county_fips"``.

    Raises
    ------
    InputError
        Listing the first accounts whose block is missing, with their values.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A", "B"], "county_fips": ["01001", "01003"]})
    >>> check_blocks_cover(accounts, pd.DataFrame({"block_id": ["01001", "01003"]}), "county_fips")
    >>> check_blocks_cover(accounts, pd.DataFrame({"block_id": ["01001"]}), "county_fips")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: the accounts: 1 account has a 'county_fips' that is not among the 1 blocks: B ('01003'). Fix: add the missing blocks to the block file, correct the accounts' 'county_fips', or choose another block_col.
    """
    if not isinstance(accounts, pd.DataFrame) or not isinstance(blocks, pd.DataFrame):
        raise TypeError("check_blocks_cover needs two DataFrames (accounts, blocks)")
    if BLOCK_ID not in blocks:
        raise InputError(f"blocks have no {BLOCK_ID!r} column (columns: {list(blocks.columns)[:10]}). "
                         f"Fix: load them with load_blocks(path, id_col=...).")
    if block_col not in accounts:
        near = near_matches(block_col, accounts.columns)
        hint = f" Did you mean {' or '.join(map(repr, near))}?" if near else ""
        raise InputError(f"the accounts have no column {block_col!r} to match blocks on.{hint} "
                         f"Fix: pass block_col= with the account column holding the block id.")
    values = accounts[block_col]
    text = values.astype("str").str.strip()
    known = pd.Index(blocks[BLOCK_ID].astype("str"))
    bad = (values.isna() | (text == "") | ~text.isin(known)).to_numpy()
    if bad.any():
        ids = accounts[ACCOUNT_ID].to_numpy(dtype=object) if ACCOUNT_ID in accounts else accounts.index.to_numpy()
        shown_values = np.where(values.isna().to_numpy(), "empty", "'" + text.fillna("").to_numpy(dtype=object) + "'")
        listing = ", ".join(f"{i} ({v})" for i, v in zip(ids[bad][:5], shown_values[bad][:5]))
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        n = int(bad.sum())
        raise InputError(
            f"the accounts: {n} account{'s have' if n > 1 else ' has'} a {block_col!r} that is not among the "
            f"{len(known)} blocks: {listing}{more}. Fix: add the missing blocks to the block file, correct the "
            f"accounts' {block_col!r}, or choose another block_col.")

