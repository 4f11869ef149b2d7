"""The interactive map of ``report.html``: Leaflet inlined, current and proposed territories, tooltips.

Leaflet 1.9 is vendored from its npm package (``static/leaflet``: ``leaflet.js``,
``leaflet.css``, the images and its BSD-2-Clause licence) and inlined into the
page (images as ``data:`` URIs), so the report draws its map with the network
blocked and can be mailed as one file. No tiles are loaded: territories are drawn
on a plain background, with state outlines when the bundled states are at hand.

The map shows the proposed territories, the current ones, or both side by side
(synchronised); a hover tooltip names the territory, its rep, accounts and load
with its deviation; moved blocks (or accounts) are outlined, with a tooltip
saying from where to where.
"""

from __future__ import annotations

import base64
import html
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from workbench import present
from workbench.schema import DEFAULT_TOLERANCE

#: The vendored Leaflet (npm ``leaflet@1.9.4``).
LEAFLET_DIR = Path(__file__).parent / "static" / "leaflet"
#: Simplification of polygons for the page, in degrees (about 1 km): invisible at territory scale.
SIMPLIFY_DEG = 0.01
#: Coordinates kept to this many decimals (about 100 m).
DECIMALS = 3
#: At most this many moved accounts are drawn as points (without blocks).
MAX_MOVED_POINTS = 3000


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """``(javascript, css)`` of the vendored Leaflet, the CSS images inlined as data URIs.

    Examples
    --------
    >>> js, css = leaflet_assets()
    >>> "Leaflet" in js[:400] and "url(images/" not in css
    True
    """
    js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        data = base64.b64encode((LEAFLET_DIR / "images" / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return js, re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)


def _features(geometries, properties: list[dict]) -> list[dict]:
    geoms = np.asarray(geometries, dtype=object)
    if not len(geoms):
        return []
    simple = shapely.simplify(geoms, SIMPLIFY_DEG, preserve_topology=True)
    rounded = shapely.set_precision(simple, 10 ** -DECIMALS)
    rounded = np.where(shapely.is_empty(rounded) | shapely.is_missing(rounded), geoms, rounded)
    texts = shapely.to_geojson(rounded)
    return [{"type": "Feature", "geometry": json.loads(text), "properties": props}
            for text, props in zip(texts, properties) if text is not None]


def _territory_tooltips(summary: pd.DataFrame, territories: pd.DataFrame, metrics: list[str]) -> dict[str, str]:
    """``"T05 · Ana Diaz — 612 accounts · workload 1,708 h (+2.1%) · revenue $46.2M (-3.0%)"`` per territory."""
    out = {}
    for territory, row in summary.iterrows():
        rep = territories["rep_name"].get(territory) if "rep_name" in territories.columns else None
        head = f"{territory}" + (f" · {rep}" if isinstance(rep, str) and rep else "")
        parts = [f"{present.integer(row['accounts'])} accounts"]
        for metric in metrics[:3]:
            dev = row.get(f"{metric}_deviation_pct")
            parts.append(f"{metric} {present.format_value(row[metric], metric)}"
                         + (f" ({present.percent(dev, signed=True)})" if pd.notna(dev) else ""))
        out[str(territory)] = head + " — " + " · ".join(parts)
    return out


def _colors(polygons) -> dict[str, str]:
    import networkx as nx

    from workbench.mapview.colors import territory_colors

    ids = [str(i) for i in polygons.index]
    geoms = polygons.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((ids[a], ids[b]) for a, b in zip(left, right) if a < b)
    return territory_colors(graph)


def map_data(plan, current_plan=None, *, blocks=None, block_col: str | None = None, metrics=(),
             tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """GeoJSON layers of the report's map: proposed and current territories and what moved.

    Returns
    -------
    dict
        ``proposed`` and ``current`` (FeatureCollections or None), ``moved`` (blocks or accounts
        that change territory), ``base`` (state outlines for US counties, or None) and ``bounds``
        ([[south, west], [north, east]]).
    """
    from workbench import metrics as _metrics
    from workbench.shapes import territory_polygons

    accounts = plan.accounts
    metrics = [m for m in metrics if m in accounts.columns]
    layers: dict = {"proposed": None, "current": None, "moved": None}
    plans = {"proposed": plan, "current": current_plan}
    polygons = {}
    for side, which in plans.items():
        if which is None:
            continue
        labels = which.labels_for(accounts, missing="nan") if which is not plan else plan.labels
        polygons[side] = territory_polygons(accounts, labels, blocks=blocks, block_col=block_col)
    colors = _colors(pd.concat([polygons[s].geometry.rename(None).to_frame("geometry") for s in polygons])
                     .groupby(level=0).first().pipe(lambda f: f.set_geometry("geometry")))
    for side, which in plans.items():
        if which is None:
            continue
        labels = which.labels_for(accounts, missing="nan") if which is not plan else plan.labels
        summary = _metrics.territory_summary(accounts, labels, metrics, tolerance=tolerance,
                                             territory_ids=which.territories.index)
        tips = _territory_tooltips(summary, which.territories, metrics)
        shapes = polygons[side]
        props = [{"id": str(t), "tip": tips.get(str(t), str(t)), "color": colors.get(str(t), "#999999")}
                 for t in shapes.index]
        layers[side] = {"type": "FeatureCollection", "features": _features(shapes.geometry.to_numpy(), props)}
    if current_plan is not None:
        layers["moved"] = _moved_layer(plan, current_plan, blocks, block_col)
    layers["base"] = _base_layer(block_col)
    bounds = shapely.bounds(shapely.union_all(polygons["proposed"].geometry.to_numpy()))
    layers["bounds"] = [[round(float(bounds[1]), 3), round(float(bounds[0]), 3)],
                        [round(float(bounds[3]), 3), round(float(bounds[2]), 3)]]
    return layers


def _base_layer(block_col):
    """State outlines under US county territories (blocks without accounts show as grey, not as holes)."""
    from workbench.schema import COUNTY_FIPS

    if block_col != COUNTY_FIPS:
        return None
    try:
        from workbench import bundled

        states = bundled.load_states()
    except Exception:  # noqa: BLE001 - no background then; the territories are drawn all the same
        return None
    return {"type": "FeatureCollection", "features": _features(states.geometry.to_numpy(), [{}] * len(states))}


def _moved_layer(plan, current_plan, blocks, block_col) -> dict:
    from workbench.schema import ACCOUNT_ID, LATITUDE, LONGITUDE

    accounts = plan.accounts
    after = pd.Series(plan.labels, dtype=object).astype(str).to_numpy()
    before = pd.Series(current_plan.labels_for(accounts, missing="nan"), dtype=object).astype(str).to_numpy()
    moved = before != after
    if blocks is not None and block_col in accounts.columns:
        id_col = block_col if block_col in blocks.columns else "block_id"
        frame = pd.DataFrame({"block": accounts[block_col].astype(str).to_numpy(), "from": before, "to": after,
                              "moved": moved})
        per_block = frame[frame["moved"]].groupby(["block", "from", "to"]).size().rename("accounts").reset_index()
        per_block = per_block.sort_values("accounts", ascending=False).drop_duplicates("block")
        shapes = blocks.assign(_id=blocks[id_col].astype(str)).set_index("_id")
        shapes = shapes.to_crs("EPSG:4326") if shapes.crs is not None and not shapes.crs.equals("EPSG:4326") else shapes
        names = shapes["name"].astype(str) if "name" in shapes.columns else pd.Series(shapes.index, index=shapes.index)
        if "state" in shapes.columns:
            names = names + ", " + shapes["state"].astype(str)
        per_block = per_block[per_block["block"].isin(shapes.index)]
        props = [{"tip": f"{names.get(b, b)}: {f} → {t}, {present.count(n, 'account')} move"}
                 for b, f, t, n in per_block[["block", "from", "to", "accounts"]].itertuples(index=False)]
        geoms = shapes.geometry.reindex(per_block["block"]).to_numpy()
        return {"type": "FeatureCollection", "features": _features(geoms, props)}
    rows = np.flatnonzero(moved)[:MAX_MOVED_POINTS]
    lat, lon = accounts[LATITUDE].to_numpy(float)[rows], accounts[LONGITUDE].to_numpy(float)[rows]
    ids = accounts[ACCOUNT_ID].astype(str).to_numpy()[rows]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(x, 4), round(y, 4)]},
         "properties": {"tip": f"{i}: {before[r]} → {after[r]}"}}
        for x, y, i, r in zip(lon.tolist(), lat.tolist(), ids, rows)]}


