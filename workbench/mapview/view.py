"""The comparison map widget: current and proposed territories side by side, editable.

:class:`ComparisonMap` is a ``VBox``: two synchronised ipyleaflet maps (current
on the left, proposed on the right), a toolbar, a scorecard and per-territory
balance bars. All state lives in :class:`~workbench.mapview.model.ComparisonModel`;
this module only draws it. Each territory is its own GeoJSON layer, so a click
that moves a block rewrites the data of two layers and nothing else (a full
restyle of thousands of features takes seconds in ipyleaflet, see its issue #1169).
"""

from __future__ import annotations

import functools
import html
import traceback
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from ipyleaflet import DrawControl, GeoJSON, Map, basemaps, basemap_to_tiles
from ipywidgets import (HTML, Button, Checkbox, Dropdown, HBox, Layout, Output, Text, ToggleButtons, VBox, jslink,
                        link)

from workbench.errors import WorkbenchError
from workbench.geo import block_adjacency
from workbench.mapview import features as F
from workbench.mapview.colors import TOL_BURD, deviation_colors, territory_colors, territory_graph
from workbench.mapview.model import ComparisonModel
from workbench.schema import LATITUDE, LONGITUDE, REP_ID, REP_NAME, TERRITORY_ID

#: Above this many accounts, points are drawn one circle per block/cell, sized by count.
MAX_POINTS = 2000


