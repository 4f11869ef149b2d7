"""The clickable units of the comparison map: blocks, single accounts, or grid cells of accounts.

:func:`build_items` turns the accounts (and optional blocks) into :class:`MapItems`:
one geometry, name and set of account rows per item, the blocks without accounts
drawn beside them, and the block adjacency over both. :func:`majority_owner` says
which territory holds an item (the one with most of its accounts).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from workbench.errors import InputError
from workbench.geo import block_adjacency
from workbench.schema import BLOCK_ID, LATITUDE, LONGITUDE, WGS84
from workbench.shapes import point_cells

#: Above this many accounts (and without blocks), accounts are grouped into grid cells.
MAX_ACCOUNT_ITEMS = 2000
#: Side of a grid cell in degrees (about 50 km): a few hundred cells for a national account base.
CELL_DEG = 0.5


@dataclass(frozen=True)
class MapItems:
    """The items of a map and what the model needs to know about them.

    Attributes
    ----------
    kind : str
        ``"block"``, ``"account"`` or ``"cell"``.
    ids, names, geometry : numpy.ndarray
        Per item: id (str), readable name, shapely geometry.
    of_row : numpy.ndarray
        Item position of each account row.
    rows_of : list of numpy.ndarray
        Account rows of each item.
    count : numpy.ndarray
        Accounts per item.
    x, y : numpy.ndarray
        A representative point per item (inside its geometry).
    empty_ids, empty_names, empty_geometry : numpy.ndarray
        Blocks without accounts (drawn, never moved).
    graph : networkx.Graph or None
        Block adjacency, nodes numbered items first, then empty blocks; None without blocks.
    """

    kind: str
    ids: np.ndarray
    names: np.ndarray
    geometry: np.ndarray
    of_row: np.ndarray
    rows_of: list
    count: np.ndarray
    x: np.ndarray
    y: np.ndarray
    empty_ids: np.ndarray
    empty_names: np.ndarray
    empty_geometry: np.ndarray
    graph: nx.Graph | None

    @property
    def empty_nodes(self) -> set:
        """Graph nodes of the blocks without accounts."""
        return set(range(len(self.ids), len(self.ids) + len(self.empty_ids)))


def block_names(blocks: gpd.GeoDataFrame, block_ids: np.ndarray) -> np.ndarray:
    """A readable name per block: ``"Los Angeles, CA"`` from ``name``/``state`` columns, else the id.

    Examples
    --------
    >>> blocks = gpd.GeoDataFrame({"name": ["Kings", None], "state": ["NY", None]}, geometry=[None, None])
    >>> block_names(blocks, np.array(["36047", "36061"])).tolist()
    ['Kings, NY', '36061']
    """
    if "name" not in blocks.columns:
        return np.asarray(block_ids, dtype=object)
    names = blocks["name"].astype(object).where(blocks["name"].notna(), "").astype(str).to_numpy(dtype=object)
    if "state" in blocks.columns:
        states = blocks["state"].astype(object).where(blocks["state"].notna(), "").astype(str).to_numpy(dtype=object)
        names = np.where(states != "", names + ", " + states, names)
    return np.where(names == "", np.asarray(block_ids, dtype=object), names).astype(object)


def build_items(accounts: pd.DataFrame, account_ids: np.ndarray, *, blocks=None, block_col=None,
                land=None) -> MapItems:
    """The clickable units of ``accounts``: its blocks, else the accounts, else grid cells of them.

    Parameters
    ----------
    accounts : pandas.DataFrame
        ``latitude``, ``longitude`` (and ``block_col`` with blocks; ``name`` names single accounts).
    account_ids : numpy.ndarray
        Id (str) of each account row.
    blocks : geopandas.GeoDataFrame, optional
        Polygons with an id column ``block_col`` (or ``block_id``).
    block_col : str, optional
        The accounts' block column; required with ``blocks``.
    land : geometry, optional
        Without blocks, account cells are clipped to it.

    Returns
    -------
    MapItems
    """
    graph = None
    empty_geometry = np.array([], dtype=object)
    empty_ids = empty_names = np.array([], dtype=object)
    names = None
    if blocks is not None:
        if block_col is None:
            raise InputError("blocks were given without block_col; pass block_col= naming the accounts' block column")
        if block_col not in accounts.columns:
            raise InputError(f"accounts have no block column {block_col!r} (columns: {list(accounts.columns)})")
        if not isinstance(blocks, gpd.GeoDataFrame):
            raise TypeError(f"blocks must be a GeoDataFrame, got {type(blocks).__name__}")
        id_col = block_col if block_col in blocks.columns else BLOCK_ID
        if id_col not in blocks.columns:
            raise InputError(f"blocks have neither {block_col!r} nor {BLOCK_ID!r} (columns: {list(blocks.columns)})")
        blocks = blocks.to_crs(WGS84) if blocks.crs is not None and not blocks.crs.equals(WGS84) else blocks
        block_ids = blocks[id_col].astype(str).to_numpy()
        keys = accounts[block_col].astype(str).to_numpy()
        kind = "block"
        position = pd.Index(block_ids).get_indexer(keys)
        if (position < 0).any():
            bad = pd.unique(keys[position < 0])[:5].tolist()
            raise InputError(f"accounts are in {block_col} {bad} which are not among the blocks; "
                             "pass blocks covering every account")
        used = np.bincount(position, minlength=len(block_ids)) > 0
        empty_geometry = np.asarray(blocks.geometry.values[~used], dtype=object)
        keep = np.flatnonzero(used)
        ids = block_ids[keep]
        geometry = np.asarray(blocks.geometry.values[keep], dtype=object)
        of_row = np.searchsorted(keep, position)
        all_names = block_names(blocks, block_ids)
        names, empty_names = all_names[keep], all_names[~used]
        empty_ids = block_ids[~used].astype(str)
        graph = _block_graph(blocks, id_col, ids.astype(str), empty_ids)
    else:
        lat = accounts[LATITUDE].to_numpy(dtype=float)
        lon = accounts[LONGITUDE].to_numpy(dtype=float)
        if len(accounts) <= MAX_ACCOUNT_ITEMS:
            kind = "account"
            ids = account_ids
            of_row = np.arange(len(accounts))
            points_lon, points_lat = lon, lat
            if "name" in accounts.columns:
                names = accounts["name"].astype(str).to_numpy(dtype=object)
        else:
            kind = "cell"
            keys = pd.Series(np.floor(lat / CELL_DEG).astype(int).astype(str)) + ":" + pd.Series(
                np.floor(lon / CELL_DEG).astype(int).astype(str))
            of_row, uniques = pd.factorize(keys, sort=True)
            ids = np.asarray(uniques, dtype=object)
            points_lat = np.bincount(of_row, weights=lat) / np.bincount(of_row)
            points_lon = np.bincount(of_row, weights=lon) / np.bincount(of_row)
        geometry = point_cells(points_lon, points_lat, land).to_numpy()
    ids = np.asarray(ids, dtype=object).astype(str)
    if names is None or len(names) != len(ids):
        names = ids.astype(object)
    order = np.argsort(of_row, kind="stable")
    bounds = np.searchsorted(of_row[order], np.arange(len(ids) + 1))
    points = shapely.point_on_surface(geometry)
    return MapItems(kind=kind, ids=ids, names=names, geometry=geometry, of_row=of_row,
                    rows_of=[order[bounds[i]:bounds[i + 1]] for i in range(len(ids))], count=np.diff(bounds),
                    x=shapely.get_x(points), y=shapely.get_y(points), empty_ids=empty_ids, empty_names=empty_names,
                    empty_geometry=empty_geometry, graph=graph)


def _block_graph(blocks: gpd.GeoDataFrame, id_col: str, item_ids: np.ndarray, empty_ids: np.ndarray) -> nx.Graph:
    """Block adjacency over every block (with and without accounts), as item positions."""
    graph = block_adjacency(blocks.assign(_id=blocks[id_col].astype(str)), "_id")
    position = {**{b: i for i, b in enumerate(item_ids)},
                **{b: len(item_ids) + j for j, b in enumerate(empty_ids)}}
    return nx.relabel_nodes(graph, position)


def majority_owner(items: MapItems, positions: np.ndarray, codes: np.ndarray, n_territories: int) -> np.ndarray:
    """Territory code holding most accounts of each item at ``positions`` (ties: smallest code).

    Examples
    --------
    >>> import types
    >>> items = types.SimpleNamespace(ids=np.array(["a", "b"]), of_row=np.array([0, 0, 0, 1]),
    ...                               rows_of=[np.array([0, 1, 2]), np.array([3])])
    >>> majority_owner(items, np.array([0, 1]), np.array([2, 1, 1, 0]), 3).tolist()
    [1, 0]
    """
    if len(positions) == 0:
        return np.array([], dtype=int)
    rows = (np.concatenate([items.rows_of[i] for i in positions]) if len(positions) < len(items.ids)
            else np.arange(len(codes)))
    keys = items.of_row[rows].astype(np.int64) * n_territories + codes[rows]
    counts = pd.Series(1, index=keys).groupby(level=0).size()
    item_of_key, code_of_key = np.divmod(counts.index.to_numpy(), n_territories)
    frame = pd.DataFrame({"item": item_of_key, "code": code_of_key, "n": counts.to_numpy()})
    frame = frame.sort_values(["item", "n", "code"], ascending=[True, False, True], kind="stable")
    best = frame.drop_duplicates("item").set_index("item")["code"]
    return np.array(best.reindex(positions).to_numpy(dtype=int))


def describe_rows(items: MapItems, rows: np.ndarray, block_col: str | None = None) -> str | None:
    """What these account rows are, in words: their blocks (``Jackson, MO``; several are counted) or
    their account's name; None for grid cells (they have no name worth reading)."""
    if items.kind == "cell":
        return None
    from workbench.plan import blocks_phrase

    positions = np.unique(items.of_row[rows])
    ids = items.ids[positions].astype(str)
    names = dict(zip(ids, items.names[positions].astype(str)))
    if items.kind == "account":
        return blocks_phrase(ids, "account", names) if len(ids) == 1 else None
    return blocks_phrase(ids, block_col or "block", names)


def rows_text(items: MapItems, rows: np.ndarray, block_col: str | None = None) -> str:
    """The rows for a status line: ``Brazos, TX (9 accounts)``, ``12 accounts in 3 counties (...)``."""
    what = describe_rows(items, rows, block_col)
    accounts = f"{len(rows):,} account{'' if len(rows) == 1 else 's'}"
    if what is None:
        cells = len(np.unique(items.of_row[rows]))
        return f"{accounts} in {cells:,} map {'cell' if cells == 1 else 'cells'}"
    return f"{accounts} in {what}" if what.endswith(")") else f"{what} ({accounts})"
