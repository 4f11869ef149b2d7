"""k-means territories on the globe, and helpers to choose the number of territories."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils import check_random_state

from workbench.align.base import (
    Distance, TerritoryEstimator, check_accounts, check_n_territories, territory_ids, unit_centres,
)
from workbench.errors import InputError
from workbench.geo import chord_to_km
from workbench.schema import LATITUDE, LONGITUDE, WORKLOAD


class KMeansTerritories(TerritoryEstimator):
    """Plain (optionally weighted) k-means on the accounts' unit-sphere coordinates.

    Fast and compact, but not balanced: heavy regions end up with heavy
    territories (see :class:`~workbench.align.BalancedTerritories`).
    Co-located accounts are merged before clustering; each account is then
    assigned to its nearest centre.

    Parameters
    ----------
    n_territories : int
    weight_col : str, optional
        Weight of each account (e.g. "workload"); None counts every account once.
    n_init : int, default 1
    max_iter : int, default 300
    random_state : int, optional
    progress : bool, default False
        Accepted for a uniform interface; scikit-learn's KMeans shows no bar.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [40.0, 40.01, 45.0, 45.01], "longitude": [-100.0, -100.0, -90.0, -90.0]})
    >>> labels = KMeansTerritories(2, random_state=0).fit(accounts).labels_
    >>> labels[0] == labels[1] != labels[2] == labels[3]
    True
    """

    _method = "kmeans"

    def __init__(self, n_territories=None, *, weight_col=None, n_init=1, max_iter=300, random_state=None,
                 progress=False):
        self.n_territories = n_territories
        self.weight_col = weight_col
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.progress = progress

    def fit(self, accounts, y=None):
        """Cluster ``accounts`` (latitude, longitude[, weight_col]); return self."""
        start = time.perf_counter()
        accounts = check_accounts(accounts, [self.weight_col] if self.weight_col else [])
        n_t = check_n_territories(self.n_territories, len(accounts))
        dist = Distance(None, accounts[LATITUDE], accounts[LONGITUDE])
        weight = (np.ones(len(accounts)) if self.weight_col is None
                  else pd.to_numeric(accounts[self.weight_col]).to_numpy(dtype=float))
        grid = np.round(dist.xyz / 1e-7).astype(np.int64)
        _, first, inverse = np.unique(grid, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        points = dist.xyz[first]
        point_w = np.bincount(inverse, weights=weight, minlength=len(first))
        if len(points) < n_t:
            raise InputError(f"n_territories={n_t} but the accounts sit at only {len(points)} distinct places; "
                             "ask for fewer territories or use BalancedTerritories, which can split a place")
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        model = KMeans(n_clusters=n_t, n_init=self.n_init, max_iter=self.max_iter, random_state=seed)
        model.fit(points, sample_weight=np.maximum(point_w, 1e-12))
        centres = model.cluster_centers_ / np.linalg.norm(model.cluster_centers_, axis=1, keepdims=True)
        cand, _ = dist.candidates(centres, 1)
        labels = cand[:, 0]
        centres = unit_centres(dist.xyz, labels, weight, n_t, previous=centres)
        shown = [WORKLOAD] if WORKLOAD in accounts.columns and _numeric(accounts[WORKLOAD]) else []
        self.inertia_km2_ = float(chord_to_km(np.sqrt(model.inertia_ / max(point_w.sum(), 1e-12))) ** 2)
        return self._set_results(accounts, labels, territory_ids(n_t), centres, balance_on=shown, tolerance=None,
                                 n_iter=model.n_iter_, converged=model.n_iter_ < self.max_iter,
                                 seconds=time.perf_counter() - start)


def _numeric(series) -> bool:
    values = pd.to_numeric(series, errors="coerce")
    return bool(values.notna().all() and (values >= 0).all() and values.sum() > 0)


def choose_n_territories(accounts, capacity_hours, workload_col=WORKLOAD) -> int:
    """Number of territories a workload needs: ``ceil(total workload / capacity per rep)``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"workload": [600.0, 900.0, 1700.0]})
    >>> choose_n_territories(accounts, capacity_hours=1600)
    2
    """
    if isinstance(capacity_hours, bool) or not isinstance(capacity_hours, (int, float, np.number)) or capacity_hours <= 0:
        raise InputError(f"capacity_hours must be a positive number of hours per rep, got {capacity_hours!r}")
    if workload_col not in accounts.columns:
        raise InputError(f"accounts have no column {workload_col!r} (columns: {list(accounts.columns)}); "
                         "pass workload_col= naming the workload column")
    total = float(pd.to_numeric(accounts[workload_col], errors="coerce").sum())
    return max(1, math.ceil(total / capacity_hours - 1e-9))


def elbow_table(accounts, ks, random_state=None, *, weight_col=WORKLOAD, sample_size=5000) -> pd.DataFrame:
    """k-means quality for several numbers of territories, to pick one by eye.

    Columns: ``n_territories``, ``inertia_km`` (root weighted mean squared
    distance to the centre, km), ``silhouette`` (on a random sample of at
    most ``sample_size`` accounts) and ``max_workload_deviation`` (how
    unbalanced plain k-means leaves the workload).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> accounts = pd.DataFrame({"latitude": np.r_[rng.normal(40, .1, 30), rng.normal(45, .1, 30)],
    ...                          "longitude": np.r_[rng.normal(-100, .1, 30), rng.normal(-90, .1, 30)],
    ...                          "workload": 1.0})
    >>> table = elbow_table(accounts, [2, 3], random_state=0)
    >>> table["n_territories"].tolist(), bool(table["silhouette"].iloc[0] > 0.9)
    ([2, 3], True)
    """
    weight = weight_col if weight_col in accounts.columns else None
    rng = check_random_state(random_state)
    sample = rng.choice(len(accounts), size=min(sample_size, len(accounts)), replace=False)
    rows = []
    for k in ks:
        model = KMeansTerritories(k, weight_col=weight, random_state=random_state).fit(accounts)
        xyz = Distance(None, accounts[LATITUDE], accounts[LONGITUDE]).xyz
        labels = model.labels_
        sample_labels = labels[sample]
        silhouette = (float(silhouette_score(xyz[sample], sample_labels))
                      if 1 < len(set(sample_labels)) < len(sample) else float("nan"))
        deviation = model.report_.max_deviation.get(WORKLOAD, float("nan"))
        rows.append({"n_territories": int(k), "inertia_km": model.inertia_km2_ ** 0.5,
                     "silhouette": silhouette, "max_workload_deviation": deviation})
    return pd.DataFrame(rows)
