"""Static maps of resource levels and market gaps (matplotlib/geopandas; no browser needed).

- :func:`plot_utilisation`: territories coloured by their rep's utilisation
  around the target (blue: room to spare, red: overloaded), rep homes as dots
  and suggested hires as stars.
- :func:`plot_gaps`: a choropleth of the blocks by gap score (or white space,
  penetration), rep homes as dots, uncovered accounts as crosses.

Examples
--------
>>> import pandas as pd
>>> accounts = pd.DataFrame({"latitude": [0.0, 0.1, 1.0, 1.1], "longitude": [0.0, 0.1, 1.0, 1.1],
...                          "workload": [500.0, 500.0, 900.0, 900.0]})
>>> from workbench.capacity import rep_utilisation
>>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["W", "E"], "latitude": [0.0, 1.0],
...                      "longitude": [0.0, 1.0], "capacity_hours": [1500.0, 1500.0]})
>>> labels = ["W", "W", "E", "E"]
>>> ax = plot_utilisation(accounts, labels, rep_utilisation(accounts, labels, reps), reps=reps, states=None)
>>> ax.get_title()
'Utilisation by territory (target 85.0%)'
"""

from __future__ import annotations

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, PowerNorm, TwoSlopeNorm

from workbench.errors import InputError
from workbench.schema import BLOCK_ID, LATITUDE, LONGITUDE, TERRITORY_ID, WGS84

#: Accounts drawn at most as crosses on the gap map (a sample beyond).
MAX_POINTS = 3000


def _states(ax, states, bounds) -> None:
    if states is None:
        return
    if isinstance(states, str) and states == "auto":
        try:
            from workbench.bundled import load_states

            states = load_states()
        except Exception:  # noqa: BLE001 - outlines are decoration
            return
    outlines = states.to_crs(WGS84).cx[bounds[0]:bounds[2], bounds[1]:bounds[3]]
    if len(outlines):
        outlines.boundary.plot(ax=ax, color="#555555", linewidth=0.4, zorder=3)


def _frame(ax, bounds) -> None:
    pad_x, pad_y = (bounds[2] - bounds[0]) * 0.02 + 0.01, (bounds[3] - bounds[1]) * 0.02 + 0.01
    ax.set_xlim(bounds[0] - pad_x, bounds[2] + pad_x)
    ax.set_ylim(bounds[1] - pad_y, bounds[3] + pad_y)
    ax.set_aspect(1 / max(np.cos(np.radians((bounds[1] + bounds[3]) / 2)), 0.1))
    ax.set_axis_off()


def _homes(ax, reps, hires) -> None:
    if reps is not None and len(reps):
        ax.scatter(reps[LONGITUDE], reps[LATITUDE], s=10, color="black", zorder=6, label="rep home")
    if hires is not None and len(hires):
        ax.scatter(hires[LONGITUDE], hires[LATITUDE], s=140, marker="*", color="gold", edgecolor="black",
                   linewidth=0.7, zorder=7, label="suggested hire")
        for hire in hires.itertuples():
            ax.annotate(str(hire.rep_id), (getattr(hire, LONGITUDE), getattr(hire, LATITUDE)), fontsize=6,
                        xytext=(4, 4), textcoords="offset points", zorder=8)


