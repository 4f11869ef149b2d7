"""GeoJSON for the comparison map: light geometry once, styled features per territory.

Geometry is simplified and rounded once, at build time; a refresh of one
territory's layer only assembles small dicts around the shared geometry.
Styles travel inside each feature (``properties.style``), so ipyleaflet never
deep-copies or restyles other layers.
"""

from __future__ import annotations

import json

import numpy as np
import shapely

from workbench.mapview.colors import OUTLINE

#: Display precision of coordinates, in degrees (about 10 m).
DECIMALS = 4
#: Simplification tolerance in degrees (about 500 m): invisible at territory scale.
SIMPLIFY_DEG = 0.005

BASE_STYLE = {"color": "#ffffff", "weight": 0.6, "opacity": 1.0, "fillOpacity": 0.7}
MOVED_STYLE = {"color": OUTLINE, "weight": 1.5, "opacity": 1.0}
LOCKED_STYLE = {"color": "#333333", "weight": 1.5, "dashArray": "3 3", "fillOpacity": 0.95}
EMPTY_STYLE = {"color": "#ffffff", "weight": 0.4, "fillColor": "#d9d9d9", "fillOpacity": 0.5}
HOVER_STYLE = {"fillOpacity": 0.95}


def light_geometries(geometries) -> list[dict]:
    """Simplified, rounded GeoJSON geometry dicts (one per input geometry).

    Examples
    --------
    >>> light_geometries([shapely.box(0, 0, 1.123456, 1)])[0]["coordinates"][0][:2]
    [[1.1235, 0.0], [1.1235, 1.0]]
    """
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size == 0:
        return []
    simple = shapely.simplify(geoms, SIMPLIFY_DEG, preserve_topology=True)
    rounded = shapely.transform(simple, lambda xy: np.round(xy, DECIMALS))
    rounded = np.where(shapely.is_empty(rounded), geoms, rounded)
    return [json.loads(text) for text in shapely.to_geojson(rounded)]


def feature_collection(features: list[dict]) -> dict:
    """Wrap features in a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": features}


def item_features(ids, geometries, territory: str, fill: str, moved=None, locked=None) -> list[dict]:
    """Styled features of one territory's items (blocks or cells).

    Examples
    --------
    >>> feats = item_features(["01001"], [{"type": "Point", "coordinates": [0, 0]}], "T1", "#E69F00",
    ...                       moved=[True], locked=[False])
    >>> feats[0]["properties"]["id"], feats[0]["properties"]["style"]["fillColor"], feats[0]["properties"]["moved"]
    ('01001', '#E69F00', True)
    """
    n = len(ids)
    moved = np.zeros(n, bool) if moved is None else np.asarray(moved, bool)
    locked = np.zeros(n, bool) if locked is None else np.asarray(locked, bool)
    base = {**BASE_STYLE, "fillColor": fill}
    styles = {(False, False): base, (True, False): {**base, **MOVED_STYLE},
              (False, True): {**base, **LOCKED_STYLE}, (True, True): {**base, **LOCKED_STYLE, **MOVED_STYLE}}
    return [
        {"type": "Feature", "id": str(item), "geometry": geometry,
         "properties": {"id": str(item), "territory": territory, "moved": bool(m), "locked": bool(k),
                        "style": styles[(bool(m), bool(k))]}}
        for item, geometry, m, k in zip(ids, geometries, moved, locked)
    ]


def point_features(lon, lat, radius, tooltip=None) -> list[dict]:
    """Point features with a per-point circle radius (``properties.style.radius``)."""
    tooltip = [None] * len(lon) if tooltip is None else tooltip
    return [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(x), DECIMALS), round(float(y), DECIMALS)]},
         "properties": {"name": name, "style": {"radius": float(r)}}}
        for x, y, r, name in zip(lon, lat, radius, tooltip)
    ]
