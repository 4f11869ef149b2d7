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

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from ipyleaflet import (DivIcon, DrawControl, GeoJSON, LayerGroup, Map, Marker, WidgetControl, basemap_to_tiles,
                        basemaps)
from ipywidgets import (HTML, Button, Checkbox, Dropdown, HBox, Layout, Output, Text, ToggleButtons, VBox, jslink,
                        link)

from workbench.errors import WorkbenchError
from workbench.mapview import features as F
from workbench.mapview import panel
from workbench.mapview.colors import deviation_colors, territory_colors, territory_graph
from workbench.mapview.homes import names_that_fit
from workbench.mapview.model import FAR_FROM_HOME_KM, ComparisonModel
from workbench.schema import DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, REGION, REP_ID, REP_NAME

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

    Layout (chosen for room to work): two **stacked, full-width maps**, the proposed
    (editable) one on top with the live scorecard and warnings beside it, the current one
    below with the legend and balance bars; the two follow each other's zoom and centre.
    Side-by-side panes left each map about 330 px wide, too small to pick a county; a
    swipe (split) map hides half of each plan at any time, so stacking wins.

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
        Reps with ``territory_id``, ``latitude``/``longitude`` and ``name`` (home markers,
        names in the lists and the far-move check); default the plans' rep homes.
    accounts : pandas.DataFrame, optional
        Needed with plain labels.
    metrics : sequence of str, optional
        Metrics to balance (default workload, revenue, potential when present).
    basemap : bool, default True
        Draw OpenStreetMap tiles under the territories (needs internet).
    save_folder : str, default "plans"
        Folder the scenario is saved in (each scenario in a sub-folder named after it).
    scenario_name : str, default ""
        Initial name in the scenario box; a name is required to save, and must differ from the
        names of the other plans in the folder.
    far_km : float, default :data:`workbench.mapview.model.FAR_FROM_HOME_KM`
        Distance from the new rep's home beyond which a moved block is flagged.

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
                 tolerance: float = DEFAULT_TOLERANCE, land=None, basemap: bool = True, save_folder: str = "plans",
                 scenario_name: str = "", height: str = "560px", far_km: float = FAR_FROM_HOME_KM, **kwargs):
        super().__init__(**kwargs)
        self.model = ComparisonModel(current, proposed, accounts=accounts, blocks=blocks, block_col=block_col,
                                     metrics=metrics, tolerance=tolerance, land=land, homes=reps, far_km=far_km)
        model = self.model
        self.add_class("wb-comparison-map")
        self._errors = Output(layout=Layout(max_height="160px", overflow="auto"))
        self._geometry = F.light_geometries(model.item_geometry)
        self.colors = self._territory_colors()

        self._proposed_map = self._make_map(basemap, height)
        self._current_map = self._make_map(basemap, panel.smaller(height))
        jslink((self._proposed_map, "center"), (self._current_map, "center"))
        jslink((self._proposed_map, "zoom"), (self._current_map, "zoom"))
        self._tooltips = {}
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

        self._build_controls(save_folder, scenario_name)
        self._scorecard = HTML(layout=Layout(width="100%"))
        self._review = HTML(layout=Layout(width="100%", max_height="200px", overflow="auto"))
        self._bars = HTML(layout=Layout(width="100%", max_height="420px", overflow="auto"))
        self._refresh_panel()

        model.observe(self._on_model_revision, "revision")
        model.observe(self._on_filter_change, ["only_moved", "show"])
        model.observe(self._on_color_by_change, "color_by")
        model.observe(self._on_status_change, "status")
        model.observe(self._on_alerts_change, "alerts")
        model.observe(self._on_target_change, "target")
        model.observe(self._on_unsaved_change, "unsaved")

        side = Layout(width="340px", flex="0 0 340px", padding="0 0 0 8px")
        pane = Layout(flex="1 1 0", min_width="0")
        proposed_row = HBox([VBox([HTML("<b>Proposed (edited): click a block to move it</b>"), self._proposed_map],
                                  layout=pane),
                             VBox([self._scorecard, self._review], layout=side)],
                            layout=Layout(align_items="flex-start", width="100%"))
        current_row = HBox([VBox([HTML("<b>Current alignment</b> (follows the map above)"), self._current_map],
                                 layout=pane),
                            VBox([self._bars], layout=side)],
                           layout=Layout(align_items="flex-start", width="100%"))
        self.children = [self._toolbar, self._status, self._alerts, proposed_row, self._save_row, current_row,
                         self._errors]

    @property
    def proposed(self):
        """The proposal as edited on the map, as a Plan (its parent chain leads to the proposal)."""
        return self.model.to_plan()

    @property
    def assignments(self) -> pd.Series:
        """The edited assignments: index account_id, values territory id."""
        return self.model.assignments()

    # ------------------------------------------------------------------ building
    def _territory_colors(self) -> dict[str, str]:
        model = self.model
        ids = model.item_ids
        if model.graph is not None:
            graph = nx.relabel_nodes(model.graph.subgraph(range(len(ids))), dict(enumerate(ids)))
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
        # Fit the items' extent into a pane about 800 px wide, in quarter zoom steps.
        zoom = float(np.clip(np.floor(4 * np.log2(800 * 360 / (256 * span))) / 4, 1, 14))
        layers = (basemap_to_tiles(basemaps.OpenStreetMap.Mapnik),) if basemap else ()
        new = Map(center=((y0 + y1) / 2, (x0 + x1) / 2), zoom=zoom, zoom_snap=0.25, zoom_delta=0.5, layers=layers,
                  scroll_wheel_zoom=True, layout=Layout(height=height, width="100%"))
        new.add_class("wb-map")
        return new

    def _tooltip(self, target_map: Map) -> HTML:
        if id(target_map) not in self._tooltips:
            box = HTML("<span style='color:#555'>Hover a block for its territory, rep and load</span>",
                       layout=Layout(max_width="360px", padding="2px 6px"))
            box.add_class("wb-tooltip")
            target_map.add(WidgetControl(widget=box, position="topright"))
            self._tooltips[id(target_map)] = box
        return self._tooltips[id(target_map)]

    def _territory_layers(self, target_map: Map, side: str) -> list[GeoJSON]:
        layers = []
        tooltip = self._tooltip(target_map)
        if len(self.model.empty_geometry):
            empty = [{"type": "Feature", "geometry": g, "properties": {"id": str(i), "style": F.EMPTY_STYLE}}
                     for g, i in zip(F.light_geometries(self.model.empty_geometry), self.model.empty_ids)]
            layer = GeoJSON(data=F.feature_collection(empty), name="blocks without accounts",
                            hover_style={"fillOpacity": 0.8})
            layer.on_hover(functools.partial(self._on_item_hover, side=side, box=tooltip))
            if side == "proposed":
                layer.on_click(self._on_item_click)
            target_map.add(layer)
        for code, territory in enumerate(self.model.territories):
            layer = GeoJSON(data=self._layer_data(code, side), name=str(territory), hover_style=F.HOVER_STYLE)
            layer.on_hover(functools.partial(self._on_item_hover, side=side, box=tooltip))
            target_map.add(layer)
            layers.append(layer)
        return layers

    def _add_context_layers(self, reps) -> None:
        model = self.model
        if len(model.accounts) > MAX_POINTS or model.kind == "cell":
            lon, lat, count = model.item_x, model.item_y, model.item_count
            radius = 1.0 + 4.0 * np.sqrt(count / max(count.max(), 1))
            names = [f"{n} accounts" for n in count]
        else:
            lon = model.accounts[LONGITUDE].to_numpy(float)
            lat = model.accounts[LATITUDE].to_numpy(float)
            radius, names = np.full(len(lon), 2.0), None
        style = {"color": "#222222", "weight": 0, "fillColor": "#222222", "fillOpacity": 0.2, "interactive": False}
        homes = self._rep_homes(reps)
        self.account_layers = []
        self.rep_layers = []
        for target_map in (self._current_map, self._proposed_map):
            layer = GeoJSON(data=F.feature_collection(F.point_features(lon, lat, radius, names)),
                            point_style=style, name="accounts", visible=False)
            target_map.add(layer)
            self.account_layers.append(layer)
            if homes is not None and len(homes):
                markers = [Marker(location=(float(y), float(x)), draggable=False, keyboard=False, title=str(name))
                           for x, y, name in zip(homes[LONGITUDE], homes[LATITUDE], homes["label"])]
                group = LayerGroup(layers=markers, name="rep homes")
                target_map.add(group)
                self.rep_layers.append(group)
        self._named = None
        if self.rep_layers:
            self._homes = homes
            self._name_homes(self._proposed_map.zoom)
            self._proposed_map.observe(lambda change: self._name_homes(change["new"]), "zoom")

    def _name_homes(self, zoom) -> None:
        """Write the reps' names beside their homes where they fit at ``zoom``; the rest show a dot (name on hover)."""
        homes = self._homes
        fits = names_that_fit(homes[LATITUDE], homes[LONGITUDE], homes["label"], zoom)
        if self._named is not None and np.array_equal(fits, self._named):
            return
        self._named = fits
        for group in self.rep_layers:
            for marker, name, show in zip(group.layers, homes["label"], fits):
                marker.icon = DivIcon(html=panel.rep_icon(name, show), icon_size=[8, 8], icon_anchor=[4, 4])

    def _rep_homes(self, reps) -> pd.DataFrame | None:
        if reps is not None:
            frame = pd.DataFrame(reps)
            label = frame[REP_NAME] if REP_NAME in frame else frame.get(REP_ID, pd.Series("", index=frame.index))
            return frame.assign(label=label.astype(str)).dropna(subset=[LATITUDE, LONGITUDE])
        model = self.model
        known = np.isfinite(model.home_latitude) & np.isfinite(model.home_longitude)
        if not known.any():
            return None
        label = np.where(model.rep_names[known] != "", model.rep_names[known], model.territories[known])
        return pd.DataFrame({LATITUDE: model.home_latitude[known], LONGITUDE: model.home_longitude[known],
                             "label": label.astype(str)})

    def _build_controls(self, save_folder: str, scenario_name: str) -> None:
        model = self.model
        options = [("Choose a territory…", "")] + [(model.territory_label(i).replace(" (", " · ").rstrip(")")
                                                     if model.rep_names[i] else str(t), str(t))
                                                    for i, t in enumerate(model.territories)]
        self._target = Dropdown(options=options, value="", description="Move to", layout=Layout(width="300px"))
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
        self._zoom = Dropdown(options=[("Whole map", "")] + show[1:], description="Zoom to", value="",
                              layout=Layout(width="220px"))
        self._zoom.observe(self._on_zoom_change, "value")
        self._only_moved = Checkbox(description="Only moved", indent=False, layout=Layout(width="110px"))
        link((model, "only_moved"), (self._only_moved, "value"))
        self._show_accounts = Checkbox(value=False, description="Accounts", indent=False, layout=Layout(width="100px"))
        for layer in self.account_layers:
            link((self._show_accounts, "value"), (layer, "visible"))
        self._undo = Button(description="Undo", icon="undo", disabled=True, layout=Layout(width="80px"))
        self._redo = Button(description="Redo", icon="repeat", disabled=True, layout=Layout(width="80px"))
        self._undo.on_click(self._on_undo_click)
        self._redo.on_click(self._on_redo_click)
        link((model, "can_undo"), (self._undo, "disabled"), transform=(lambda v: not v, lambda v: not v))
        link((model, "can_redo"), (self._redo, "disabled"), transform=(lambda v: not v, lambda v: not v))
        self._toolbar = VBox([HBox([self._target, self._mode, self._undo, self._redo]),
                              HBox([self._zoom, self._color_by, self._show, self._only_moved, self._show_accounts])])
        self._status = HTML(f"<span class='wb-status'><i>Choose a territory in 'Move to', then click a {model.kind} "
                            "on the proposed map to move it there; draw a rectangle or polygon to move many.</i></span>")
        self._alerts = HTML("")
        self._name = Text(value=scenario_name, description="Scenario", placeholder="a name, e.g. west-rebalanced",
                          layout=Layout(width="300px"))
        self._folder = Text(value=save_folder, description="in folder", layout=Layout(width="300px"))
        self._save = Button(description="Save scenario", icon="save")
        self._save.on_click(self._on_save_click)
        self._unsaved = HTML(panel.UNSAVED_HTML[False])
        self._saved = HTML()
        self._save_row = HBox([self._name, self._folder, self._save, self._unsaved, self._saved])

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
        self._scorecard.value = panel.scorecard_html(self.model.scorecard())
        self._bars.value = self._bars_html()
        self._refresh_review()

    def _refresh_review(self) -> None:
        self._review.value = panel.review_html(self.model.review())

    def _bars_html(self) -> str:
        return panel.bars_html(self.model, self.colors, self._fill)

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
        self._saved.value = ""
        self.model.click(properties["id"])

    @_reported
    def _on_item_hover(self, event=None, feature=None, properties=None, *, side: str = "proposed", box=None,
                       **kwargs) -> None:
        properties = properties or (feature or {}).get("properties", {})
        if "id" not in properties or box is None:
            return
        info = self.model.describe_item(properties["id"], side)
        box.value = f"<div class='wb-tooltip-text' style='font-size:12px'>{html.escape(info['text'])}</div>"

    @_reported
    def _on_zoom_change(self, change) -> None:
        choice = change["new"]
        model = self.model
        if not choice:
            mask = np.ones(len(model.item_ids), dtype=bool)
        elif choice.startswith("territory:"):
            code = model.territory_code(choice.split(":", 1)[1])
            mask = (model.item_owner == code) | (model.item_current == code)
        else:
            regions = model.territory_info.get(REGION, pd.Series(index=model.territory_info.index, dtype=object))
            wanted = regions.astype(str).to_numpy() == choice.split(":", 1)[1]
            mask = wanted[model.item_owner] | wanted[model.item_current]
        if not mask.any():
            model.status = f"nothing to zoom to for {choice}"
            return
        bounds = shapely.bounds(model.item_geometry[mask])
        south, west = float(np.nanmin(bounds[:, 1])), float(np.nanmin(bounds[:, 0]))
        north, east = float(np.nanmax(bounds[:, 3])), float(np.nanmax(bounds[:, 2]))
        self._proposed_map.fit_bounds([[south, west], [north, east]])
        self._zoomed_to = ((south, west), (north, east))

    @_reported
    def _on_draw_created(self, target=None, action=None, geo_json=None, **kwargs) -> None:
        if action != "created" or not geo_json:
            return
        try:
            items = self.model.items_in(geo_json)
            if len(items) == 0:
                self.model.status = f"no {self.model.kind} with accounts in the drawn shape: nothing moved"
            elif self.model.mode == "lock":
                self.model.set_locked(items, True)
            elif self.model.mode == "move":
                if not self.model.target:
                    self.model.click(items[0])  # explains how to choose a target
                else:
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
        from workbench.plan import save_scenario

        name, folder = self._name.value.strip(), self._folder.value.strip()
        if not name:
            raise WorkbenchError("name the scenario before saving it (the Scenario box): names tell drafts apart "
                                 "when they are reviewed and approved")
        if not folder:
            raise WorkbenchError("type a folder to save the scenario in")
        path = save_scenario(self.model.to_plan(), folder, name)
        self.model.mark_saved()
        self._saved.value = f"saved as <b>{html.escape(name)}</b> in <code>{html.escape(str(path))}</code>"

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
        if change["new"]:
            self._errors.outputs = ()
            self._status.value = f"<span class='wb-status'>{html.escape(change['new'], quote=False)}</span>"

    def _on_alerts_change(self, change) -> None:
        notes = change["new"]
        self._alerts.value = "".join(
            f"<div class='wb-alert' style='color:#842029;background:#f8d7da;padding:2px 6px;margin:1px 0'>"
            f"&#9888; {html.escape(n, quote=False)}</div>" for n in notes)

    def _on_unsaved_change(self, change) -> None:
        self._unsaved.value = panel.UNSAVED_HTML[bool(change["new"])]
        if change["new"]:
            self._saved.value = ""