_MAP_CSS = """
.wb-map-tools{margin:.4em 0}.wb-map-tools button{font:inherit;padding:.25em .8em;margin-right:.3em;
border:1px solid #8893a3;background:#fff;border-radius:3px;cursor:pointer}
.wb-map-tools button[aria-pressed=true]{background:#1f4e8c;color:#fff;border-color:#1f4e8c}
.wb-maps{display:flex;gap:8px}.wb-maps>div{flex:1 1 0;min-width:0}
.wb-maps .wb-pane{height:560px;border:1px solid #d0d7de;background:#f4f6f8}
.wb-maps.mode-proposed .wb-side-current,.wb-maps.mode-current .wb-side-proposed{display:none}
.wb-pane-title{font-weight:bold;margin:.2em 0}
.leaflet-tooltip.wb-tip{font-size:12px;width:max-content;max-width:420px;white-space:normal}
"""

_MAP_JS = """
(function(){
  var data = JSON.parse(document.getElementById('wb-map-data').textContent);
  var holder = document.getElementById('wb-maps');
  var maps = {};
  function style(f){ return {color:'#ffffff', weight:0.8, fillColor:f.properties.color, fillOpacity:0.72}; }
  function draw(side){
    var el = document.getElementById('wb-map-' + side);
    if (!data[side] || !el) { return; }
    var map = L.map(el, {zoomSnap:0.25, attributionControl:false, preferCanvas:false});
    if (data.base) {
      L.geoJSON(data.base, {interactive:false, style: function(){
        return {color:'#9aa4b1', weight:0.8, fillColor:'#e3e7ec', fillOpacity:1}; }}).addTo(map);
    }
    var layer = L.geoJSON(data[side], {style: style, onEachFeature: function(f, l){
      l.bindTooltip(f.properties.tip, {sticky:true, className:'wb-tip'});
      l.on('mouseover', function(){ l.setStyle({fillOpacity:0.92, weight:2}); });
      l.on('mouseout', function(){ layer.resetStyle(l); });
    }}).addTo(map);
    if (data.moved && side === 'proposed') {
      L.geoJSON(data.moved, {style: function(){ return {color:'#000', weight:1.6, fill:false}; },
        pointToLayer: function(f, ll){ return L.circleMarker(ll, {radius:3, color:'#000', weight:1}); },
        onEachFeature: function(f, l){ l.bindTooltip(f.properties.tip, {sticky:true, className:'wb-tip'}); }
      }).addTo(map);
    }
    map.fitBounds(data.bounds);
    maps[side] = map;
  }
  draw('proposed'); draw('current');
  var syncing = false;
  function sync(from, to){ if (!maps[from] || !maps[to]) { return; }
    maps[from].on('move', function(){ if (syncing) { return; } syncing = true;
      maps[to].setView(maps[from].getCenter(), maps[from].getZoom(), {animate:false}); syncing = false; }); }
  sync('proposed', 'current'); sync('current', 'proposed');
  window.wbSetMode = function(mode){
    holder.className = 'wb-maps mode-' + mode;
    document.querySelectorAll('.wb-map-tools button').forEach(function(b){
      b.setAttribute('aria-pressed', b.getAttribute('data-mode') === mode ? 'true' : 'false'); });
    Object.keys(maps).forEach(function(k){ maps[k].invalidateSize(); });
    var shown = mode === 'current' ? maps.current : maps.proposed;
    if (shown) { shown.fitBounds(data.bounds); }
  };
  document.querySelectorAll('.wb-map-tools button').forEach(function(b){
    b.addEventListener('click', function(){ window.wbSetMode(b.getAttribute('data-mode')); }); });
  window.wbMaps = maps;
})();
"""


