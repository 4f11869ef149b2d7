"""Per-territory summary and the alignment scorecard, with distances to the reps' homes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.geo import great_circle_km
from workbench.metrics._core import (balance_targets, _labels, _split_assigned, _weights, assigned_mask, compactness_km,
                                     deviation_from_mean, distance_to_centre_km, overall_compactness_km,
                                     territory_centres, territory_loads)
from workbench.metrics.shape import contiguity, polsby_popper
from workbench.schema import DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, TERRITORY_ID, WORKLOAD

#: Columns of :func:`territory_summary` besides ``accounts`` and the metric columns.
SUMMARY_COLUMNS = ("within_tolerance", "centre_latitude", "centre_longitude", "compactness_km", "max_distance_km",
                   "polsby_popper", "contiguous", "pieces", "rep_id", "rep_home_distance_km", "centre_to_home_km")


def rep_homes(reps: pd.DataFrame) -> pd.DataFrame:
    """Each territory's rep and home: index ``territory_id``; rep_id, latitude, longitude.

    Accepts a reps table (``territory_id``, ``rep_id``, ``latitude``,
    ``longitude``) or a plan's territories (index ``territory_id``,
    ``rep_latitude``, ``rep_longitude``). Territories without a known home are left out.

    Examples
    --------
    >>> reps = pd.DataFrame({"rep_id": ["R1"], "territory_id": ["T1"], "latitude": [40.0], "longitude": [-75.0]})
    >>> rep_homes(reps).to_dict("index")
    {'T1': {'rep_id': 'R1', 'latitude': 40.0, 'longitude': -75.0}}
    """
    if not isinstance(reps, pd.DataFrame):
        raise TypeError(f"reps must be a pandas DataFrame, got {type(reps).__name__}")
    frame = reps.reset_index() if reps.index.name == TERRITORY_ID else reps
    if "rep_latitude" in frame.columns:
        frame = frame.rename(columns={"rep_latitude": LATITUDE, "rep_longitude": LONGITUDE})
    if TERRITORY_ID not in frame.columns:
        if "rep_id" not in frame.columns:
            raise InputError(f"reps need a territory_id (or rep_id) column to find each territory's rep "
                             f"(columns: {list(frame.columns)})")
        frame = frame.assign(**{TERRITORY_ID: frame["rep_id"]})
    missing = [c for c in (LATITUDE, LONGITUDE) if c not in frame.columns]
    if missing:
        raise InputError(f"reps have no home coordinate column(s) {missing} (columns: {list(frame.columns)})")
    out = pd.DataFrame({
        "rep_id": frame["rep_id"].astype(object).to_numpy() if "rep_id" in frame.columns else None,
        LATITUDE: pd.to_numeric(frame[LATITUDE], errors="coerce").to_numpy(),
        LONGITUDE: pd.to_numeric(frame[LONGITUDE], errors="coerce").to_numpy(),
    }, index=pd.Index(frame[TERRITORY_ID].astype(object).to_numpy(), name=TERRITORY_ID))
    out = out[assigned_mask(out.index.to_numpy()) & out[LATITUDE].notna().to_numpy() & out[LONGITUDE].notna().to_numpy()]
    out.index = out.index.astype(str)
    return out[~out.index.duplicated()]


def distance_to_rep_km(accounts: pd.DataFrame, labels, reps: pd.DataFrame) -> pd.Series:
    """Great-circle distance of each account to its territory rep's home (km; NaN without a rep home)."""
    homes = rep_homes(reps).reindex(_labels(accounts, labels).to_numpy())
    return pd.Series(great_circle_km(accounts[LATITUDE].to_numpy(), accounts[LONGITUDE].to_numpy(),
                                     homes[LATITUDE].to_numpy(), homes[LONGITUDE].to_numpy()),
                     index=accounts.index, name="distance_to_rep_km")


