"""Blocks as graph nodes: ids, centroids, adjacency edges, and accounts mapped onto them.

Shared by :mod:`workbench.align.contiguous`, :mod:`workbench.align.realign_blocks` and
:mod:`workbench.align.hierarchy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from workbench.errors import InputError
from workbench.geo import block_adjacency, to_unit_xyz
from workbench.labels import fill_from_neighbours
from workbench.schema import BLOCK_ID, LATITUDE, LONGITUDE, WGS84


@dataclass
class BlockGraph:
    """Blocks as positions ``0..n-1``: ``ids`` (str), ``edges`` (pairs), ``xyz`` (centroids) and the graph."""

    ids: np.ndarray
    edges: np.ndarray
    xyz: np.ndarray | None
    graph: nx.Graph
    notes: list


def _block_ids(blocks: gpd.GeoDataFrame, block_col: str | None) -> str:
    for col in (BLOCK_ID, block_col):
        if col is not None and col in blocks.columns:
            return col
    raise InputError(f"blocks have no id column {BLOCK_ID!r} or {block_col!r} (columns: {list(blocks.columns)}); "
                     "load them with workbench.io.load_blocks(source, id_col=...)")


def as_graph(adjacency):
    """A libpysal spatial weights object (``W``: ``neighbors`` by id) as a networkx graph; others unchanged.

    Node ids are the W's ids (its ``id_order``); islands stay as nodes without edges.

    Examples
    --------
    >>> class W:  # the two attributes a libpysal W has
    ...     neighbors = {"a": ["b"], "b": ["a", "c"], "c": ["b"], "d": []}
    ...     id_order = ["a", "b", "c", "d"]
    >>> graph = as_graph(W())
    >>> sorted(graph.edges), sorted(graph.nodes)
    ([('a', 'b'), ('b', 'c')], ['a', 'b', 'c', 'd'])
    """
    if adjacency is None or isinstance(adjacency, nx.Graph):
        return adjacency
    neighbors = getattr(adjacency, "neighbors", None)
    if not isinstance(neighbors, dict) or not hasattr(adjacency, "id_order"):
        return adjacency
    graph = nx.Graph()
    graph.add_nodes_from(adjacency.id_order)
    graph.add_edges_from((node, other) for node, others in neighbors.items() for other in others if other != node)
    return graph


def block_graph(blocks=None, adjacency=None, block_col: str | None = None) -> BlockGraph:
    """Build the :class:`BlockGraph` from polygons, a prebuilt networkx graph, or both.

    With ``blocks`` only, queen adjacency comes from
    :func:`workbench.geo.block_adjacency` (islands bridged). With
    ``adjacency`` the caller's graph is used (restricted to the blocks when
    both are given). Disconnected pieces are linked at their nearest
    centroids, with a note, so every block can join a contiguous territory.
    """
    if blocks is None and adjacency is None:
        raise InputError("pass blocks= (a GeoDataFrame of block polygons, e.g. from workbench.io.load_blocks) "
                         "or adjacency= (a networkx graph whose nodes are the block ids)")
    adjacency = as_graph(adjacency)
    if adjacency is not None and not isinstance(adjacency, nx.Graph):
        raise TypeError(f"adjacency must be a networkx.Graph or a libpysal weights object (W), "
                        f"got {type(adjacency).__name__}")
    xyz = None
    notes: list = []
    if blocks is not None:
        if not isinstance(blocks, gpd.GeoDataFrame):
            raise TypeError(f"blocks must be a geopandas GeoDataFrame, got {type(blocks).__name__}")
        if len(blocks) == 0:
            raise InputError("blocks are empty: pass the block polygons the accounts fall in")
        id_col = _block_ids(blocks, block_col)
        if blocks.crs is not None and not blocks.crs.equals(WGS84):
            blocks = blocks.to_crs(WGS84)
        ids = blocks[id_col].astype(str).to_numpy(dtype=object)
        centroid = shapely.centroid(shapely.make_valid(blocks.geometry.to_numpy()))
        bad = shapely.is_empty(centroid) | shapely.is_missing(centroid)
        if bad.any():
            raise InputError(f"blocks {list(ids[bad][:5])} ({int(bad.sum())} in all) have empty or missing shapes; "
                             "repair them or load with workbench.io.load_blocks(on_invalid='exclude')")
        xyz = to_unit_xyz(shapely.get_y(centroid), shapely.get_x(centroid))
        if adjacency is None:
            graph = block_adjacency(blocks.assign(**{BLOCK_ID: ids}), BLOCK_ID)
        else:
            graph = nx.relabel_nodes(adjacency, {node: str(node) for node in adjacency.nodes}, copy=True)
            missing = [b for b in ids if b not in graph]
            if missing:
                raise InputError(f"adjacency has no node for blocks {missing[:5]} ({len(missing)} in all); "
                                 "build it from the same blocks, e.g. workbench.geo.block_adjacency(blocks, 'block_id')")
            graph = graph.subgraph(ids.tolist()).copy()
        if len(set(ids)) != len(ids):
            dup = pd.Series(ids).loc[pd.Series(ids).duplicated()].unique()[:5]
            raise InputError(f"block ids are not unique, e.g. {list(dup)}; each block needs one id")
    else:
        graph = nx.relabel_nodes(adjacency, {node: str(node) for node in adjacency.nodes}, copy=True)
        ids = np.array(list(graph.nodes), dtype=object)
        if len(ids) == 0:
            raise InputError("adjacency has no nodes: pass a graph whose nodes are the block ids")
    position = {b: i for i, b in enumerate(ids)}
    edges = np.array([[position[a], position[b]] for a, b in graph.edges if a != b], dtype=np.int64).reshape(-1, 2)
    return BlockGraph(ids=ids, edges=edges, xyz=xyz, graph=graph, notes=notes)


def fill_xyz(bg: BlockGraph, account_block: np.ndarray, account_xyz: np.ndarray) -> np.ndarray:
    """Block centroids: the polygon centroids, else the accounts' mean, else the neighbours' mean."""
    if bg.xyz is not None:
        return bg.xyz
    n = len(bg.ids)
    sums = np.zeros((n, 3))
    np.add.at(sums, account_block, account_xyz)
    known = np.linalg.norm(sums, axis=1) > 1e-12
    src = np.concatenate([bg.edges[:, 0], bg.edges[:, 1]])
    dst = np.concatenate([bg.edges[:, 1], bg.edges[:, 0]])
    for _ in range(n):
        if known.all():
            break
        take = known[src] & ~known[dst]
        if not take.any():
            break
        add = np.zeros((n, 3))
        np.add.at(add, dst[take], sums[src[take]] / np.linalg.norm(sums[src[take]], axis=1, keepdims=True))
        new = np.linalg.norm(add, axis=1) > 1e-12
        sums[new & ~known] = add[new & ~known]
        known |= new
    sums[~known] = [1.0, 0.0, 0.0]
    bg.xyz = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return bg.xyz


def connect_pieces(bg: BlockGraph) -> None:
    """Link disconnected pieces of the graph at their nearest centroids (adds a note)."""
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    from workbench.align._graph import adjacency_csr

    count, piece = connected_components(adjacency_csr(len(bg.ids), bg.edges), directed=False)
    if count <= 1:
        return
    sizes = np.bincount(piece)
    main = piece == np.argmax(sizes)
    added = []
    for p in np.argsort(sizes)[::-1][1:]:
        inside = np.flatnonzero(piece == p)
        outside = np.flatnonzero(main)
        dist, nearest = cKDTree(bg.xyz[outside]).query(bg.xyz[inside])
        best = int(np.argmin(dist))
        a, b = int(inside[best]), int(outside[nearest[best]])
        added.append([a, b])
        bg.graph.add_edge(bg.ids[a], bg.ids[b], bridge=True)
        main[inside] = True
    bg.edges = np.vstack([bg.edges, np.array(added, dtype=np.int64)])
    bg.notes.append(f"the adjacency graph had {count} separate pieces; linked them at the nearest block centroids "
                    f"({', '.join(f'{bg.ids[a]}-{bg.ids[b]}' for a, b in added[:5])})")


def accounts_on_blocks(accounts: pd.DataFrame, blocks=None, adjacency=None, block_col: str | None = None):
    """The block graph with the accounts on it: ``(graph, block of every account, account positions)``.

    The setup of every estimator whose territories are unions of blocks:
    :func:`block_graph`, :func:`account_blocks`, block centroids filled
    in from their accounts where the blocks have no geometry
    (:func:`fill_xyz`), and separate pieces of the graph linked at their
    nearest blocks (:func:`connect_pieces`, noted in ``graph.notes``).
    """
    bg = block_graph(blocks, adjacency, block_col)
    acc_block = account_blocks(accounts, block_col, bg.ids)
    acc_xyz = account_xyz(accounts)
    fill_xyz(bg, acc_block, acc_xyz)
    connect_pieces(bg)
    return bg, acc_block, acc_xyz


#: Blocks without accounts more than this many borders from any block with accounts are left out of a fit
#: (:func:`near_accounts`). Measured on six states' 12,418 accounts on the national county layer (691 of
#: 3,107 counties with accounts): 30 fresh contiguous territories at 5% were 91 km from their centre (Polsby-Popper
#: 0.23) in 9 s on the whole layer, 76 km (0.35) in 5 s trimmed; realigning them at 10% took 73 s and moved
#: 1.16x the bordering bound at 99 km (current 91), trimmed 7 s, 1.11x at 90 km.
EMPTY_HOPS = 1


def near_accounts(bg: BlockGraph, account_block: np.ndarray, hops: int = EMPTY_HOPS):
    """The blocks with accounts and those within ``hops`` borders of one: ``(graph, account blocks, kept)``.

    Regional accounts on a national block layer (a few states' accounts on
    all 3,107 counties) leave most blocks empty; far from any account they
    only add corridors of empty blocks through which territories would
    "border" and stay "connected" (and every search step pays for them).
    ``kept`` indexes the kept blocks in ``bg``; pieces the trimming separates
    are linked at their nearest blocks (:func:`connect_pieces`). The graph is
    ``bg`` itself when nothing is trimmed.

    Examples
    --------
    >>> ids = np.array(list("abcde"), dtype=object)
    >>> graph = nx.path_graph(ids.tolist())
    >>> bg = BlockGraph(ids, np.array([[0, 1], [1, 2], [2, 3], [3, 4]]), np.eye(5, 3), graph, [])
    >>> trimmed, blocks, kept = near_accounts(bg, np.array([0, 0, 1]), hops=1)
    >>> trimmed.ids.tolist(), blocks.tolist(), kept.tolist()
    (['a', 'b', 'c'], [0, 0, 1], [0, 1, 2])
    """
    from workbench.align._graph import adjacency_csr

    n = len(bg.ids)
    reach = np.zeros(n, dtype=bool)
    reach[account_block] = True
    adjacency = adjacency_csr(n, bg.edges)
    for _ in range(hops):
        reach |= adjacency @ reach.astype(np.int8) > 0
    if reach.all():
        return bg, account_block, np.arange(n)
    kept = np.flatnonzero(reach)
    position = np.full(n, -1)
    position[kept] = np.arange(kept.size)
    edges = bg.edges[reach[bg.edges[:, 0]] & reach[bg.edges[:, 1]]]
    trimmed = BlockGraph(ids=bg.ids[kept], edges=position[edges], xyz=bg.xyz[kept],
                         graph=bg.graph.subgraph(bg.ids[kept].tolist()).copy(), notes=list(bg.notes))
    connect_pieces(trimmed)
    return trimmed, position[account_block], kept


def labels_on_all(full: BlockGraph, kept: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels of every block of ``full`` from those of its ``kept`` blocks: the others join a neighbour
    (:func:`fill_blocks`), so a map or ``predict`` covers the whole layer."""
    out = np.full(len(full.ids), -1, dtype=np.int64)
    out[kept] = labels
    return fill_blocks(out, full.edges) if len(kept) < len(full.ids) else out


