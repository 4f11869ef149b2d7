"""Alignment metrics as pure functions of accounts and their territory labels.

Every function takes the accounts frame (standard columns, see
:mod:`workbench.schema`) and ``labels``: one territory id per account row
(an array aligned with the rows, or a Series indexed like ``accounts``).
Nothing here mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.geo import great_circle_km, to_unit_xyz, xyz_to_latlon
from workbench.labels import labels_for_rows
from workbench.schema import CAPACITY_HOURS, LATITUDE, LONGITUDE, TERRITORY_ID, WORKLOAD


def _labels(accounts: pd.DataFrame, labels) -> pd.Series:
    return pd.Series(labels_for_rows(labels, accounts), index=accounts.index, name=TERRITORY_ID)


def territory_loads(accounts: pd.DataFrame, labels, metrics: Sequence[str]) -> pd.DataFrame:
    """Per-territory totals of each metric, plus the account count.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Accounts with the metric columns.
    labels : array-like
        Territory id of each account row.
    metrics : sequence of str
        Numeric columns to total.

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id`` (sorted), columns ``accounts`` and one per metric.

    Examples
    --------
    >>> accounts = pd.DataFrame({"workload": [1.0, 2.0, 3.0]})
    >>> territory_loads(accounts, ["b", "a", "b"], ["workload"])
                  accounts  workload
    territory_id                    
    a                    1       2.0
    b                    2       4.0
    """
    metrics = list(metrics)
    missing = [m for m in metrics if m not in accounts.columns]
    if missing:
        raise KeyError(f"metric columns {missing} are not in the accounts (columns: {list(accounts.columns)})")
    grouped = accounts[metrics].astype(float).groupby(_labels(accounts, labels), sort=True)
    loads = grouped.sum()
    loads.insert(0, "accounts", grouped.size())
    loads.index.name = TERRITORY_ID
    return loads


def deviation_from_mean(loads: pd.DataFrame, metrics: Sequence[str] | None = None, targets=None) -> pd.DataFrame:
    """Signed deviation of each territory's load from its target, as a share.

    Parameters
    ----------
    loads : pandas.DataFrame
        Output of :func:`territory_loads`.
    metrics : sequence of str, optional
        Columns to use; default every column but ``accounts``.
    targets : pandas.Series or pandas.DataFrame, optional
        Target load per territory (e.g. from unequal rep capacities), as a
        share of the total (a Series summing to 1, indexed by territory).
        Default: the mean, i.e. equal shares.

    Returns
    -------
    pandas.DataFrame
        ``(load - target) / target`` per territory and metric (0.1 = 10% over).

    Examples
    --------
    >>> loads = pd.DataFrame({"accounts": [1, 2], "workload": [90.0, 110.0]}, index=["a", "b"])
    >>> deviation_from_mean(loads)["workload"].round(2).tolist()
    [-0.1, 0.1]
    """
    metrics = [c for c in loads.columns if c != "accounts"] if metrics is None else list(metrics)
    values = loads[metrics].astype(float)
    if targets is None:
        share = pd.Series(1.0 / len(values), index=values.index) if len(values) else pd.Series(dtype=float)
    else:
        share = pd.Series(targets, dtype=float).reindex(values.index)
        share = share / share.sum()
    target = np.outer(share.to_numpy(), values.sum().to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = (values.to_numpy() - target) / target
    deviation = np.where(target == 0, 0.0, deviation)
    return pd.DataFrame(deviation, index=values.index, columns=metrics)


def balance_targets(territories, ids=None, capacity_col: str = CAPACITY_HOURS):
    """Each territory's target share of the load, from its rep's capacity: the one definition of balance.

    Everything that measures balance (alignment reports, ``compare``,
    scorecards, the map view, move explanations, exports) measures the
    deviation of a territory's load from *its own* target. With unequal rep
    capacities (``capacity_hours``) a territory's target is its share of the
    total capacity; otherwise every territory has the same target (the
    mean), and this returns None.

    Parameters
    ----------
    territories : pandas.DataFrame or None
        A plan's territories (index ``territory_id``) or a reps table
        (``territory_id`` or ``rep_id`` column), with ``capacity_col``.
    ids : sequence of str, optional
        Territories to give targets for (default every one in ``territories``).
        One without a capacity makes the targets equal (None).
    capacity_col : str, default "capacity_hours"

    Returns
    -------
    pandas.Series or None
        Target share per territory (summing to 1), None for equal targets.

    Examples
    --------
    >>> reps = pd.DataFrame({"territory_id": ["T1", "T2"], "capacity_hours": [1000.0, 3000.0]})
    >>> balance_targets(reps).tolist()
    [0.25, 0.75]
    >>> balance_targets(reps.assign(capacity_hours=1500.0)) is None
    True
    """
    if territories is None or not isinstance(territories, pd.DataFrame) or capacity_col not in territories.columns:
        return None
    frame = territories
    if frame.index.name != TERRITORY_ID:
        key = TERRITORY_ID if TERRITORY_ID in frame.columns else ("rep_id" if "rep_id" in frame.columns else None)
        if key is None:
            return None
        frame = frame.set_index(key)
    capacity = pd.to_numeric(frame[capacity_col], errors="coerce")
    capacity.index = capacity.index.astype(str)
    capacity = capacity[~capacity.index.duplicated()]
    ids = capacity.index if ids is None else pd.Index([str(i) for i in ids])
    capacity = capacity.reindex(ids)
    if capacity.empty or capacity.isna().any() or (capacity <= 0).any() or np.allclose(capacity, capacity.iloc[0]):
        return None
    return capacity / capacity.sum()


def deviation_from_target(loads: pd.DataFrame, metrics: Sequence[str] | None = None, territories=None):
    """:func:`deviation_from_mean` against :func:`balance_targets` of ``territories`` (equal when None)."""
    return deviation_from_mean(loads, metrics, balance_targets(territories, loads.index))


def max_deviation(accounts: pd.DataFrame, labels, metrics: Sequence[str], targets=None) -> dict[str, float]:
    """Largest absolute deviation from the target, per metric, as a share (0.05 = 5%).

    Examples
    --------
    >>> accounts = pd.DataFrame({"workload": [1.0, 2.0, 3.0, 2.0]})
    >>> max_deviation(accounts, ["a", "a", "b", "b"], ["workload"])
    {'workload': 0.25}
    """
    deviation = deviation_from_mean(territory_loads(accounts, labels, metrics), metrics, targets)
    return {m: float(deviation[m].abs().max()) if len(deviation) else 0.0 for m in metrics}


def territory_centres(accounts: pd.DataFrame, labels, weight: str | None = WORKLOAD) -> pd.DataFrame:
    """Weighted spherical centre of each territory's accounts.

    The centre is the direction of the weighted mean of the accounts'
    unit-sphere vectors; with ``weight=None`` (or a missing column) every
    account counts once.

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id``, columns ``latitude`` and ``longitude``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0], "longitude": [-1.0, 1.0]})
    >>> territory_centres(accounts, ["a", "a"], weight=None).round(6).to_dict("records")
    [{'latitude': 0.0, 'longitude': 0.0}]
    """
    xyz = to_unit_xyz(accounts[LATITUDE], accounts[LONGITUDE])
    w = _weights(accounts, weight)
    frame = pd.DataFrame(xyz * w[:, None], columns=["x", "y", "z"], index=accounts.index)
    frame["w"] = w
    sums = frame.groupby(_labels(accounts, labels), sort=True).sum()
    # A territory whose weights are all zero still gets a centre: its plain mean.
    zero = sums["w"].to_numpy() <= 0
    if zero.any():
        plain = pd.DataFrame(xyz, columns=["x", "y", "z"], index=accounts.index).groupby(_labels(accounts, labels), sort=True).sum()
        sums.loc[zero, ["x", "y", "z"]] = plain.loc[zero].to_numpy()
    lat, lon = xyz_to_latlon(sums[["x", "y", "z"]].to_numpy())
    centres = pd.DataFrame({LATITUDE: lat, LONGITUDE: lon}, index=sums.index)
    centres.index.name = TERRITORY_ID
    return centres


def distance_to_centre_km(accounts: pd.DataFrame, labels, weight: str | None = WORKLOAD, centres=None) -> pd.Series:
    """Great-circle distance of every account to its territory's centre, in km."""
    labels = _labels(accounts, labels)
    centres = territory_centres(accounts, labels, weight) if centres is None else centres
    matched = centres.reindex(labels.to_numpy())
    return pd.Series(
        great_circle_km(accounts[LATITUDE].to_numpy(), accounts[LONGITUDE].to_numpy(),
                        matched[LATITUDE].to_numpy(), matched[LONGITUDE].to_numpy()),
        index=accounts.index, name="distance_km",
    )