def _reported(handler):
    """Run a callback; show any error in the widget's Output instead of losing it."""

    @functools.wraps(handler)
    def wrapper(self, *args, **kwargs):
        self._errors.outputs = ()
        try:
            return handler(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - shown to the user, not swallowed
            self._show_error(error)
            return None

    return wrapper


class ComparisonMap(VBox):
    """Current and proposed alignment on two linked maps; click or draw to move blocks.

    Parameters
    ----------
    current, proposed : Plan or array-like
        The alignments to compare (plans, Series by account id, or labels per row).
    blocks : geopandas.GeoDataFrame, optional
        Building blocks (e.g. counties) with id column ``block_col`` (or ``block_id``).
        Without blocks, accounts are drawn as Voronoi cells (grid cells above 2,000 accounts).
    block_col : str, optional
        Accounts' block column, e.g. ``"county_fips"``.
    reps : pandas.DataFrame, optional
        Reps with ``latitude``/``longitude`` (home markers); default the plans' rep homes.
    accounts : pandas.DataFrame, optional
        Needed with plain labels.
    metrics : sequence of str, optional
        Metrics to balance (default workload, revenue, potential when present).
    basemap : bool, default True
        Draw OpenStreetMap tiles under the territories (needs internet).
    save_folder : str, default "plans/edited"
        Initial folder in the save box.

    Attributes
    ----------
    model : ComparisonModel
        The state; edit it through the widget or directly (``model.move_items``, ``model.undo``).

    Examples
    --------
    >>> from workbench import bundled  # doctest: +SKIP
    >>> from workbench.plan import Plan  # doctest: +SKIP
    >>> current = Plan.from_column(accounts)  # doctest: +SKIP
    >>> ComparisonMap(current, proposed, blocks=bundled.load_counties(), block_col="county_fips")  # doctest: +SKIP
    """

    def __init__(self, current, proposed, blocks=None, block_col=None, reps=None, *, accounts=None, metrics=None,
                 tolerance: float = 0.05, land=None, basemap: bool = True, save_folder: str = "plans/edited",
                 height: str = "520px", **kwargs):
        super().__init__(**kwargs)
        self.model = ComparisonModel(current, proposed, accounts=accounts, blocks=blocks, block_col=block_col,
                                     metrics=metrics, tolerance=tolerance, land=land)
        model = self.model
        self._errors = Output(layout=Layout(max_height="160px", overflow="auto"))
        self._geometry = F.light_geometries(model.item_geometry)
        self.colors = self._territory_colors(blocks, block_col)

        self._current_map = self._make_map(basemap, height)
        self._proposed_map = self._make_map(basemap, height)
        jslink((self._current_map, "center"), (self._proposed_map, "center"))
        jslink((self._current_map, "zoom"), (self._proposed_map, "zoom"))
        self.current_layers = self._territory_layers(self._current_map, "current")
        self.proposed_layers = self._territory_layers(self._proposed_map, "proposed")
        for layer in self.proposed_layers:
            layer.on_click(self._on_item_click)
        self._add_context_layers(reps)
        self._draw = DrawControl(polyline={}, circlemarker={}, circle={}, marker={},
                                 rectangle={"shapeOptions": {"color": "#000000", "fillOpacity": 0.1}},
                                 polygon={"shapeOptions": {"color": "#000000", "fillOpacity": 0.1}})
        self._draw.on_draw(self._on_draw_created)
        self._proposed_map.add(self._draw)

        self._build_controls(save_folder)
        self._scorecard = HTML(layout=Layout(width="100%"))
        self._bars = HTML(layout=Layout(width="100%", max_height="230px", overflow="auto"))
        self._refresh_panel()

        model.observe(self._on_model_revision, "revision")
        model.observe(self._on_filter_change, ["only_moved", "show"])
        model.observe(self._on_color_by_change, "color_by")
        model.observe(self._on_status_change, "status")
        model.observe(self._on_target_change, "target")

        maps = HBox([VBox([HTML("<b>Current</b>"), self._current_map], layout=Layout(flex="1 1 0", min_width="0")),
                     VBox([HTML("<b>Proposed (edited)</b>"), self._proposed_map], layout=Layout(flex="1 1 0", min_width="0"))],
                     layout=Layout(flex="1 1 0", min_width="0", align_items="flex-start"))
        panel = VBox([self._scorecard, self._bars], layout=Layout(width="330px", flex="0 0 330px"))
        # flex-start: the maps keep their height instead of stretching to the side panel's.
        self.children = [self._toolbar, self._status, HBox([maps, panel], layout=Layout(align_items="flex-start")),
                         self._save_row, self._errors]

    @property
    def proposed(self):
        """The proposal as edited on the map, as a Plan (its parent chain leads to the proposal)."""
        return self.model.to_plan()

    @property
    def assignments(self) -> pd.Series:
        """The edited assignments: index account_id, values territory id."""
        return self.model.assignments()

    # ------------------------------------------------------------------ building
    def _territory_colors(self, blocks, block_col) -> dict[str, str]:
        model = self.model
        ids = model.item_ids
        if model.kind == "block":
            sub = blocks[blocks[block_col if block_col in blocks.columns else "block_id"].astype(str).isin(ids)]
            graph = block_adjacency(sub.assign(_id=sub[block_col if block_col in sub.columns else "block_id"].astype(str)), "_id")
        else:
            tree = shapely.STRtree(model.item_geometry)
            left, right = tree.query(model.item_geometry, predicate="intersects")
            graph = nx.Graph()
            graph.add_nodes_from(ids)
            graph.add_edges_from(zip(ids[left[left < right]], ids[right[left < right]]))
        owners = [dict(zip(ids, model.territories[codes])) for codes in (model.item_current, model.item_owner)]
        colors = territory_colors(territory_graph(graph, *owners))
        return {str(t): colors.get(str(t), "#999999") for t in model.territories}

    def _make_map(self, basemap: bool, height: str) -> Map:
        x0, y0 = np.nanmin(self.model.item_x), np.nanmin(self.model.item_y)
        x1, y1 = np.nanmax(self.model.item_x), np.nanmax(self.model.item_y)
        span = max(x1 - x0, (y1 - y0) * 1.6, 1e-3)
        # Fit the items' extent into a pane about 440 px wide (each map takes half the row), in quarter steps.
        zoom = float(np.clip(np.floor(4 * np.log2(440 * 360 / (256 * span))) / 4, 1, 14))
        layers = (basemap_to_tiles(basemaps.OpenStreetMap.Mapnik),) if basemap else ()
        return Map(center=((y0 + y1) / 2, (x0 + x1) / 2), zoom=zoom, zoom_snap=0.25, zoom_delta=0.5, layers=layers,
                   scroll_wheel_zoom=True, layout=Layout(height=height, width="100%"))

    def _territory_layers(self, target_map: Map, side: str) -> list[GeoJSON]:
        layers = []
        if len(self.model.empty_geometry):
            empty = [{"type": "Feature", "geometry": g, "properties": {"style": F.EMPTY_STYLE}}
                     for g in F.light_geometries(self.model.empty_geometry)]
            target_map.add(GeoJSON(data=F.feature_collection(empty), name="blocks without accounts"))
        for code, territory in enumerate(self.model.territories):
            layer = GeoJSON(data=self._layer_data(code, side), name=str(territory), hover_style=F.HOVER_STYLE)
            target_map.add(layer)
            layers.append(layer)
        return layers

    def _add_context_layers(self, reps) -> None:
        model = self.model
        if len(model.accounts) > MAX_POINTS or model.kind == "cell":
            lon, lat, count = model.item_x, model.item_y, model.item_count
            radius = 1.0 + 5.0 * np.sqrt(count / max(count.max(), 1))
            names = [f"{n} accounts" for n in count]
        else:
            lon = model.accounts[LONGITUDE].to_numpy(float)
            lat = model.accounts[LATITUDE].to_numpy(float)
            radius, names = np.full(len(lon), 2.5), None
        style = {"color": "#222222", "weight": 0, "fillColor": "#222222", "fillOpacity": 0.25, "interactive": False}
        homes = self._rep_homes(reps)
        self.account_layers = []
        for target_map in (self._current_map, self._proposed_map):
            layer = GeoJSON(data=F.feature_collection(F.point_features(lon, lat, radius, names)),
                            point_style=style, name="accounts")
            target_map.add(layer)
            self.account_layers.append(layer)
            if homes is not None and len(homes):
                target_map.add(GeoJSON(
                    data=F.feature_collection(F.point_features(homes[LONGITUDE], homes[LATITUDE],
                                                               np.full(len(homes), 5.0), homes["label"].tolist())),
                    point_style={"color": "#000000", "weight": 2, "fillColor": "#ffffff", "fillOpacity": 1.0,
                                 "interactive": False}, name="rep homes"))

    def _rep_homes(self, reps) -> pd.DataFrame | None:
        if reps is not None:
            frame = pd.DataFrame(reps)
            label = frame[REP_NAME] if REP_NAME in frame else frame.get(REP_ID, pd.Series("", index=frame.index))
            return frame.assign(label=label.astype(str)).dropna(subset=[LATITUDE, LONGITUDE])
        info = self.model.territory_info
        if {"rep_latitude", "rep_longitude"} <= set(info.columns):
            homes = info.dropna(subset=["rep_latitude", "rep_longitude"])
            label = homes["rep_name"] if "rep_name" in homes else pd.Series(homes.index, index=homes.index)
            return pd.DataFrame({LATITUDE: homes["rep_latitude"], LONGITUDE: homes["rep_longitude"],
                                 "label": label.astype(str)})
        return None

    def _build_controls(self, save_folder: str) -> None:
        model = self.model
        self._target = Dropdown(options=list(model.territories), description="Move to", layout=Layout(width="180px"))
        link((model, "target"), (self._target, "value"))
        self._mode = ToggleButtons(options=[("Move", "move"), ("Pick territory", "pick"), ("Lock/unlock", "lock")],
                                   style={"button_width": "100px"})
        link((model, "mode"), (self._mode, "value"))
        self._color_by = Dropdown(options=[("Territory", "territory")] + [(f"Deviation: {m}", m) for m in model.metrics],
                                  description="Colour", layout=Layout(width="220px"))
        link((model, "color_by"), (self._color_by, "value"))
        show = [("All", "")] + [(f"Region {r}", f"region:{r}") for r in model.regions()]
        show += [(f"Territory {t}", f"territory:{t}") for t in model.territories]
        self._show = Dropdown(options=show, description="Show", layout=Layout(width="200px"))
        link((model, "show"), (self._show, "value"))
        self._only_moved = Checkbox(description="Only moved", indent=False, layout=Layout(width="110px"))
        link((model, "only_moved"), (self._only_moved, "value"))
        self._show_accounts = Checkbox(value=True, description="Accounts", indent=False, layout=Layout(width="100px"))
        for layer in self.account_layers:
            link((self._show_accounts, "value"), (layer, "visible"))
        self._undo = Button(description="Undo", icon="undo", disabled=True, layout=Layout(width="80px"))
        self._redo = Button(description="Redo", icon="repeat", disabled=True, layout=Layout(width="80px"))
        self._undo.on_click(self._on_undo_click)
        self._redo.on_click(self._on_redo_click)
        link((model, "can_undo"), (self._undo, "disabled"), transform=(lambda v: not v, lambda v: not v))
        link((model, "can_redo"), (self._redo, "disabled"), transform=(lambda v: not v, lambda v: not v))
        self._toolbar = VBox([HBox([self._target, self._mode, self._undo, self._redo]),
                              HBox([self._color_by, self._show, self._only_moved, self._show_accounts])])
        self._status = HTML(f"<i>Click a {model.kind} on the proposed map to move it to the chosen territory; "
                            "draw a rectangle or polygon to move many.</i>")
        self._folder = Text(value=save_folder, description="Save to", layout=Layout(width="360px"))
        self._save = Button(description="Save scenario", icon="save")
        self._save.on_click(self._on_save_click)
        self._saved = HTML()
        self._save_row = HBox([self._folder, self._save, self._saved])

    # ------------------------------------------------------------------ drawing the state
    def _fill(self, codes: np.ndarray, side: str) -> np.ndarray:
        """Fill colour per territory code."""
        metric = self.model.color_by
        if metric == "territory":
            return np.array([self.colors[str(self.model.territories[c])] for c in codes], dtype=object)
        column = self.model.metrics.index(metric)
        deviation = self.model.deviation(current=(side == "current"))[:, column]
        return np.array(deviation_colors(deviation[codes], limit=self._deviation_limit()), dtype=object)

    def _deviation_limit(self) -> float:
        metric = self.model.color_by
        column = self.model.metrics.index(metric)
        # Fixed per metric (from the current plan) so colours stay comparable while editing.
        return max(float(np.nanmax(np.abs(self.model.deviation(current=True)[:, column]))), 0.05)

    def _layer_data(self, code: int, side: str) -> dict:
        model = self.model
        owner = model.item_owner if side == "proposed" else model.item_current
        items = np.flatnonzero((owner == code) & model.visible_items(side))
        territory = str(model.territories[code])
        fill = self._fill(np.array([code]), side)[0]
        moved = model.item_owner[items] != model.item_current[items] if side == "proposed" else None
        locked = model.item_locked[items] if side == "proposed" else None
        geometry = [self._geometry[i] for i in items]
        return F.feature_collection(F.item_features(model.item_ids[items], geometry, territory, fill, moved, locked))

    def _redraw(self, codes, sides=("proposed",)) -> None:
        for side in sides:
            layers = self.proposed_layers if side == "proposed" else self.current_layers
            for code in codes:
                layers[int(code)].data = self._layer_data(int(code), side)

    def _refresh_panel(self) -> None:
        self._scorecard.value = self._scorecard_html()
        self._bars.value = self._bars_html()

    def _scorecard_html(self) -> str:
        card = self.model.scorecard()
        rows = []
        for name, (cur, new) in card.iterrows():
            if name.startswith(("max deviation", "moved")) or name.endswith(" moved") and name != "accounts moved":
                cells = f"{cur:.1%}", f"{new:.1%}"
            else:
                cells = f"{int(cur):,}", f"{int(new):,}"
            rows.append(f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{cells[0]}</td>"
                        f"<td style='text-align:right'><b>{cells[1]}</b></td></tr>")
        return ("<table class='wb-scorecard' style='border-collapse:collapse;font-size:12px;width:100%'>"
                "<tr><th style='text-align:left'>Scorecard</th><th>current</th><th>proposed</th></tr>"
                + "".join(rows) + "</table>")

    def _bars_html(self) -> str:
        model = self.model
        metric = model.color_by if model.color_by != "territory" else (model.metrics[0] if model.metrics else None)
        if metric is None:
            return ""
        column = model.metrics.index(metric)
        deviation = model.deviation()[:, column]
        loads = model.loads()[metric].to_numpy()
        top = max(float(np.nanmax(loads)), 1e-12)
        mean_share = np.nanmean(np.where(np.isnan(deviation), np.nan, loads)) / top
        if model.color_by == "territory":
            fills = [self.colors[str(t)] for t in model.territories]
        else:
            fills = self._fill(np.arange(len(model.territories)), "proposed")
        rows = []
        for i, territory in enumerate(model.territories):
            if np.isnan(deviation[i]) and territory != model.target:
                continue
            over = abs(deviation[i]) > model.tolerance
            is_target = territory == model.target
            target = " data-target='1'" if is_target else ""
            rows.append(
                f"<div data-territory='{html.escape(str(territory))}' data-color='{fills[i]}'{target} "
                f"style='display:flex;align-items:center;gap:4px;height:15px;{'font-weight:bold' if is_target else ''}'>"
                f"<span style='width:38px'>{html.escape(str(territory))}</span>"
                f"<span style='position:relative;flex:1;height:11px;background:#f0f0f0'>"
                f"<span style='position:absolute;left:0;top:0;height:11px;width:{100 * loads[i] / top:.1f}%;"
                f"background:{fills[i]};border:1px solid #555;box-sizing:border-box'></span>"
                f"<span style='position:absolute;left:{100 * mean_share:.1f}%;top:-2px;height:15px;"
                f"border-left:1px dashed #000'></span></span>"
                f"<span style='width:52px;text-align:right;{'color:#B2182B;font-weight:bold' if over else ''}'>"
                f"{'—' if np.isnan(deviation[i]) else format(deviation[i], '+.1%')}</span></div>")
        legend = ("<div style='font-size:11px;margin-top:4px'>black outline = moved; dashed = locked; "
                  "dashed line = mean</div>")
        if model.color_by != "territory":
            gradient = ", ".join(TOL_BURD)
            legend += (f"<div style='font-size:11px'>under <span style='display:inline-block;width:120px;height:9px;"
                       f"background:linear-gradient(to right, {gradient})'></span> over the mean</div>")
        return (f"<div class='wb-bars' style='font-size:11px'><b>{html.escape(metric)} by territory</b> "
                f"(deviation from mean, tolerance ±{model.tolerance:.0%})" + "".join(rows) + legend + "</div>")

    def _show_error(self, error: Exception) -> None:
        if isinstance(error, WorkbenchError):
            text = f"{type(error).__name__}: {error}\n"
        else:
            text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self._errors.append_stderr(text)
        self._status.value = f"<span style='color:#B2182B'>{html.escape(type(error).__name__)}: {html.escape(str(error))}</span>"

    # ------------------------------------------------------------------ handlers
    @_reported
    def _on_item_click(self, event=None, feature=None, properties=None, **kwargs) -> None:
        properties = properties or (feature or {}).get("properties", {})
        item = properties["id"]
        mode = self.model.mode
        if mode == "pick":
            self.model.pick(item)
        elif mode == "lock":
            index = self.model.item_index(item)
            self.model.set_locked([item], not bool(self.model.item_locked[index]))
        else:
            self.model.move_items([item], self.model.target)

    @_reported
    def _on_draw_created(self, target=None, action=None, geo_json=None, **kwargs) -> None:
        if action != "created" or not geo_json:
            return
        try:
            items = self.model.items_in(geo_json)
            if len(items) == 0:
                self.model.status = "no block in the drawn shape"
            elif self.model.mode == "lock":
                self.model.set_locked(items, True)
            elif self.model.mode == "move":
                self.model.move_items(items, self.model.target, skip_locked=True)
        finally:
            self._draw.clear()

    @_reported
    def _on_undo_click(self, button=None) -> None:
        self.model.undo()

    @_reported
    def _on_redo_click(self, button=None) -> None:
        self.model.redo()

    @_reported
    def _on_save_click(self, button=None) -> None:
        from workbench.plan import save_plan

        folder = self._folder.value.strip()
        if not folder:
            raise WorkbenchError("type a folder to save the scenario in")
        path = save_plan(self.model.to_plan(), Path(folder))
        self._saved.value = f"saved to <code>{html.escape(str(Path(path).resolve()))}</code>"

    @_reported
    def _on_model_revision(self, change) -> None:
        self._redraw(self.model.last_change["territories"])
        self._refresh_panel()

    @_reported
    def _on_filter_change(self, change) -> None:
        self._redraw(range(len(self.model.territories)), sides=("current", "proposed"))

    @_reported
    def _on_color_by_change(self, change) -> None:
        self._redraw(range(len(self.model.territories)), sides=("current", "proposed"))
        self._bars.value = self._bars_html()

    @_reported
    def _on_target_change(self, change) -> None:
        self._bars.value = self._bars_html()

    def _on_status_change(self, change) -> None:
        self._status.value = html.escape(change["new"])