def account_blocks(accounts: pd.DataFrame, block_col: str, ids: np.ndarray) -> np.ndarray:
    """Position of every account's block in ``ids``; InputError naming accounts outside the blocks."""
    if block_col not in accounts.columns:
        raise InputError(f"accounts have no block column {block_col!r} (columns: {list(accounts.columns)}); "
                         "pass block_col= naming the column that holds each account's block id")
    values = accounts[block_col]
    text = values.astype(str).to_numpy(dtype=object)
    position = pd.Index(ids).get_indexer(text)
    bad = (position < 0) | values.isna().to_numpy()
    if bad.any():
        label = accounts["account_id"] if "account_id" in accounts.columns else pd.Series(accounts.index, index=accounts.index)
        shown = [f"{a} ({block_col}={b})" for a, b in zip(label[bad].astype(str)[:5], values[bad].astype(str)[:5])]
        held = ", ".join(map(str, list(ids[:3]))) + (", ..." if len(ids) > 3 else "")
        raise InputError(f"{int(bad.sum())} accounts are in no block of the blocks given: {', '.join(shown)}"
                         f"{' ...' if bad.sum() > 5 else ''} (the blocks' ids read: {held or 'none'}). "
                         f"Fix: pass blocks covering every {block_col!r} value "
                         "(e.g. the full county layer), correct those ids (read them as text so leading zeros stay: "
                         "'01001', not 1001), or drop those accounts")
    return position


def account_xyz(accounts: pd.DataFrame) -> np.ndarray:
    """Unit-sphere coordinates of the accounts."""
    return to_unit_xyz(accounts[LATITUDE].to_numpy(dtype=float), accounts[LONGITUDE].to_numpy(dtype=float))


def fill_blocks(block_label: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Blocks labelled -1 (no accounts) join a neighbour (:func:`workbench.labels.fill_from_neighbours`);
    blocks no labelled block reaches (a graph part with no accounts) go to territory 0."""
    filled = fill_from_neighbours(block_label, edges, missing=block_label < 0)
    filled[filled < 0] = 0
    return filled