def compactness_km(accounts: pd.DataFrame, labels, weight: str | None = WORKLOAD, centres=None) -> pd.Series:
    """Weighted mean great-circle distance to the territory centre, per territory (km).

    Smaller is more compact: less travel for the rep. The weight (workload by
    default) makes heavy accounts count more, as they are visited more often.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 10.0], "longitude": [-1.0, 1.0, 0.0],
    ...                          "workload": [1.0, 1.0, 5.0]})
    >>> compactness_km(accounts, ["a", "a", "b"]).round(1).to_dict()
    {'a': 111.2, 'b': 0.0}
    """
    labels = _labels(accounts, labels)
    distance = distance_to_centre_km(accounts, labels, weight, centres)
    w = _weights(accounts, weight)
    frame = pd.DataFrame({"wd": distance.to_numpy() * w, "w": w}, index=accounts.index)
    sums = frame.groupby(labels, sort=True).sum()
    plain = distance.groupby(labels, sort=True).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(sums["w"] > 0, sums["wd"] / sums["w"], plain.to_numpy())
    out = pd.Series(result, index=sums.index, name="compactness_km")
    out.index.name = TERRITORY_ID
    return out


def overall_compactness_km(accounts: pd.DataFrame, labels, weight: str | None = WORKLOAD, centres=None) -> float:
    """Weighted mean distance of all accounts to their territory centre (km), one number.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 10.0], "longitude": [-1.0, 1.0, 0.0],
    ...                          "workload": [1.0, 1.0, 2.0]})
    >>> round(overall_compactness_km(accounts, ["a", "a", "b"]), 1)
    55.6
    """
    distance = distance_to_centre_km(accounts, labels, weight, centres).to_numpy()
    w = _weights(accounts, weight)
    return float(np.average(distance, weights=w)) if w.sum() > 0 else float(distance.mean())


