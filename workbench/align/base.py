"""Base pieces every alignment estimator shares: input checks, distances, results, predict.

The estimators in :mod:`workbench.align` (and the block-based ones built on
them) follow scikit-learn: ``__init__`` only stores parameters, ``fit``
checks the accounts, computes, and sets ``labels_`` (one territory id per
account row, a numpy array of str), ``centres_`` (DataFrame indexed by
``territory_id`` with latitude/longitude) and ``report_`` (an
:class:`~workbench.align.report.AlignmentReport`).

Distances. Everything runs on 3-D unit-sphere coordinates
(:func:`workbench.geo.to_unit_xyz`), where the chord length grows with the
great-circle distance. The *assignment cost* of an account to a territory
is the squared distance to its centre. A user-supplied ``distance`` (a
vectorised ``callable(lat1, lon1, lat2, lon2) -> array``, e.g. travel time,
or for fixed sites a precomputed accounts x sites matrix) replaces that
cost; candidate territories are still the nearest on the globe and centres
stay spherical means.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from workbench.checks import check_tolerance  # noqa: F401 (its home is workbench.checks; align modules import it here)
from workbench.errors import InputError
from workbench.geo import EARTH_RADIUS_KM, to_unit_xyz, xyz_to_latlon
from workbench.schema import LATITUDE, LONGITUDE, TERRITORY_ID

from workbench.align.distance import N_CANDIDATES, Distance  # noqa: F401 (their home; kept importable from here)

__all__ = ["N_CANDIDATES", "Distance", "TerritoryEstimator", "accounts_frame", "balance_columns", "centres_frame",
           "check_accounts", "check_n_territories", "check_tolerance", "lock_mask", "metric_shares", "progress_bar",
           "score_labels", "territory_ids", "unit_centres"]


def _rows(index, mask, limit: int = 5) -> list:
    return np.asarray(index)[np.asarray(mask)][:limit].tolist()


def accounts_frame(accounts, *, what: str = "accounts") -> pd.DataFrame:
    """``accounts`` as a plain DataFrame with ``latitude``/``longitude``: GeoDataFrame points in any CRS are read.

    A DataFrame that is not a GeoDataFrame is returned as it is. A
    GeoDataFrame of points (any CRS) becomes a copy without the geometry, with
    ``latitude``/``longitude`` from the points reprojected to EPSG:4326 (they
    replace columns of those names). Polygons, lines, empty or missing points
    and a GeoDataFrame without a CRS raise InputError; a GeoDataFrame without
    point geometry but with latitude/longitude columns is used as a table.

    Examples
    --------
    >>> import geopandas as gpd
    >>> points = gpd.GeoDataFrame({"workload": [1.0, 2.0]}, geometry=gpd.points_from_xy([-100.0, -99.0], [40.0, 41.0]),
    ...                           crs="EPSG:4326").to_crs(5070)   # metres, no lat/lon columns
    >>> accounts_frame(points).round(6).to_dict("list")
    {'workload': [1.0, 2.0], 'latitude': [40.0, 41.0], 'longitude': [-100.0, -99.0]}
    """
    # A GeoDataFrame exists only once geopandas is imported: a plain table does not load it (CLI start-up).
    gpd = sys.modules.get("geopandas")
    if gpd is None or not isinstance(accounts, gpd.GeoDataFrame):
        return accounts
    try:
        geometry = accounts.geometry
    except AttributeError:  # a GeoDataFrame whose active geometry column is not set
        geometry = None
    if geometry is None:
        if {LATITUDE, LONGITUDE} <= set(accounts.columns):
            return pd.DataFrame(accounts)
        raise InputError(f"{what} are a GeoDataFrame without an active geometry or latitude/longitude columns; "
                         "set the point geometry (set_geometry) or add latitude and longitude")
    kinds = geometry.geom_type
    bad = geometry.isna().to_numpy() | geometry.is_empty.to_numpy() | (kinds != "Point").to_numpy()
    if bad.any():
        found = sorted(set(kinds[bad].fillna("missing").astype(str)))
        raise InputError(f"{what}: {int(bad.sum())} geometries are not points ({', '.join(found)}; rows "
                         f"{_rows(accounts.index, bad)}); accounts need one point each (use .representative_point() "
                         "for polygons, or drop the rows)")
    if geometry.crs is None:
        raise InputError(f"{what}: the GeoDataFrame has no CRS, so its coordinates cannot be read as places; "
                         "set it with .set_crs(...) (e.g. 'EPSG:4326' for longitude/latitude degrees)")
    lonlat = geometry.to_crs(4326) if geometry.crs.to_epsg() != 4326 else geometry
    frame = pd.DataFrame(accounts.drop(columns=accounts.geometry.name))
    frame[LATITUDE] = lonlat.y.to_numpy()
    frame[LONGITUDE] = lonlat.x.to_numpy()
    return frame


def check_accounts(accounts, metrics: Sequence[str] = (), *, lock_col: str | None = None,
                   current_col: str | None = None, what: str = "accounts",
                   need_total: bool = True) -> pd.DataFrame:
    """Check that ``accounts`` can be aligned; return the frame to align.

    A :class:`pandas.DataFrame` is returned unchanged. A
    :class:`geopandas.GeoDataFrame` of points, in any CRS, needs no
    latitude/longitude columns: a plain copy is returned with ``latitude`` and
    ``longitude`` taken from the geometry (in EPSG:4326), see :func:`accounts_frame`.

    Raises :class:`~workbench.errors.InputError` naming the column, the first
    offending rows and the fix; ``TypeError`` when it is not a DataFrame.

    Examples
    --------
    >>> frame = pd.DataFrame({"latitude": [40.0], "longitude": [-100.0], "workload": [2.0]})
    >>> check_accounts(frame, ["workload"]).shape
    (1, 3)
    >>> check_accounts(frame, ["revenue"])
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: accounts have no column 'revenue' to balance (columns: ['latitude', 'longitude', 'workload']); pass balance_on= (CLI: --balance-on) naming existing numeric columns
    """
    if not isinstance(accounts, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(accounts).__name__}")
    accounts = accounts_frame(accounts, what=what)
    if len(accounts) == 0:
        raise InputError(f"{what} are empty: there is nothing to align")
    for col in (LATITUDE, LONGITUDE):
        if col not in accounts.columns:
            raise InputError(f"{what} have no {col!r} column (columns: {list(accounts.columns)}); "
                             "load them with workbench.io.load_accounts or rename the coordinate columns")
    for col, low, high in ((LATITUDE, -90, 90), (LONGITUDE, -180, 180)):
        values = pd.to_numeric(accounts[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < low) | (values > high)
        if bad.any():
            raise InputError(f"{what} column {col!r} has {int(bad.sum())} missing or out-of-range values "
                             f"(rows {_rows(accounts.index, bad)}); fix or drop those rows")
    for col in metrics:
        if col not in accounts.columns:
            raise InputError(f"{what} have no column {col!r} to balance (columns: {list(accounts.columns)}); "
                             "pass balance_on= (CLI: --balance-on) naming existing numeric columns")
        values = pd.to_numeric(accounts[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise InputError(f"{what} column {col!r} has {int(bad.sum())} missing, non-numeric or negative values "
                             f"(rows {_rows(accounts.index, bad)}); balanced metrics must be numbers >= 0")
        if need_total and values.sum() <= 0:
            raise InputError(f"{what} column {col!r} sums to 0: nothing to balance; choose another metric")
    if current_col is not None:
        if current_col not in accounts.columns:
            raise InputError(f"{what} have no current-territory column {current_col!r} "
                             f"(columns: {list(accounts.columns)}); pass current_col= naming it")
        missing = accounts[current_col].isna().to_numpy()
        if missing.any():
            raise InputError(f"{what} column {current_col!r} is empty in {int(missing.sum())} rows "
                             f"(rows {_rows(accounts.index, missing)}); every account needs its current territory")
    if lock_col is not None:
        if lock_col not in accounts.columns:
            raise InputError(f"{what} have no lock column {lock_col!r} (columns: {list(accounts.columns)}); "
                             "pass lock_col= naming a True/False column")
        if current_col is None:
            raise InputError(f"lock_col={lock_col!r} needs current_col= (the territory a locked account keeps)")
        lock_mask(accounts, lock_col)
    return accounts


def lock_mask(accounts: pd.DataFrame, lock_col: str | None) -> np.ndarray:
    """Boolean array: True where the account is locked (missing counts as unlocked)."""
    if lock_col is None:
        return np.zeros(len(accounts), dtype=bool)
    column = accounts[lock_col]
    if column.dtype == bool:
        return column.to_numpy(dtype=bool)
    text = column.astype("string").str.strip().str.lower()
    truthy = text.isin(["true", "1", "yes", "y", "t", "1.0"]).fillna(False).to_numpy(dtype=bool)
    falsy = text.isin(["false", "0", "no", "n", "f", "0.0", ""]).fillna(False).to_numpy(dtype=bool) | column.isna().to_numpy()
    bad = ~(truthy | falsy)
    if bad.any():
        raise InputError(f"lock column {lock_col!r} has values that are not True/False "
                         f"(rows {_rows(accounts.index, bad)}: {list(column[bad].astype(str)[:5])}); use True/False")
    return truthy


def check_n_territories(n_territories, n_accounts: int, *, name: str = "n_territories", where=None) -> int:
    """Validate the number of territories against the number of accounts.

    ``name`` is how the caller's user spells the argument (``"--territories"``
    on the command line), ``where`` the accounts' file, for the message.

    Examples
    --------
    >>> check_n_territories(3, 10)
    3
    >>> check_n_territories(5, 3, name="--territories", where="accounts.csv")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: --territories 5 is more than the 3 accounts in accounts.csv; ask for at most one territory per account
    """
    if isinstance(n_territories, bool) or not isinstance(n_territories, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {n_territories!r}")
    if n_territories < 1:
        raise InputError(f"{name} must be a positive number, got {n_territories}; ask for at least 1 territory")
    if n_territories > n_accounts:
        label = f"{name} {n_territories}" if name.startswith("-") else f"{name}={n_territories}"
        place = f" in {where}" if where is not None else ""
        raise InputError(f"{label} is more than the {n_accounts} accounts{place}; "
                         "ask for at most one territory per account")
    return int(n_territories)


def balance_columns(balance_on) -> list[str]:
    """Normalise ``balance_on`` (a str or a sequence of str) to a non-empty list."""
    if isinstance(balance_on, str):
        balance_on = [balance_on]
    balance_on = list(dict.fromkeys(balance_on or ()))
    if not balance_on or not all(isinstance(c, str) for c in balance_on):
        raise InputError(f"balance_on must name one or more metric columns, got {balance_on!r}")
    return balance_on


def metric_shares(accounts: pd.DataFrame, metrics: Sequence[str]) -> np.ndarray:
    """(n, m) array: each metric divided by its total, so every column sums to 1."""
    values = accounts[list(metrics)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return values / values.sum(axis=0, keepdims=True)


def territory_ids(n: int, prefix: str = "T") -> np.ndarray:
    """Ids ``T001``, ``T002``... (zero-padded so they sort in order).

    Examples
    --------
    >>> territory_ids(3).tolist()
    ['T001', 'T002', 'T003']
    """
    width = max(3, len(str(n)))
    return np.array([f"{prefix}{i + 1:0{width}d}" for i in range(n)], dtype=object)


def unit_centres(xyz: np.ndarray, labels: np.ndarray, weights: np.ndarray, n: int, previous=None) -> np.ndarray:
    """Weighted spherical centres (unit vectors) of ``n`` groups; empty groups keep ``previous``."""
    sums = np.zeros((n, 3))
    for axis in range(3):
        sums[:, axis] = np.bincount(labels, weights=xyz[:, axis] * weights, minlength=n)
    norm = np.linalg.norm(sums, axis=1)
    empty = norm <= 1e-12
    if empty.any():
        plain = np.zeros((n, 3))
        for axis in range(3):
            plain[:, axis] = np.bincount(labels, weights=xyz[:, axis], minlength=n)
        sums[empty] = plain[empty] if previous is None else previous[empty]
        norm = np.linalg.norm(sums, axis=1)
        # Still nothing (a group with no points): the weighted centre of all points.
        overall = (xyz * np.maximum(weights, 1e-12)[:, None]).sum(axis=0)
        overall = overall / max(np.linalg.norm(overall), 1e-12)
        sums[norm <= 1e-12] = overall
        norm[norm <= 1e-12] = 1.0
    return sums / norm[:, None]


def centres_frame(centres_xyz: np.ndarray, ids) -> pd.DataFrame:
    """Territory centres as a DataFrame indexed by ``territory_id`` (latitude, longitude)."""
    lat, lon = xyz_to_latlon(centres_xyz)
    frame = pd.DataFrame({LATITUDE: lat, LONGITUDE: lon}, index=pd.Index(list(ids), name=TERRITORY_ID))
    return frame


def progress_bar(progress: bool, total: int | None, desc: str):
    """The estimators' bar over ``total`` rounds: :func:`workbench.progress.counter`, shown when ``progress`` is
    true (a notebook widget in Jupyter, text on stderr elsewhere), else a no-op with the same methods."""
    from workbench.progress import counter

    return counter(total, desc=desc, enabled=bool(progress))


#: Kilometres of mean distance to the centre that weigh as much as a 100% imbalance in :meth:`TerritoryEstimator.score`.
SCORE_KM = 100.0


def _fingerprint(accounts: pd.DataFrame) -> str:
    """Hash of the coordinates, to recognise the accounts a model was fitted on."""
    import hashlib

    coords = accounts[[LATITUDE, LONGITUDE]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return hashlib.sha256(np.ascontiguousarray(coords).tobytes()).hexdigest()


def score_labels(accounts: pd.DataFrame, label: np.ndarray, centres_xyz: np.ndarray, target_shares: np.ndarray,
                 balance_on) -> float:
    """``-(imbalance + compactness_km / SCORE_KM)`` of a labelling (see :meth:`TerritoryEstimator.score`).

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0], "longitude": [0.0, 1.0], "workload": [1.0, 1.0]})
    >>> centres = to_unit_xyz(np.array([0.0, 0.0]), np.array([0.0, 1.0]))
    >>> score_labels(accounts, np.array([0, 1]), centres, np.array([0.5, 0.5]), ["workload"])
    0.0
    """
    label = np.asarray(label, dtype=np.int64)
    xyz = to_unit_xyz(accounts[LATITUDE].to_numpy(dtype=float), accounts[LONGITUDE].to_numpy(dtype=float))
    chord = np.linalg.norm(xyz - centres_xyz[label], axis=1)
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    imbalance = 0.0
    weights = np.ones(len(accounts))
    if balance_on:
        values = accounts[list(balance_on)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        weights = values[:, 0]
        targets = np.asarray(target_shares, dtype=float)
        for m in range(values.shape[1]):
            total = values[:, m].sum()
            if total <= 0:
                continue
            loads = np.bincount(label, weights=values[:, m], minlength=len(targets))
            deviation = loads / (targets * total) - 1
            imbalance = max(imbalance, float(np.abs(deviation[targets > 0]).max()))
    compactness = float(np.average(km, weights=weights)) if weights.sum() > 0 else float(km.mean())
    return 0.0 - (imbalance + compactness / SCORE_KM)  # 0.0 - x: a perfect score reads 0.0, not -0.0


class TerritoryEstimator(ClusterMixin, BaseEstimator):
    """Shared results and ``predict`` of the alignment estimators (not used directly)."""

    _method = "territories"

    def _set_results(self, accounts, label_idx, ids, centres_xyz, *, balance_on, tolerance, targets=None,
                     current=None, lower_bound_share=None, n_iter=0, converged=True, seconds=0.0,
                     contiguous=None, extra_warnings=(), distance=None):
        """Store ``labels_``, ``centres_``, ``report_`` and what ``predict`` needs."""
        from workbench.align.report import build_report

        ids = np.asarray(ids, dtype=object)
        self.labels_ = ids[label_idx]
        # scikit-learn's record of what the fit read: the coordinates and the balanced metrics.
        self.feature_names_in_ = np.asarray([LATITUDE, LONGITUDE, *balance_on], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self._fit_fingerprint = _fingerprint(accounts)
        self.territory_ids_ = ids
        self.centres_ = centres_frame(centres_xyz, ids)
        self._centres_xyz = centres_xyz
        self._balance_on = list(balance_on)
        shares = None if targets is None else np.asarray(targets, dtype=float) / np.sum(targets)
        self.target_shares_ = np.full(len(ids), 1.0 / len(ids)) if shares is None else shares
        if self._balance_on:
            values = accounts[self._balance_on].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            loads = np.stack([np.bincount(label_idx, weights=values[:, m], minlength=len(ids))
                              for m in range(values.shape[1])], axis=1)
            self.loads_ = pd.DataFrame(loads, index=pd.Index(ids, name=TERRITORY_ID), columns=self._balance_on)
        self._fit_distance = distance
        target_series = None if targets is None else pd.Series(self.target_shares_, index=ids)
        self.report_ = build_report(
            accounts, self.labels_, method=self._method, balance_on=self._balance_on, tolerance=tolerance,
            targets=target_series, contiguous=contiguous, current=current, lower_bound_share=lower_bound_share,
            n_iter=n_iter, converged=converged, seconds=seconds, extra_warnings=extra_warnings,
            territory_ids=ids)
        return self

    def predict(self, new_accounts, distance=None):
        """Place new accounts into the fitted territories without a refit.

        Each new account goes to the nearest territory (by the fitted
        assignment cost) that still has room: its fitted load plus the new
        accounts already placed stays within ``target * (1 + tolerance)`` on
        every balanced metric. When none of the nearest candidates has room,
        it goes to the candidate least loaded relative to its target. The
        room is measured with the estimator's own ``tolerance``; an estimator
        that balances nothing (k-means) places each at the nearest territory. Nothing of
        the fitted estimator changes: the same call gives the same answer.

        Parameters
        ----------
        new_accounts : pandas.DataFrame
            Latitude, longitude and the balanced metric columns.
        distance : array, optional
            Distances of the new accounts to the sites, when the fit used a
            precomputed matrix.

        Returns
        -------
        numpy.ndarray
            Territory id per new account row.
        """
        check_is_fitted(self, "labels_")
        balance_on = self._balance_on
        new_accounts = check_accounts(new_accounts, balance_on, what="new accounts", need_total=False)
        fit_distance = self._fit_distance
        if isinstance(fit_distance, np.ndarray) or (fit_distance is not None and not callable(fit_distance)):
            if distance is None:
                raise InputError("the fit used a precomputed distance matrix: pass distance= with the new "
                                 "accounts x sites distances to predict")
            fit_distance = distance
        label, _ = self._place(new_accounts, fit_distance, start=None)
        return self.territory_ids_[label]

    def _place(self, new_accounts, fit_distance, *, start=None):
        """Territory index per new account, and the loads after placing them (see :meth:`predict`).

        ``start`` (territories x metrics) are the loads to place onto: the
        fitted loads when None; zeros place the accounts as a population of
        their own (what :meth:`score` does), with capacity in proportion to
        their own totals.
        """
        balance_on = self._balance_on
        if fit_distance is None:
            fit_distance = self._fit_distance if callable(self._fit_distance) else None
        model = Distance(fit_distance, new_accounts[LATITUDE], new_accounts[LONGITUDE])
        cand, cost = model.candidates(self._centres_xyz)
        order = np.argsort(cost, axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, axis=1)
        tolerance = self.get_params().get("tolerance")
        if not balance_on or tolerance is None:  # nothing balanced (k-means): the nearest territory
            return cand[:, 0], None
        tolerance = check_tolerance(tolerance)
        values = new_accounts[balance_on].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        if start is None:
            loads = self.loads_.to_numpy(dtype=float).copy()
            totals = loads.sum(axis=0)
        else:
            loads = np.asarray(start, dtype=float).copy()
            totals = values.sum(axis=0)
        upper = np.outer(self.target_shares_, totals) * (1 + tolerance)
        label = np.full(len(values), -1)
        for rank in range(cand.shape[1]):
            todo = np.flatnonzero(label < 0)
            if todo.size == 0:
                break
            dest = cand[todo, rank]
            frame = pd.DataFrame(values[todo]).groupby(dest).cumsum().to_numpy()
            fits = np.all(loads[dest] + frame <= upper[dest] + 1e-12, axis=1)
            accepted = todo[fits]
            label[accepted] = dest[fits]
            for m in range(values.shape[1]):
                loads[:, m] += np.bincount(dest[fits], weights=values[accepted, m], minlength=len(loads))
        for i in np.flatnonzero(label < 0):  # no candidate has room: least loaded relative to target
            ratio = (loads[cand[i]] / np.maximum(upper[cand[i]], 1e-300)).max(axis=1)
            label[i] = cand[i, int(np.argmin(ratio))]
            loads[label[i]] += values[i]
        return label, loads

    def score(self, accounts, y=None) -> float:
        """How good the fitted territories are for ``accounts``: higher is better (0 is perfect).

        ``score = -(imbalance + compactness_km / SCORE_KM)``, where

        * ``imbalance`` is the largest deviation of a territory's load from its
          target, over the balanced metrics, as a share (0.05 = 5%; targets
          are equal shares, or the reps' capacity shares);
        * ``compactness_km`` is the workload-weighted (first balanced metric)
          mean great-circle distance of the accounts to their territory's
          centre, and :data:`SCORE_KM` = 100 km: 10 km more travel on average
          weighs as much as 10% more imbalance.

        The accounts the estimator was fitted on are scored with ``labels_``;
        other accounts (a cross-validation fold) are placed with the
        estimator's own rule for new accounts (:meth:`predict`), starting from
        empty territories. So :class:`~sklearn.model_selection.GridSearchCV`
        works without a custom scorer.

        Examples
        --------
        >>> grid = pd.DataFrame({"latitude": 40.0, "longitude": np.arange(8) * 0.1 - 100.0, "workload": 1.0})
        >>> from workbench.align import BalancedTerritories
        >>> model = BalancedTerritories(2, random_state=0).fit(grid)
        >>> round(model.score(grid), 3)
        -0.085
        """
        check_is_fitted(self, "labels_")
        balance_on = self._balance_on
        accounts = check_accounts(accounts, balance_on, what="accounts to score", need_total=False)
        if _fingerprint(accounts) == self._fit_fingerprint:
            index = {territory: i for i, territory in enumerate(self.territory_ids_)}
            label = np.array([index[t] for t in self.labels_])
        else:
            label = self._place(accounts, None, start=np.zeros((len(self.territory_ids_), len(balance_on))))[0]
        return score_labels(accounts, label, self._centres_xyz, self.target_shares_, balance_on)

    def fit_predict(self, accounts, y=None, **fit_params):
        """Fit and return ``labels_``."""
        return self.fit(accounts, **fit_params).labels_
