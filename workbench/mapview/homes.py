"""Rep homes on the comparison map: who covers each territory, from where, and what counts as far."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.schema import LATITUDE, LONGITUDE, REP_NAME, TERRITORY_ID


def rep_homes(territory_info: pd.DataFrame, territories: np.ndarray, homes=None):
    """Rep name, home latitude and longitude per territory (``""`` and NaN when unknown).

    Parameters
    ----------
    territory_info : pandas.DataFrame
        The plans' territory table, indexed like ``territories`` (``rep_name``,
        ``rep_latitude``, ``rep_longitude`` when known).
    territories : numpy.ndarray
        Territory ids, in code order.
    homes : pandas.DataFrame, optional
        A reps table (``territory_id``, ``latitude``, ``longitude``, optionally ``name``);
        where it knows a territory's home it wins over ``territory_info``.

    Returns
    -------
    names, latitude, longitude : numpy.ndarray

    Examples
    --------
    >>> info = pd.DataFrame({"rep_name": ["Ana", None]}, index=["T1", "T2"])
    >>> reps = pd.DataFrame({"territory_id": ["T2"], "latitude": [1.0], "longitude": [2.0], "name": ["Bo"]})
    >>> names, lat, lon = rep_homes(info, np.array(["T1", "T2"]), reps)
    >>> names.tolist(), lat.tolist()
    (['Ana', 'Bo'], [nan, 1.0])
    """
    n = len(territories)
    lat, lon = np.full(n, np.nan), np.full(n, np.nan)
    names = np.array([""] * n, dtype=object)
    if "rep_name" in territory_info.columns:
        names = territory_info["rep_name"].astype(object).where(territory_info["rep_name"].notna(), "").astype(
            str).to_numpy()
    if {"rep_latitude", "rep_longitude"} <= set(territory_info.columns):
        lat = territory_info["rep_latitude"].to_numpy(dtype=float)
        lon = territory_info["rep_longitude"].to_numpy(dtype=float)
    if homes is not None:
        frame = pd.DataFrame(homes)
        frame = frame.reset_index() if frame.index.name == TERRITORY_ID else frame
        if TERRITORY_ID in frame.columns and {LATITUDE, LONGITUDE} <= set(frame.columns):
            frame = frame.drop_duplicates(TERRITORY_ID).set_index(frame[TERRITORY_ID].astype(str)[
                ~frame[TERRITORY_ID].duplicated()].to_numpy())
            given = frame.reindex(territories)
            known = given[LATITUDE].notna().to_numpy()
            lat = np.where(known, pd.to_numeric(given[LATITUDE], errors="coerce").to_numpy(dtype=float), lat)
            lon = np.where(known, pd.to_numeric(given[LONGITUDE], errors="coerce").to_numpy(dtype=float), lon)
            if REP_NAME in given.columns:
                named = given[REP_NAME].notna().to_numpy()
                names = np.where(named, given[REP_NAME].astype(str).to_numpy(), names)
    return names.astype(object), lat, lon


def far_limits(home_km: np.ndarray, item_current: np.ndarray, far_km: float) -> np.ndarray:
    """Per territory: the distance from its rep's home beyond which a moved item is *far*.

    ``far_km``, or farther when the territory already holds an item farther out in the
    current plan (a large rural territory is not flagged for what it has today).

    Examples
    --------
    >>> home_km = np.array([[10.0, 500.0], [400.0, 20.0]])  # items x territories
    >>> far_limits(home_km, np.array([0, 0]), 300.0).tolist()
    [400.0, 300.0]
    """
    n = home_km.shape[1]
    held = np.where(np.arange(n)[None, :] == item_current[:, None], home_km, np.nan)
    with np.errstate(all="ignore"):
        farthest = np.nanmax(np.where(np.isnan(held), -np.inf, held), axis=0) if len(held) else np.zeros(n)
    return np.maximum(far_km, np.where(np.isfinite(farthest), farthest, 0.0))


#: Approximate width of one character of a rep's name on the map (10 px bold sans-serif), in pixels.
_CHAR_PX = 6.2


def names_that_fit(latitude, longitude, names, zoom: float) -> np.ndarray:
    """Which rep names can be written beside their home dots at ``zoom`` without overlapping.

    Positions are Web Mercator pixels at ``zoom`` (256 px tiles, as Leaflet
    draws them); each name is a box about 12 px high starting 10 px right of its
    dot. Names are taken west to east and kept when their box overlaps no kept
    name and no other home dot; a name left out still has its dot, with the
    name on hover. Zooming in spreads the homes, so more names fit.

    Parameters
    ----------
    latitude, longitude : array-like
        Home coordinates in degrees.
    names : array-like of str
        The labels.
    zoom : float
        The map's zoom level.

    Returns
    -------
    numpy.ndarray of bool
        True where the name is written.

    Examples
    --------
    Two homes 0.1 degree apart overlap at zoom 4 but not at zoom 10:

    >>> names_that_fit([40.0, 40.0], [-100.0, -99.9], ["Ana Lee", "Bo Chan"], 4).tolist()
    [True, False]
    >>> names_that_fit([40.0, 40.0], [-100.0, -99.9], ["Ana Lee", "Bo Chan"], 10).tolist()
    [True, True]
    """
    lat = np.clip(np.asarray(latitude, dtype=float), -85.0, 85.0)
    lon = np.asarray(longitude, dtype=float)
    scale = 256.0 * 2.0 ** float(zoom)
    x = (lon + 180.0) / 360.0 * scale
    y = (1.0 - np.log(np.tan(np.radians(lat)) + 1.0 / np.cos(np.radians(lat))) / np.pi) / 2.0 * scale
    width = np.array([len(str(n)) for n in names], dtype=float) * _CHAR_PX
    boxes = np.column_stack([x + 10.0, y - 6.0, x + 10.0 + width, y + 6.0])
    dots = np.column_stack([x - 5.0, y - 5.0, x + 5.0, y + 5.0])
    keep = np.zeros(len(x), dtype=bool)
    for i in np.lexsort((y, x)):
        box = boxes[i]
        others = np.arange(len(x)) != i
        hits_dot = ((dots[others, 0] < box[2]) & (dots[others, 2] > box[0])
                    & (dots[others, 1] < box[3]) & (dots[others, 3] > box[1])).any()
        kept = boxes[keep]
        hits_name = ((kept[:, 0] < box[2]) & (kept[:, 2] > box[0]) & (kept[:, 1] < box[3]) & (kept[:, 3] > box[1])).any()
        keep[i] = not (hits_dot or hits_name)
    return keep
