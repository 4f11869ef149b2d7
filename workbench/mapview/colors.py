"""Colour-blind-safe colours for territory maps.

Territories get categorical colours chosen by greedy graph colouring of their
adjacency, so neighbours differ; a metric's deviation from the mean uses a
diverging scale (Paul Tol's BuRd: blue under, red over, light near the mean).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_hex

#: Okabe & Ito (2008) colour-blind-safe palette without black.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: Paul Tol's "muted" qualitative palette, used after Okabe-Ito when a map needs more colours.
TOL_MUTED = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499")
#: Default categorical palette for territories.
TERRITORY_PALETTE = OKABE_ITO + TOL_MUTED
#: Paul Tol's diverging BuRd scale (colour-blind safe).
TOL_BURD = ("#2166AC", "#4393C3", "#92C5DE", "#D1E5F0", "#F7F7F7", "#FDDBC7", "#F4A582", "#D6604D", "#B2182B")
DIVERGING = LinearSegmentedColormap.from_list("tol_burd", TOL_BURD, N=255)  # odd: 0 maps to the middle colour
#: Colour of moved and locked outlines.
OUTLINE = "#000000"


def territory_graph(block_graph: nx.Graph, *owners: Mapping) -> nx.Graph:
    """Adjacency of territories: two territories touch when any of their blocks do.

    Parameters
    ----------
    block_graph : networkx.Graph
        Block adjacency (e.g. :func:`workbench.geo.block_adjacency`).
    *owners : mapping
        One or more ``block id -> territory id`` mappings (e.g. current and
        proposed); the union of their adjacencies is returned, so a territory
        keeps one colour on both maps.

    Examples
    --------
    >>> blocks = nx.path_graph(["a", "b", "c"])
    >>> [sorted(edge) for edge in territory_graph(blocks, {"a": "T1", "b": "T1", "c": "T2"}).edges()]
    [['T1', 'T2']]
    """
    graph = nx.Graph()
    for owner in owners:
        graph.add_nodes_from(set(owner.values()))
        for u, v in block_graph.edges():
            tu, tv = owner.get(u), owner.get(v)
            if tu is not None and tv is not None and tu != tv:
                graph.add_edge(tu, tv)
    return graph


def territory_colors(graph: nx.Graph, palette: Iterable[str] = TERRITORY_PALETTE) -> dict[str, str]:
    """Colour territories so that neighbours differ, from a colour-blind-safe palette.

    Greedy colouring (largest degree first) of the territory graph; a planar
    map needs few colours, so the first Okabe-Ito colours do most of the work.
    If a graph needed more colours than the palette holds, colours repeat.

    Examples
    --------
    >>> colors = territory_colors(nx.Graph([("T1", "T2"), ("T2", "T3")]))
    >>> colors["T1"] != colors["T2"] != colors["T3"]
    True
    >>> sorted(colors)
    ['T1', 'T2', 'T3']
    """
    palette = tuple(palette)
    slots = nx.greedy_color(graph, strategy="largest_first")
    # Spread colours beyond the first few by sorted id so the map does not depend on dict order.
    return {str(node): palette[slots[node] % len(palette)] for node in sorted(graph.nodes)}


def deviation_colors(deviation, limit: float | None = None) -> list[str]:
    """Diverging colours for signed deviations from the mean (0.1 = 10% over).

    Parameters
    ----------
    deviation : array-like of float
    limit : float, optional
        Deviation mapped to the darkest colours; default the largest absolute
        value (at least 0.05), so small imbalances still show.

    Examples
    --------
    >>> deviation_colors([-0.2, 0.0, 0.2])
    ['#2166ac', '#f7f7f7', '#b2182b']
    """
    values = np.asarray(deviation, dtype=float)
    if limit is None:
        limit = max(float(np.nanmax(np.abs(values))) if values.size else 0.0, 0.05)
    scaled = np.clip(0.5 + values / (2 * limit), 0.0, 1.0)
    scaled = np.where(np.isfinite(scaled), scaled, 0.5)
    return [to_hex(rgba) for rgba in DIVERGING(scaled)]