def map_section(data: dict) -> str:
    """The map's HTML: mode buttons, the panes, the data (JSON) and the script (Leaflet itself is separate)."""
    has_current = data.get("current") is not None
    buttons = ['<button type="button" data-mode="proposed" aria-pressed="true">Proposed</button>']
    if has_current:
        buttons += ['<button type="button" data-mode="current" aria-pressed="false">Current</button>',
                    '<button type="button" data-mode="both" aria-pressed="false">Side by side</button>']
    panes = ['<div class="wb-side-proposed"><div class="wb-pane-title">Proposed</div>'
             '<div class="wb-pane" id="wb-map-proposed"></div></div>']
    if has_current:
        panes.append('<div class="wb-side-current"><div class="wb-pane-title">Current</div>'
                     '<div class="wb-pane" id="wb-map-current"></div></div>')
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    note = ("Hover a territory for its rep, accounts and load; outlined areas change territory."
            if has_current else "Hover a territory for its rep, accounts and load.")
    return ("<div class=\"wb-map-tools\" role=\"group\" aria-label=\"Which alignment\">" + "".join(buttons)
            + f" <span style=\"color:#555\">{html.escape(note)}</span></div>"
            + "<div class=\"wb-maps mode-proposed\" id=\"wb-maps\">" + "".join(panes) + "</div>"
            + f"<script type=\"application/json\" id=\"wb-map-data\">{payload}</script>")


def page_assets() -> tuple[str, str]:
    """``(style, scripts)`` to put in the page: Leaflet's CSS and the map's, Leaflet's JS and the map's."""
    js, css = leaflet_assets()
    return css + _MAP_CSS, js + "\n" + _MAP_JS