def _weighted_mean(values: pd.Series, weights: np.ndarray, groups) -> pd.Series:
    ok = values.notna().to_numpy()
    frame = pd.DataFrame({"wv": np.where(ok, values.to_numpy() * weights, 0.0), "w": np.where(ok, weights, 0.0),
                          "v": values.to_numpy(), "n": ok.astype(float)}, index=values.index)
    sums = frame.groupby(groups, sort=True).sum(min_count=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plain = sums["v"] / sums["n"]
        return (sums["wv"] / sums["w"]).where(sums["w"] > 0, plain)


def territory_summary(accounts: pd.DataFrame, labels, metrics: Sequence[str], reps=None, blocks=None,
                      block_col: str | None = None, tolerance: float = DEFAULT_TOLERANCE, *, weight: str | None = WORKLOAD,
                      territory_ids=None, adjacency=None, targets=None) -> pd.DataFrame:
    """One row per territory: size, balance, compactness, shape, contiguity and distance from the rep's home.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Accounts with ``latitude``, ``longitude`` and the metric columns.
    labels : array-like
        Territory of each row; missing/NaN/blank labels are unassigned and left out.
    metrics : sequence of str
        Columns to total and balance (e.g. ``["workload", "revenue"]``).
    reps : pandas.DataFrame, optional
        Rep homes (see :func:`rep_homes`); without it the rep columns are NaN.
    blocks : geopandas.GeoDataFrame, optional
        Block polygons (``block_id``); without them Polsby-Popper is NaN and
        contiguity None.
    block_col : str, optional
        Account column naming each account's block (default ``county_fips``).
    tolerance : float, default 0.05
        Allowed deviation from the mean, as a share.
    weight : str or None, default "workload"
        Weight of the distance averages (a missing column means unweighted).
    territory_ids : sequence of str, optional
        Territories to show even with no account (their loads are 0 and count in the mean).
    adjacency : networkx.Graph, optional
        Block graph to reuse for contiguity (instead of building it from ``blocks``).
    targets : pandas.Series, optional
        Target share per territory (:func:`workbench.metrics.balance_targets`,
        from rep capacities); default equal, i.e. the mean.

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id``; columns ``accounts``; per metric ``<metric>``
        (total) and ``<metric>_deviation_pct`` (from the territory's target, the
        mean unless ``targets`` or the reps' capacities differ; in percent: 15.0
        = 15% over); ``within_tolerance`` (every metric within ``tolerance``);
        ``centre_latitude``, ``centre_longitude``; ``compactness_km`` (weighted
        mean distance to the centre) and ``max_distance_km``;
        ``polsby_popper``; ``contiguous`` (True/False/None) and ``pieces``;
        ``rep_id``, ``rep_home_distance_km`` (weighted mean distance of the
        accounts to the rep's home) and ``centre_to_home_km``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 0.0, 0.0], "longitude": [0.0, 0.2, 1.0, 1.2],
    ...                          "workload": [10.0, 10.0, 30.0, 10.0]})
    >>> table = territory_summary(accounts, ["A", "A", "B", "B"], ["workload"])
    >>> table[["accounts", "workload", "workload_deviation_pct", "within_tolerance"]].to_dict("index")
    {'A': {'accounts': 2, 'workload': 20.0, 'workload_deviation_pct': -33.33333333333333, 'within_tolerance': False}, 'B': {'accounts': 2, 'workload': 40.0, 'workload_deviation_pct': 33.33333333333333, 'within_tolerance': False}}
    """
    metrics = list(metrics)
    sub, clean, _ = _split_assigned(accounts, labels)
    loads = territory_loads(sub, clean, metrics)
    if territory_ids is not None:
        ids = pd.Index(sorted(set(map(str, territory_ids)) | set(loads.index)), name=TERRITORY_ID)
        loads = loads.reindex(ids, fill_value=0)
        loads["accounts"] = loads["accounts"].astype(int)
    table = loads.copy()
    if targets is None and reps is not None:
        targets = balance_targets(reps, loads.index)
    deviation = deviation_from_mean(loads, metrics, targets) * 100.0
    for m in metrics:
        table[f"{m}_deviation_pct"] = deviation[m]
    within = (deviation.abs() <= tolerance * 100.0 + 1e-9).all(axis=1) if metrics else pd.Series(True, table.index)
    table["within_tolerance"] = within.reindex(table.index).fillna(True).astype(bool)
    for column in SUMMARY_COLUMNS[1:]:
        table[column] = np.nan
    table["contiguous"] = pd.Series([None] * len(table), index=table.index, dtype=object)
    table["rep_id"] = pd.Series([None] * len(table), index=table.index, dtype=object)
    geo = len(sub) and LATITUDE in sub.columns and LONGITUDE in sub.columns
    if geo:
        centres = territory_centres(sub, clean, weight)
        distance = distance_to_centre_km(sub, clean, weight, centres)
        table["centre_latitude"] = centres[LATITUDE].reindex(table.index)
        table["centre_longitude"] = centres[LONGITUDE].reindex(table.index)
        table["compactness_km"] = compactness_km(sub, clean, weight, centres).reindex(table.index)
        table["max_distance_km"] = distance.groupby(clean, sort=True).max().reindex(table.index)
    if blocks is not None and len(sub):
        table["polsby_popper"] = polsby_popper(sub, clean, blocks, block_col).reindex(table.index)
    if (blocks is not None or adjacency is not None) and len(sub):
        pieces = contiguity(sub, clean, blocks, block_col, adjacency).reindex(table.index)
        table["contiguous"] = pieces["contiguous"].astype(object).where(pieces["contiguous"].notna(), None)
        table["pieces"] = pieces["pieces"]
    if reps is not None:
        homes = rep_homes(reps).reindex(table.index)
        table["rep_id"] = homes["rep_id"].astype(object).where(homes["rep_id"].notna(), None)
        if geo:
            to_home = distance_to_rep_km(sub, clean, reps)
            table["rep_home_distance_km"] = _weighted_mean(to_home, _weights(sub, weight), clean).reindex(table.index)
            table["centre_to_home_km"] = great_circle_km(table["centre_latitude"], table["centre_longitude"],
                                                         homes[LATITUDE], homes[LONGITUDE])
    return table


def scorecard(accounts: pd.DataFrame, labels, metrics: Sequence[str], tolerance: float = DEFAULT_TOLERANCE, blocks=None,
              block_col: str | None = None, reps=None, *, weight: str | None = WORKLOAD, territory_ids=None,
              adjacency=None, summary: pd.DataFrame | None = None) -> pd.Series:
    """The alignment in one column of numbers: balance, compactness, contiguity, coverage.

    Items (index, in this order): ``territories``; ``accounts`` (all rows);
    ``unassigned_accounts`` (missing/NaN/blank labels); per metric
    ``<metric>_max_deviation_pct`` (largest absolute deviation from the mean,
    %) and ``<metric>_cv_pct`` (coefficient of variation of the territory
    loads, population std / mean, %); ``within_tolerance_pct`` (share of
    territories with every metric within ``tolerance``, %);
    ``compactness_km`` (weighted mean distance of accounts to their territory
    centre); ``max_distance_km``; ``mean_polsby_popper`` and
    ``min_polsby_popper`` (None without blocks); ``non_contiguous_territories``
    (None without blocks); ``rep_home_distance_km`` (weighted mean distance of
    accounts to their rep's home; None without reps).

    Returns
    -------
    pandas.Series
        Name ``value``, object dtype (ints stay ints, unavailable items are None).

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 0.0, 0.0], "longitude": [0.0, 0.2, 1.0, 1.2],
    ...                          "workload": [10.0, 10.0, 30.0, 10.0]})
    >>> card = scorecard(accounts, ["A", "A", "B", None], ["workload"])
    >>> card[["territories", "unassigned_accounts", "workload_max_deviation_pct", "within_tolerance_pct"]].tolist()
    [2, 1, 20.0, 0.0]
    """
    metrics = list(metrics)
    if summary is None:
        summary = territory_summary(accounts, labels, metrics, reps, blocks, block_col, tolerance, weight=weight,
                                    territory_ids=territory_ids, adjacency=adjacency)
    sub, clean, unassigned = _split_assigned(accounts, labels)
    items: dict[str, object] = {"territories": int(len(summary)), "accounts": int(len(accounts)),
                                "unassigned_accounts": unassigned}
    for m in metrics:
        loads = summary[m].astype(float)
        mean = loads.mean() if len(loads) else np.nan
        items[f"{m}_max_deviation_pct"] = _num(summary[f"{m}_deviation_pct"].abs().max())
        items[f"{m}_cv_pct"] = _num(loads.std(ddof=0) / mean * 100.0) if mean else (0.0 if len(loads) else None)
    items["within_tolerance_pct"] = _num(summary["within_tolerance"].mean() * 100.0) if len(summary) else None
    geo = len(sub) and LATITUDE in sub.columns and LONGITUDE in sub.columns
    items["compactness_km"] = _num(overall_compactness_km(sub, clean, weight)) if geo else None
    items["max_distance_km"] = _num(summary["max_distance_km"].max()) if geo else None
    has_blocks = blocks is not None or adjacency is not None
    items["mean_polsby_popper"] = _num(summary["polsby_popper"].mean()) if blocks is not None else None
    items["min_polsby_popper"] = _num(summary["polsby_popper"].min()) if blocks is not None else None
    items["non_contiguous_territories"] = (int((summary["contiguous"] == False).sum())  # noqa: E712
                                           if has_blocks else None)
    if reps is not None and geo:
        to_home = distance_to_rep_km(sub, clean, reps)
        ok = to_home.notna().to_numpy()
        w = _weights(sub, weight)[ok]
        items["rep_home_distance_km"] = (_num(np.average(to_home[ok], weights=w)) if ok.any() and w.sum() > 0
                                         else _num(to_home[ok].mean()) if ok.any() else None)
    else:
        items["rep_home_distance_km"] = None
    return pd.Series(items, name="value", dtype=object)


def _num(value):
    """Plain float, or None for NaN/None."""
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value
