"""Geometry on the globe: great-circle distances, unit-sphere coordinates, block adjacency.

Accounts can be anywhere on Earth, so nothing here is projected to a local
plane. k-means and nearest-neighbour searches run on 3-D unit-sphere
coordinates, where the straight-line (chord) distance grows monotonically
with the great-circle distance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workbench.errors import InputError

if TYPE_CHECKING:  # geopandas and networkx load only where blocks are used (not on every `workbench` command)
    import geopandas as gpd
    import networkx as nx

#: Mean Earth radius in kilometres (IUGG).
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1, lon1, lat2, lon2):
    """Great-circle (haversine) distance in kilometres, vectorised and broadcasting.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : float or array-like
        Coordinates in decimal degrees (WGS84).

    Returns
    -------
    float or numpy.ndarray
        Distance in kilometres.

    Examples
    --------
    >>> round(float(great_circle_km(40.7128, -74.0060, 34.0522, -118.2437)))
    3936
    """
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def to_unit_xyz(lat, lon) -> np.ndarray:
    """Convert latitude/longitude in degrees to points on the unit sphere.

    Returns
    -------
    numpy.ndarray of shape (n, 3)

    Examples
    --------
    >>> to_unit_xyz([0.0, 90.0], [0.0, 0.0]).round(6).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    lat = np.radians(np.asarray(lat, dtype=float))
    lon = np.radians(np.asarray(lon, dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def xyz_to_latlon(xyz) -> tuple[np.ndarray, np.ndarray]:
    """Convert 3-D points (not necessarily of unit length) back to latitude/longitude degrees.

    A centre computed as a weighted mean of unit vectors lies inside the
    sphere; its direction gives the spherical centre.

    Examples
    --------
    >>> lat, lon = xyz_to_latlon([[0.0, 2.0, 0.0]])
    >>> float(lat[0]), float(lon[0])
    (0.0, 90.0)
    """
    xyz = np.atleast_2d(np.asarray(xyz, dtype=float))
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon


def chord_to_km(chord):
    """Convert unit-sphere chord lengths to great-circle kilometres.

    Examples
    --------
    >>> round(float(chord_to_km(2.0)))  # antipodes: half the circumference
    20015
    """
    chord = np.clip(np.asarray(chord, dtype=float), 0.0, 2.0)
    return 2 * EARTH_RADIUS_KM * np.arcsin(chord / 2)


def block_adjacency(blocks: gpd.GeoDataFrame, id_col: str = "block_id") -> nx.Graph:
    """Queen-contiguity graph of polygon blocks, with islands bridged.

    Two blocks are neighbours when their shapes share at least one point
    (a common edge or corner). Blocks or groups of blocks with no path to the
    rest (water islands, exclaves) are linked to their nearest block outside
    the group, so that every block can join a contiguous territory; such
    links carry the edge attribute ``bridge=True``.

    Parameters
    ----------
    blocks : geopandas.GeoDataFrame
        Polygons with a unique id column.
    id_col : str, default "block_id"
        Column holding the block ids (graph nodes).

    Returns
    -------
    networkx.Graph
        Nodes are block ids (in the order of ``blocks``), edges neighbours.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> blocks = gpd.GeoDataFrame(
    ...     {"block_id": ["a", "b", "c", "island"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2), box(5, 0, 6, 1)],
    ...     crs="EPSG:4326")
    >>> graph = block_adjacency(blocks)
    >>> sorted(map(sorted, graph.edges()))
    [['a', 'b'], ['b', 'c'], ['c', 'island']]
    >>> graph.edges["c", "island"]["bridge"]
    True
    """
    import geopandas as gpd
    import networkx as nx

    if not isinstance(blocks, gpd.GeoDataFrame):
        raise TypeError(f"blocks must be a GeoDataFrame, got {type(blocks).__name__}")
    if id_col not in blocks.columns:
        raise InputError(
            f"blocks have no id column {id_col!r} (columns: {list(blocks.columns)}); "
            "pass id_col= naming the block id column"
        )
    ids = blocks[id_col].astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        duplicated = blocks.loc[blocks[id_col].astype(str).duplicated(), id_col].astype(str).unique()[:5]
        raise InputError(f"block ids in column {id_col!r} are not unique, e.g. {list(duplicated)}; each block needs one id")
    geoms = blocks.geometry.reset_index(drop=True)
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    if len(ids) == 0:
        return graph
    left, right = geoms.sindex.query(geoms, predicate="intersects")
    keep = left < right
    graph.add_edges_from(zip(ids[left[keep]], ids[right[keep]]), bridge=False)
    _bridge_components(graph, geoms, ids)
    return graph


def _bridge_components(graph: nx.Graph, geoms: gpd.GeoSeries, ids: np.ndarray) -> None:
    """Link every component to the nearest block of the largest component, smallest first."""
    import networkx as nx

    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    if len(components) <= 1:
        return
    position = {block: i for i, block in enumerate(ids)}
    main = set(components[0])
    metric = geoms.to_crs(geoms.estimate_utm_crs()) if geoms.crs is not None and geoms.crs.is_geographic else geoms
    for component in components[1:]:
        inside = np.array([position[b] for b in component])
        outside = np.array([position[b] for b in main])
        source, target = metric.iloc[outside].sindex.nearest(metric.iloc[inside], return_all=False)
        distances = metric.iloc[inside].iloc[source].distance(metric.iloc[outside].iloc[target], align=False)
        best = int(np.argmin(distances.to_numpy()))
        graph.add_edge(ids[inside[source[best]]], ids[outside[target[best]]], bridge=True)
        main |= component


def grid_travel_minutes(lat1, lon1, lat2, lon2, speed_kmh: float = 60.0):
    """Travel time (minutes) along a north-south then east-west road grid, at ``speed_kmh``.

    A stand-in for a road network: pass it (with :func:`functools.partial` to
    set the speed) as ``distance=`` of an estimator. Vectorised and
    broadcasting, like :func:`great_circle_km`.

    Examples
    --------
    >>> round(float(grid_travel_minutes(40.0, -100.0, 41.0, -99.0, speed_kmh=60.0)), 1)
    195.1
    """
    return (great_circle_km(lat1, lon1, lat2, lon1) + great_circle_km(lat2, lon1, lat2, lon2)) / speed_kmh * 60.0
