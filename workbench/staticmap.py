"""Static maps of alignments (matplotlib/geopandas) for reports and rendered notebooks.

The same views as the interactive :mod:`workbench.mapview`, as images that need
no browser, no JavaScript and no network: territories coloured so that
neighbours differ (or by deviation from the mean of a metric), moved areas
outlined, state outlines from the bundled data when they are available.

Examples
--------
>>> import pandas as pd
>>> accounts = pd.DataFrame({"account_id": list("abcd"), "latitude": [0.0, 0.0, 1.0, 1.0],
...                          "longitude": [0.0, 1.0, 0.0, 1.0], "workload": [1.0, 2.0, 3.0, 4.0]})
>>> fig = plot_comparison(["T1", "T1", "T2", "T2"], ["T1", "T2", "T2", "T2"], accounts=accounts, states=None)
>>> [ax.get_title() for ax in fig.axes]
['Current', 'Proposed (1 account moved)']
>>> to_png_bytes(fig)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import base64
import io

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PathCollection
from matplotlib.colors import Normalize
from matplotlib.path import Path

from workbench.errors import InputError
from workbench.mapview.colors import DIVERGING, deviation_colors, territory_colors, territory_graph
from workbench.labels import accounts_of, fill_from_neighbours, labels_for_rows
from workbench.metrics import deviation_from_mean, territory_loads
from workbench.schema import ACCOUNT_ID, LATITUDE, LONGITUDE, TERRITORY_ID, WGS84
from workbench.shapes import block_labels, point_cells

#: Smallest deviation (a share) the diverging colour scale spans, so a near-balanced plan is not painted
#: deep red and blue for differences of a percent.
MIN_COLOUR_RANGE = 0.05
#: Above this many accounts, account dots are left out of static maps.
MAX_DOTS = 3000


def _accounts_and_labels(plan, accounts):
    accounts = accounts_of(plan, accounts)
    labels = labels_for_rows(plan, accounts, what="plan")
    if pd.isna(labels).any():
        raise InputError(f"plan leaves accounts {accounts.loc[pd.isna(labels), ACCOUNT_ID].head(5).tolist()} "
                         "unassigned; assign every account before mapping")
    return accounts, labels.astype(str)


def _shapes(accounts, labels, blocks, block_col) -> gpd.GeoDataFrame:
    """One row per drawable unit (block or account cell): id, territory, geometry."""
    if blocks is not None:
        if block_col is None:
            raise InputError("blocks were given without block_col; pass block_col= naming the accounts' block column")
        id_col = block_col if block_col in blocks.columns else "block_id"
        owner = block_labels(accounts, labels, block_col)
        ids = blocks[id_col].astype(str)
        frame = gpd.GeoDataFrame({"id": ids.to_numpy(), TERRITORY_ID: ids.map(owner).to_numpy()},
                                 geometry=blocks.geometry.values, crs=blocks.crs or WGS84)
        return frame.to_crs(WGS84)
    cells = point_cells(accounts[LONGITUDE], accounts[LATITUDE])
    return gpd.GeoDataFrame({"id": accounts[ACCOUNT_ID].astype(str).to_numpy(), TERRITORY_ID: labels},
                            geometry=cells.values, crs=WGS84)


def _fill_from_neighbours(shapes: gpd.GeoDataFrame) -> np.ndarray:
    """Territory of each shape; shapes without one take their touching neighbours'
    (:func:`workbench.labels.fill_from_neighbours`)."""
    territory = shapes[TERRITORY_ID].to_numpy(dtype=object)
    missing = pd.isna(territory)
    if not missing.any() or missing.all():
        return territory.copy()
    frame = shapes.reset_index(drop=True)
    left, right = frame.sindex.query(frame.geometry, predicate="intersects")
    once = left < right
    return fill_from_neighbours(territory, np.column_stack([left[once], right[once]]))


def _paler(color, amount: float = 0.5) -> tuple:
    """The colour mixed with white: for blocks a territory covers but that hold no account."""
    from matplotlib.colors import to_rgb

    return tuple(c + (1 - c) * amount for c in to_rgb(color))


def _colors(*shape_frames) -> dict[str, str]:
    import networkx as nx

    base = shape_frames[0].reset_index(drop=True)
    left, right = base.sindex.query(base.geometry, predicate="intersects")
    ids = base["id"].to_numpy()
    graph = nx.Graph()
    graph.add_edges_from(zip(ids[left[left < right]], ids[right[left < right]]))
    owners = [dict(zip(frame["id"], frame[TERRITORY_ID])) for frame in shape_frames]
    owners = [{k: v for k, v in o.items() if isinstance(v, str)} for o in owners]
    return territory_colors(territory_graph(graph, *owners))


def _paths(geometries) -> list[Path]:
    """Matplotlib paths of (multi)polygons, holes kept (rings oriented for the nonzero fill rule)."""
    paths = []
    for geometry in shapely.orient_polygons(np.asarray(geometries, dtype=object)):
        rings = shapely.get_rings(shapely.get_parts(geometry)) if geometry is not None else []
        rings = [np.asarray(ring.coords) for ring in rings if not ring.is_empty]
        paths.append(Path.make_compound_path(*[Path(r, closed=True) for r in rings]) if rings else Path(np.empty((0, 2))))
    return paths


def _draw(ax, geometries, *, facecolor="none", edgecolor="white", linewidth=0.2, zorder=1) -> PathCollection:
    """Draw polygons as one collection (much faster than a patch per polygon)."""
    collection = PathCollection(_paths(geometries), facecolors=facecolor, edgecolors=edgecolor,
                                linewidths=linewidth, zorder=zorder)
    ax.add_collection(collection)
    return collection


def _draw_states(ax, states, bounds) -> None:
    if states is None:
        return
    if isinstance(states, str) and states == "auto":
        try:
            from workbench import bundled

            states = bundled.load_states()
        except Exception:  # noqa: BLE001 - outlines are decoration; no bundled states, no outlines
            return
    outlines = states.to_crs(WGS84).cx[bounds[0]:bounds[2], bounds[1]:bounds[3]]
    if len(outlines):
        _draw(ax, outlines.geometry.values, edgecolor="#555555", linewidth=0.5, zorder=3)


def plot_plan(plan, *, accounts=None, ax=None, blocks=None, block_col=None, color_by: str = "territory",
              title: str | None = None, metrics=None, colors: dict | None = None, highlight=None,
              states="auto", label_territories: bool = True):
    """Draw one alignment: territories coloured by id (neighbours differ) or by deviation of a metric.

    Parameters
    ----------
    plan : Plan or array-like
        A Plan, or territory labels per account row (then pass ``accounts``).
    accounts : pandas.DataFrame, optional
        Accounts (default ``plan.accounts``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (e.g. of a ``matplotlib.figure.Figure``, which needs no
        pyplot and no backend); default a new pyplot figure.
    blocks, block_col : optional
        Building blocks (GeoDataFrame with id column ``block_col`` or ``block_id``) and the
        accounts' block column. Without blocks, territories are the Voronoi cells of their accounts.
    color_by : str, default "territory"
        ``"territory"`` or a metric column: diverging colours of the deviation from the mean
        (blue under, red over), with a colour bar.
    title : str, optional
    colors : dict, optional
        Territory id -> colour, to keep colours across panels.
    highlight : array-like of str, optional
        Ids of blocks (or accounts) to outline in black, e.g. the moved ones.
    states : "auto", GeoDataFrame or None
        Outlines to draw on top; "auto" uses the bundled US states when present.
    label_territories : bool, default True
        Write territory ids at their centres.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0], "longitude": [0.0, 1.0, 0.5],
    ...                          "workload": [1.0, 1.0, 4.0]})
    >>> ax = plot_plan(["T1", "T1", "T2"], accounts=accounts, color_by="workload", states=None)
    >>> ax.get_title()
    'workload: deviation from the mean'
    """
    accounts, labels = _accounts_and_labels(plan, accounts)
    shapes = _shapes(accounts, labels, blocks, block_col)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5.5))
    owned = shapes[TERRITORY_ID].notna().to_numpy()
    # Blocks with no account take the territory around them (drawn paler), so territories read as areas.
    shapes[TERRITORY_ID] = _fill_from_neighbours(shapes)
    empty = shapes[shapes[TERRITORY_ID].isna()]
    pale = shapes[~owned & shapes[TERRITORY_ID].notna().to_numpy()]
    shapes = shapes[owned]
    if color_by == "territory":
        colors = colors or _colors(shapes)
        fills = shapes[TERRITORY_ID].map(colors).fillna("#999999").to_numpy()
        pale_fills = [_paler(c) for c in pale[TERRITORY_ID].map(colors).fillna("#999999")]
    else:
        if color_by not in accounts.columns:
            raise InputError(f"color_by={color_by!r} is neither 'territory' nor a column of the accounts "
                             f"(columns: {list(accounts.columns)})")
        deviation = deviation_from_mean(territory_loads(accounts, labels, [color_by]))[color_by]
        limit = max(float(deviation.abs().max()), MIN_COLOUR_RANGE)
        fills = np.array(deviation_colors(shapes[TERRITORY_ID].map(deviation).to_numpy(), limit), dtype=object)
        pale_fills = [_paler(c) for c in deviation_colors(pale[TERRITORY_ID].map(deviation).to_numpy(), limit)]
        bar = ScalarMappable(norm=Normalize(-limit * 100, limit * 100), cmap=DIVERGING)
        ax.figure.colorbar(bar, ax=ax, shrink=0.6, label=f"{color_by}: % from mean")
    if len(empty):
        _draw(ax, empty.geometry.values, facecolor="#e6e6e6")
    if len(pale):
        _draw(ax, pale.geometry.values, facecolor=pale_fills)
    _draw(ax, shapes.geometry.values, facecolor=list(fills))
    territories = pd.concat([shapes, pale]).dissolve(by=TERRITORY_ID) if blocks is not None else shapes.dissolve(by=TERRITORY_ID)
    _draw(ax, territories.geometry.values, edgecolor="#303030", linewidth=0.8, zorder=3.5)
    if highlight is not None:
        marked = shapes[shapes["id"].isin(pd.Index(np.asarray(highlight, dtype=object).astype(str)))]
        if len(marked):
            _draw(ax, marked.geometry.values, edgecolor="black", linewidth=1.2, zorder=4)
    if blocks is None and len(accounts) <= MAX_DOTS:
        ax.scatter(accounts[LONGITUDE], accounts[LATITUDE], s=3, color="#222222", alpha=0.6, zorder=5)
    bounds = shapes.total_bounds
    _draw_states(ax, states, bounds)
    if label_territories:
        centres = territories.representative_point()
        for territory, point in centres.items():
            ax.annotate(str(territory), (point.x, point.y), ha="center", va="center", fontsize=6, zorder=6,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    pad_x, pad_y = (bounds[2] - bounds[0]) * 0.02 + 0.01, (bounds[3] - bounds[1]) * 0.02 + 0.01
    ax.set_xlim(bounds[0] - pad_x, bounds[2] + pad_x)
    ax.set_ylim(bounds[1] - pad_y, bounds[3] + pad_y)
    ax.set_aspect(1 / max(np.cos(np.radians((bounds[1] + bounds[3]) / 2)), 0.1))
    ax.set_axis_off()
    ax.set_title(title if title is not None else
                 (f"{color_by}: deviation from the mean" if color_by != "territory" else ""))
    return ax


def plot_comparison(current, proposed, *, accounts=None, blocks=None, block_col=None, color_by: str = "territory",
                    states="auto", figsize=(14, 5.5), figure=None):
    """Current and proposed alignment side by side, same colours, moved areas outlined.

    Parameters
    ----------
    current, proposed : Plan or array-like
        Alignments of the same accounts (labels need ``accounts``).
    accounts, blocks, block_col, color_by, states
        As in :func:`plot_plan`.
    figsize : tuple, default (14, 5.5)
        Size of a new figure.
    figure : matplotlib.figure.Figure, optional
        Empty figure to draw on (e.g. ``matplotlib.figure.Figure()``, which needs
        no pyplot and no backend); default a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: "Current" and "Proposed (n accounts moved)"; blocks (or account
        cells) whose territory changed are outlined in black on both.
    """
    if accounts is None:
        accounts = getattr(proposed, "accounts", None)
    accounts, before = _accounts_and_labels(current, accounts)
    _, after = _accounts_and_labels(proposed, accounts)
    moved_accounts = int((before != after).sum())
    shapes_before = _shapes(accounts, before, blocks, block_col)
    shapes_after = _shapes(accounts, after, blocks, block_col)
    changed = shapes_before[TERRITORY_ID].to_numpy() != shapes_after[TERRITORY_ID].to_numpy()
    changed &= shapes_after[TERRITORY_ID].notna().to_numpy()
    moved = shapes_after["id"].to_numpy()[changed]
    if blocks is None:
        moved = accounts[ACCOUNT_ID].astype(str).to_numpy()[before != after]
    colors = _colors(shapes_before, shapes_after) if color_by == "territory" else None
    if figure is None:
        fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
    else:
        fig = figure
        left, right = fig.subplots(1, 2)
    plot_plan(before, accounts=accounts, ax=left, blocks=blocks, block_col=block_col, color_by=color_by,
              title="Current", colors=colors, highlight=moved, states=states)
    plot_plan(after, accounts=accounts, ax=right, blocks=blocks, block_col=block_col, color_by=color_by,
              title=f"Proposed ({moved_accounts:,} account{'s' if moved_accounts != 1 else ''} moved)",
              colors=colors, highlight=moved, states=states)
    fig.tight_layout()
    return fig


def to_png_bytes(fig, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes (through Agg; no display needed).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> to_png_bytes(fig)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def to_data_uri(fig, dpi: int = 100) -> str:
    """A ``data:image/png;base64,...`` URI of the figure, for self-contained HTML.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> to_data_uri(Figure()).startswith("data:image/png;base64,iVBOR")
    True
    """
    return "data:image/png;base64," + base64.b64encode(to_png_bytes(fig, dpi)).decode("ascii")