def _weights(accounts: pd.DataFrame, weight: str | None) -> np.ndarray:
    if weight is None or weight not in accounts.columns:
        return np.ones(len(accounts))
    return accounts[weight].to_numpy(dtype=float)


def assigned_mask(labels) -> np.ndarray:
    """True where a label names a territory (not missing, NaN, None or blank text).

    Examples
    --------
    >>> assigned_mask(["T1", None, np.nan, " ", "T2"]).tolist()
    [True, False, False, False, True]
    """
    values = pd.Series(np.asarray(labels, dtype=object) if not isinstance(labels, pd.Series) else labels.to_numpy(),
                       dtype=object)
    missing = values.isna()
    blank = values.astype(str).str.strip().eq("")
    return (~(missing | blank)).to_numpy()


def _split_assigned(accounts: pd.DataFrame, labels):
    values = _labels(accounts, labels)
    mask = assigned_mask(values)
    sub = accounts.loc[mask]
    return sub, values[mask].astype(str).str.strip(), int((~mask).sum())


def moved_share(accounts: pd.DataFrame, labels, current, weight: str | None = WORKLOAD) -> float:
    """Share of the ``weight`` (default workload; the account count without it) whose territory differs from ``current``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"workload": [1.0, 3.0]})
    >>> moved_share(accounts, ["T1", "T2"], ["T1", "T1"])
    0.75
    """
    after = _labels(accounts, labels).to_numpy(dtype=object)
    before = _labels(accounts, current).to_numpy(dtype=object)
    moved = after != before
    values = (accounts[weight].to_numpy(dtype=float) if weight is not None and weight in accounts.columns
              else np.ones(len(accounts)))
    total = float(values.sum())
    return float(values[moved].sum() / total) if total > 0 else 0.0


def whole_blocks(accounts: pd.DataFrame, labels, block_col: str) -> bool:
    """True when every block (e.g. county, the accounts' ``block_col``) lies in one territory.

    Examples
    --------
    >>> accounts = pd.DataFrame({"county_fips": ["01001", "01001", "01003"]})
    >>> whole_blocks(accounts, ["T1", "T1", "T2"], "county_fips"), whole_blocks(accounts, ["T1", "T2", "T2"], "county_fips")
    (True, False)
    """
    per_block = _labels(accounts, labels).groupby(accounts[block_col].to_numpy()).nunique()
    return bool(per_block.max() <= 1) if len(per_block) else True
