"""A plain interactive overview map: one coloured, hoverable layer per territory (no editing)."""

from __future__ import annotations

from matplotlib.colors import TABLEAU_COLORS

#: Geometry simplification (degrees) for the overview: about 1 km, invisible at country zoom, far lighter.
SIMPLIFY_DEG = 0.01


def territory_map(polygons, *, center=(39.5, -97.0), zoom: int = 4, height: str = "520px"):
    """An ipyleaflet Map with one layer per territory polygon (a layer control lists them).

    Parameters
    ----------
    polygons : geopandas.GeoSeries
        One polygon per territory, indexed by territory id (e.g.
        :func:`workbench.shapes.territory_polygons`).
    center, zoom, height
        Where the map opens and how tall it is.
    """
    import ipyleaflet

    palette = list(TABLEAU_COLORS.values())
    live_map = ipyleaflet.Map(center=center, zoom=zoom, scroll_wheel_zoom=True, layout={"height": height})
    for number, territory in enumerate(polygons.index):
        live_map.add(ipyleaflet.GeoData(
            geo_dataframe=polygons.loc[[territory]].simplify(SIMPLIFY_DEG).to_frame("geometry"), name=str(territory),
            style={"color": "white", "weight": 1, "fillColor": palette[number % len(palette)], "fillOpacity": 0.6},
            hover_style={"fillOpacity": 0.9}))
    live_map.add(ipyleaflet.LayersControl(position="topright", collapsed=True))
    return live_map