def plot_utilisation(accounts: pd.DataFrame, labels, utilisation: pd.DataFrame, *, blocks=None, block_col=None,
                     reps=None, hires=None, target: float = 0.85, ax=None, states="auto"):
    """Territories coloured by utilisation around ``target``; rep homes and suggested hires on top.

    Parameters
    ----------
    accounts : pandas.DataFrame
    labels : array-like
        Territory of each account row.
    utilisation : pandas.DataFrame
        :func:`workbench.capacity.rep_utilisation` (``territory_id``, ``utilisation``).
    blocks, block_col : optional
        Building blocks to draw territories with (e.g. the bundled counties and
        ``"county_fips"``); default the Voronoi cells of the accounts.
    reps, hires : pandas.DataFrame, optional
        Rep homes (dots) and :func:`workbench.capacity.suggest_hires` rows (stars).
    target : float, default 0.85
    ax : matplotlib.axes.Axes, optional
    states : "auto", GeoDataFrame or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    from workbench.shapes import territory_polygons

    if TERRITORY_ID not in utilisation.columns or "utilisation" not in utilisation.columns:
        raise InputError("utilisation must be a rep_utilisation table (territory_id, utilisation columns)")
    polygons = territory_polygons(accounts, np.asarray(labels, dtype=object).astype(str), blocks=blocks,
                                  block_col=block_col)
    polygons.index = polygons.index.astype(str)
    value = utilisation.dropna(subset=[TERRITORY_ID]).drop_duplicates(TERRITORY_ID).set_index(TERRITORY_ID)
    share = value["utilisation"].reindex(polygons.index).astype(float) * 100
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.5))
    spread = max(float(np.nanmax(np.abs(share.to_numpy() - target * 100))) if share.notna().any() else 10.0, 10.0)
    norm = TwoSlopeNorm(vcenter=target * 100, vmin=target * 100 - spread, vmax=target * 100 + spread)
    frame = gpd.GeoDataFrame({"share": share.to_numpy()}, geometry=polygons.geometry.to_numpy(), crs=WGS84)
    known = frame["share"].notna().to_numpy()
    if (~known).any():
        frame[~known].plot(ax=ax, color="#dddddd", edgecolor="white", linewidth=0.3)
    frame[known].plot(ax=ax, column="share", cmap="RdBu_r", norm=norm, edgecolor="#303030", linewidth=0.5)
    bar = plt.cm.ScalarMappable(norm=norm, cmap="RdBu_r")
    ax.figure.colorbar(bar, ax=ax, shrink=0.6, label="utilisation, % of capacity hours")
    for territory, point in polygons.geometry.representative_point().items():
        text = f"{territory}\n{share[territory]:.0f}%" if np.isfinite(share[territory]) else str(territory)
        ax.annotate(text, (point.x, point.y), ha="center", va="center", fontsize=5, zorder=5,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
    _homes(ax, reps, hires)
    bounds = frame.total_bounds
    _states(ax, states, bounds)
    _frame(ax, bounds)
    if (reps is not None and len(reps)) or (hires is not None and len(hires)):
        ax.legend(loc="lower left", fontsize=7, frameon=False)
    ax.set_title(f"Utilisation by territory (target {target * 100:.1f}%)")
    return ax


#: What :func:`plot_gaps` can colour by, with the legend label and how blocks split by territory combine.
GAP_MAP_COLUMNS = {"gap_score": ("gap score (100 = largest gap)", "max"),
                   "white_space": ("white space (potential not yet won)", "sum"),
                   "penetration": ("penetration, % of potential", None)}


def plot_gaps(gaps: pd.DataFrame, blocks, *, column: str = "gap_score", reps=None, uncovered=None, ax=None,
              states="auto", title: str | None = None):
    """Choropleth of the blocks of a :func:`workbench.gaps.block_gaps` table.

    Parameters
    ----------
    gaps : pandas.DataFrame
        ``block_gaps`` output (a block split between territories is combined).
    blocks : geopandas.GeoDataFrame
        Block polygons with ``block_id`` (``workbench.io.load_blocks``) or, for
        the bundled counties, ``county_fips``.
    column : {"gap_score", "white_space", "penetration"}
    reps : pandas.DataFrame, optional
        Rep homes (dots).
    uncovered : pandas.DataFrame, optional
        :func:`workbench.gaps.uncovered_accounts` (crosses; a sample beyond
        ``MAX_POINTS``).
    ax, states, title : optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from shapely.geometry import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
    ...                           crs="EPSG:4326")
    >>> gaps = pd.DataFrame({"block_id": ["A", "B"], "territory_id": ["T1", "T1"], "potential": [10.0, 30.0],
    ...                      "revenue": [5.0, 0.0], "white_space": [5.0, 30.0], "gap_score": [10.0, 100.0]})
    >>> plot_gaps(gaps, blocks, states=None).get_title()
    'Market gaps: gap score (100 = largest gap)'
    """
    if column not in GAP_MAP_COLUMNS:
        raise InputError(f"column must be one of {', '.join(GAP_MAP_COLUMNS)}, got {column!r}")
    if not isinstance(blocks, gpd.GeoDataFrame):
        raise TypeError(f"blocks must be a GeoDataFrame of block polygons, got {type(blocks).__name__}")
    id_col = BLOCK_ID if BLOCK_ID in blocks.columns else "county_fips" if "county_fips" in blocks.columns else None
    if id_col is None:
        raise InputError(f"blocks have no block_id (or county_fips) column (columns: {list(blocks.columns)}); "
                         "load them with workbench.io.load_blocks")
    grouped = gaps.groupby(BLOCK_ID)
    if column == "penetration":
        totals = grouped[["potential", "revenue"]].sum()
        values = (totals["revenue"] / totals["potential"].where(totals["potential"] > 0)) * 100
    else:
        values = grouped[column].agg(GAP_MAP_COLUMNS[column][1])
    frame = gpd.GeoDataFrame({"value": blocks[id_col].astype(str).map(values).to_numpy(dtype=float)},
                             geometry=blocks.geometry.to_numpy(), crs=blocks.crs or WGS84).to_crs(WGS84)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.5))
    empty = frame["value"].isna().to_numpy()
    if empty.any():
        frame[empty].plot(ax=ax, color="#eeeeee", edgecolor="white", linewidth=0.1)
    shown = frame[~empty]
    if len(shown):
        top = float(shown["value"].max()) or 1.0
        # Gaps are heavy-tailed (a few metro counties hold most white space): a square-root scale shows the rest.
        norm = Normalize(vmin=0, vmax=min(top, 100.0)) if column == "penetration" else PowerNorm(0.5, 0, top)
        shown.plot(ax=ax, column="value", cmap="YlOrRd" if column != "penetration" else "YlGn", norm=norm,
                   edgecolor="white", linewidth=0.1)
        bar = plt.cm.ScalarMappable(norm=norm, cmap="YlOrRd" if column != "penetration" else "YlGn")
        ax.figure.colorbar(bar, ax=ax, shrink=0.6, label=GAP_MAP_COLUMNS[column][0])
    if uncovered is not None and len(uncovered):
        sample = uncovered if len(uncovered) <= MAX_POINTS else uncovered.sample(MAX_POINTS, random_state=0)
        ax.scatter(sample[LONGITUDE], sample[LATITUDE], s=2, marker="x", color="#3050c0", linewidth=0.4, alpha=0.5,
                   zorder=5, label=f"uncovered accounts ({len(uncovered):,})")
    _homes(ax, reps, None)
    bounds = (shown if len(shown) else frame).total_bounds
    _states(ax, states, bounds)
    _frame(ax, bounds)
    if (reps is not None and len(reps)) or (uncovered is not None and len(uncovered)):
        ax.legend(loc="lower left", fontsize=7, frameon=False)
    ax.set_title(title if title is not None else f"Market gaps: {GAP_MAP_COLUMNS[column][0]}")
    return ax
