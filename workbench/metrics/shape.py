"""Shape metrics of block-built territories: Polsby-Popper compactness and contiguity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.metrics._core import _split_assigned
from workbench.schema import BLOCK_ID, COUNTY_FIPS, TERRITORY_ID, WGS84


def _block_table(accounts, labels, blocks, block_col):
    """Blocks shapes keyed by id, and the (territory, block) pairs the accounts imply."""
    block_col = block_col or COUNTY_FIPS
    if block_col not in accounts.columns:
        raise InputError(f"accounts have no block column {block_col!r}; pass block_col= naming the column "
                         "that links each account to its block")
    id_col = BLOCK_ID if BLOCK_ID in blocks.columns else block_col
    if id_col not in blocks.columns:
        raise InputError(f"blocks have neither a {BLOCK_ID!r} nor a {block_col!r} column; load them with "
                         "workbench.io.load_blocks")
    shapes = blocks.assign(**{BLOCK_ID: blocks[id_col].astype(str)})
    pairs = pd.DataFrame({TERRITORY_ID: labels.to_numpy(), BLOCK_ID: accounts[block_col].astype(str).to_numpy()})
    pairs = pairs.drop_duplicates()
    unknown = pd.Index(pairs[BLOCK_ID].unique()).difference(shapes[BLOCK_ID])
    if len(unknown):
        raise InputError(f"accounts name {block_col} values {list(unknown[:5])} that are not in the blocks; "
                         "load the blocks covering every account")
    return shapes, pairs


def block_graph(blocks, block_col: str | None = None):
    """Queen-contiguity graph of the blocks (node ids as text), via :func:`workbench.geo.block_adjacency`.

    The id column is ``block_id`` when present, else ``block_col`` (default ``county_fips``).
    """
    from workbench.geo import block_adjacency

    block_col = block_col or COUNTY_FIPS
    id_col = BLOCK_ID if BLOCK_ID in blocks.columns else block_col
    if id_col not in blocks.columns:
        raise InputError(f"blocks have neither a {BLOCK_ID!r} nor a {block_col!r} column; load them with "
                         "workbench.io.load_blocks")
    return block_adjacency(blocks.assign(**{BLOCK_ID: blocks[id_col].astype(str)}), BLOCK_ID)


def polsby_popper(accounts: pd.DataFrame, labels, blocks, block_col: str | None = None) -> pd.Series:
    """Polsby-Popper score 4πA/P² of each territory's dissolved blocks (1 = a disc; small = sprawling).

    Each territory's shape is the union of the blocks holding its accounts.
    Area and perimeter are measured in a Lambert azimuthal equal-area
    projection centred on the territory, so the score is right anywhere on
    the globe.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["a", "b"]}, geometry=[box(0, 0, 0.1, 0.1), box(0.1, 0, 0.2, 0.1)],
    ...                           crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"county_fips": ["a", "b"]})
    >>> polsby_popper(accounts, ["T1", "T1"], blocks).round(2).to_dict()  # a 2:1 rectangle: 2*pi/9
    {'T1': 0.7}
    """
    import geopandas as gpd

    sub, clean, _ = _split_assigned(accounts, labels)
    shapes, pairs = _block_table(sub, clean, blocks, block_col)
    merged = gpd.GeoDataFrame(pairs.merge(shapes[[BLOCK_ID, "geometry"]], on=BLOCK_ID), geometry="geometry",
                              crs=blocks.crs)
    dissolved = merged.dissolve(by=TERRITORY_ID)
    if dissolved.crs is not None and not dissolved.crs.equals(WGS84):
        dissolved = dissolved.to_crs(WGS84)
    scores = {}
    for territory, geom in dissolved.geometry.items():  # one projection per territory (few), not per account
        centre = geom.representative_point()
        laea = f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m"
        projected = gpd.GeoSeries([geom], crs=WGS84).to_crs(laea).iloc[0]
        perimeter = projected.length
        scores[territory] = 4 * np.pi * projected.area / perimeter ** 2 if perimeter > 0 else np.nan
    out = pd.Series(scores, name="polsby_popper", dtype=float)
    out.index.name = TERRITORY_ID
    return out.sort_index()


def contiguity(accounts: pd.DataFrame, labels, blocks=None, block_col: str | None = None,
               adjacency=None) -> pd.DataFrame:
    """Whether each territory's blocks form one connected piece, and how many pieces they form.

    Uses :func:`workbench.geo.block_adjacency` (islands are bridged to their
    nearest block, so an island county does not break a territory); pass
    ``adjacency`` (a networkx graph of block ids) to reuse one. Blocks that
    hold no account at all belong to no territory and may connect a
    territory's blocks: an empty rural county is not a hole.

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id``; ``contiguous`` (bool), ``pieces`` (int).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["a", "b", "c"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"county_fips": ["a", "c", "b"]})
    >>> contiguity(accounts, ["T1", "T1", "T2"], blocks).to_dict("index")
    {'T1': {'contiguous': False, 'pieces': 2}, 'T2': {'contiguous': True, 'pieces': 1}}

    An empty block between two blocks of a territory connects them:

    >>> contiguity(accounts.iloc[:2], ["T1", "T1"], blocks).to_dict("index")
    {'T1': {'contiguous': True, 'pieces': 1}}
    """
    import networkx as nx

    from workbench.geo import block_adjacency

    sub, clean, _ = _split_assigned(accounts, labels)
    if adjacency is None:
        if blocks is None:
            raise ValueError("contiguity needs blocks (polygons) or an adjacency graph")
        shapes, pairs = _block_table(sub, clean, blocks, block_col)
        adjacency = block_adjacency(shapes, BLOCK_ID)
    else:
        block_col = block_col or COUNTY_FIPS
        pairs = pd.DataFrame({TERRITORY_ID: clean.to_numpy(), BLOCK_ID: sub[block_col].astype(str).to_numpy()})
        pairs = pairs.drop_duplicates()
    # Blocks that hold no account belong to no territory: they may link a territory's
    # pieces (a rural county with no customer between two of its counties is no hole).
    empty = set(adjacency.nodes) - set(pairs[BLOCK_ID])
    rows = {}
    for territory, members in pairs.groupby(TERRITORY_ID, sort=True)[BLOCK_ID]:
        own = set(members.tolist())
        graph = adjacency.subgraph(own | empty)
        pieces = sum(1 for component in nx.connected_components(graph) if component & own)
        rows[territory] = {"contiguous": pieces == 1, "pieces": int(pieces)}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["contiguous", "pieces"])
    out.index.name = TERRITORY_ID
    return out
