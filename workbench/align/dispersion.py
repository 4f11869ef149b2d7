"""Dispersion of a partition: the objectives the contiguous search minimises, and their report.

Two measures of how spread out the parts (territories) are, on node
positions (blocks' centres) in kilometres:

- ``"weighted"``: sum over nodes of ``weight * distance`` to the part's
  weighted centre (the weighted mean position). With the workload as the
  weight, divided by the total weight, this is the workload-weighted mean
  distance to the centre, today's ``compactness_km``.
- ``"median"``: sum over nodes of the distance to the part's median node (the
  member minimising that sum): the dispersion of the districting and
  commercial territory design literature (a p-median objective).

The classes keep per-part sums so the search can price many moves at once;
:func:`dispersion` is the plain measure; :func:`dispersion_summary` is what a
contiguous fit reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from workbench.geo import EARTH_RADIUS_KM, chord_to_km
from workbench.schema import TERRITORY_ID, WORKLOAD

#: The dispersion objectives the contiguous search can minimise.
OBJECTIVES = ("weighted", "median")


class WeightedDispersion:
    """Sum of ``w_i * |x_i - centre|`` with centre the weighted mean of the part, kept per part.

    ``leave``/``join``/``swap`` give the exact cost of part ``p`` (its
    sorted ``members``) after losing, gaining or exchanging each of
    ``nodes``, centre re-computed, for all of them at once.
    """

    def __init__(self, coords, q, labels, k):
        self.x, self.q, self.k = coords, q, k
        self.s = np.zeros((k, coords.shape[1]))
        np.add.at(self.s, labels, coords * q[:, None])
        self.w = np.bincount(labels, weights=q, minlength=k)

    def part_cost(self, p, members):
        if members.size == 0:  # only while a re-split relabels a pair
            return 0.0
        centre = self.s[p] / self.w[p]
        return float(self.q[members] @ np.linalg.norm(self.x[members] - centre, axis=1))

    def _cost(self, centres, members, extra=0.0):
        return cdist(centres, self.x[members]) @ self.q[members] + extra

    def leave(self, nodes, p, members):
        qn = self.q[nodes]
        centres = (self.s[p] - qn[:, None] * self.x[nodes]) / (self.w[p] - qn)[:, None]
        own = np.linalg.norm(self.x[nodes] - centres, axis=1) * qn
        return self._cost(centres, members) - own

    def join(self, nodes, p, members):
        qn = self.q[nodes]
        centres = (self.s[p] + qn[:, None] * self.x[nodes]) / (self.w[p] + qn)[:, None]
        own = np.linalg.norm(self.x[nodes] - centres, axis=1) * qn
        return self._cost(centres, members) + own

    def swap(self, out, into, p, members):
        qo, qi = self.q[out], self.q[into]
        centres = (self.s[p] - qo[:, None] * self.x[out] + qi[:, None] * self.x[into]) / (self.w[p] - qo + qi)[:, None]
        return (self._cost(centres, members) - qo * np.linalg.norm(self.x[out] - centres, axis=1)
                + qi * np.linalg.norm(self.x[into] - centres, axis=1))

    def centres(self, parts_members):
        """Centre position of every part (the weighted mean)."""
        return self.s / np.maximum(self.w, 1e-300)[:, None]

    def move(self, u, a, b):
        self.s[a] -= self.q[u] * self.x[u]
        self.s[b] += self.q[u] * self.x[u]
        self.w[a] -= self.q[u]
        self.w[b] += self.q[u]

    def split_costs(self, nodes, masks):
        """Cost of the side ``masks`` (cuts x nodes, bool) and of the rest, for every cut at once."""
        q, x = self.q[nodes], self.x[nodes]
        costs = []
        for side in (masks, ~masks):
            m = side.astype(float) * q
            centres = (m @ x) / np.maximum(m.sum(axis=1), 1e-300)[:, None]
            costs.append((cdist(centres, x) * m).sum(axis=1))
        return costs[0], costs[1]


class MedianDispersion:
    """Sum of ``w_i * d(i, median)`` with the median the member minimising that sum, kept per part.

    Holds the column sums ``cols[p, j] = sum over i in p of w_i d(i, j)``
    for every node ``j``, so a part's cost after any change is one minimum
    over its members (the median re-chosen exactly).
    """

    def __init__(self, coords, q, labels, k):
        self.x, self.q, self.k = coords, q, k
        n = len(coords)
        self.cols = np.zeros((k, n))
        for start in range(0, n, 512):  # column sums S[p, j] = sum_{i in p} q_i d(i, j), in chunks
            rows = np.arange(start, min(start + 512, n))
            block = cdist(coords[rows], coords) * q[rows, None]
            np.add.at(self.cols, labels[rows], block)

    def part_cost(self, p, members):
        return float(self.cols[p, members].min()) if members.size else 0.0

    def leave(self, nodes, p, members):
        vals = self.cols[p, members][None, :] - self.q[nodes][:, None] * cdist(self.x[nodes], self.x[members])
        vals[np.arange(len(nodes)), np.searchsorted(members, nodes)] = np.inf
        return vals.min(axis=1)

    def join(self, nodes, p, members):
        vals = self.cols[p, members][None, :] + self.q[nodes][:, None] * cdist(self.x[nodes], self.x[members])
        return np.minimum(vals.min(axis=1), self.cols[p, nodes])

    def swap(self, out, into, p, members):
        vals = (self.cols[p, members][None, :] - self.q[out][:, None] * cdist(self.x[out], self.x[members])
                + self.q[into][:, None] * cdist(self.x[into], self.x[members]))
        vals[np.arange(len(out)), np.searchsorted(members, out)] = np.inf
        as_centre = self.cols[p, into] - self.q[out] * np.linalg.norm(self.x[out] - self.x[into], axis=1)
        return np.minimum(vals.min(axis=1), as_centre)

    def centres(self, parts_members):
        """Centre position of every part (its median member)."""
        return np.array([self.x[m[np.argmin(self.cols[p, m])]] for p, m in enumerate(parts_members)])

    def move(self, u, a, b):
        row = self.q[u] * np.linalg.norm(self.x - self.x[u], axis=1)
        self.cols[a] -= row
        self.cols[b] += row

    def split_costs(self, nodes, masks):
        d = cdist(self.x[nodes], self.x[nodes]) * self.q[nodes][:, None]
        m = masks.astype(float)
        side = m @ d
        rest = d.sum(axis=0)[None, :] - side
        return (np.where(masks, side, np.inf).min(axis=1), np.where(masks, np.inf, rest).min(axis=1))


def dispersion(labels, coords, objective="weighted", node_weight=None) -> float:
    """The objective of :func:`improve_partition` for a plan (no penalties): a plain measure.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [10.0, 0.0]])
    >>> dispersion(np.array([0, 0, 0, 1]), xy, "median"), dispersion(np.array([0, 0, 0, 1]), xy, "weighted")
    (2.0, 2.0)
    """
    labels = np.asarray(labels, dtype=np.int64)
    coords = np.asarray(coords, dtype=float).reshape(len(labels), -1)
    q = np.ones(len(labels)) if node_weight is None else np.asarray(node_weight, dtype=float)
    total = 0.0
    for p in np.unique(labels):
        members = np.flatnonzero(labels == p)
        x, w = coords[members], q[members]
        if objective == "median":
            total += float((cdist(x, x) * w[:, None]).sum(axis=0).min())
        else:
            centre = (w @ x) / w.sum() if w.sum() > 0 else x.mean(axis=0)
            total += float(w @ np.linalg.norm(x - centre, axis=1))
    return total


def objective_points(bg, acc_block, acc_xyz, accounts, objective):
    """Node weight and position (km, 3-D) of every block for ``objective``.

    ``"weighted"``: the block's workload (``workload`` column, else one per
    account) at the workload-weighted centre of its accounts (blocks without
    accounts at their centroid, weight 0). ``"median"``: weight 1 at the
    block centroid.
    """
    n = len(bg.ids)
    if objective == "median":
        return np.ones(n), bg.xyz * EARTH_RADIUS_KM
    if WORKLOAD in accounts.columns:
        w = pd.to_numeric(accounts[WORKLOAD], errors="coerce").fillna(0).clip(lower=0).to_numpy(dtype=float)
    else:
        w = np.ones(len(accounts))
    weight = np.bincount(acc_block, weights=w, minlength=n)
    sums = np.zeros((n, 3))
    np.add.at(sums, acc_block, acc_xyz * w[:, None])
    norm = np.linalg.norm(sums, axis=1, keepdims=True)
    xyz = np.where(norm > 1e-12, sums / np.maximum(norm, 1e-300), bg.xyz)
    return weight, xyz * EARTH_RADIUS_KM


def median_dispersion_km(xyz, labels, k):
    """Per part: the sum of great-circle km from its nodes to its median node (the one minimising it).

    Examples
    --------
    >>> from workbench.geo import to_unit_xyz
    >>> xyz = to_unit_xyz([0.0, 0.0, 0.0, 10.0], [0.0, 1.0, 2.0, 0.0])
    >>> median_dispersion_km(xyz, np.array([0, 0, 0, 1]), 2).round(0).tolist()
    [222.0, 0.0]
    """
    out = np.zeros(k)
    for p in range(k):
        members = np.flatnonzero(labels == p)
        if members.size:
            out[p] = chord_to_km(cdist(xyz[members], xyz[members])).sum(axis=0).min()
    return out


def dispersion_summary(bg, block_labels, ids, blocks, objective, search, compactness_km):
    """``report_.dispersion`` of a contiguous fit and its per-territory columns.

    Returns ``(summary, table)``: the summary dict holds the objective, both
    measures (``weighted_mean_km``, the accounts' workload-weighted mean
    distance to their centre; ``median_sum_km``, the blocks' sum of
    distances to their territory's median block), Polsby-Popper mean and
    minimum where the blocks have polygons (else None), and what the
    improvement phase did (``start``/``final`` objective, ``gain``,
    ``seconds``, ``stopped``; None when it did not run). The table (index
    ``territory_id``) holds ``median_sum_km`` and ``polsby_popper``.
    """
    from workbench import metrics

    k = len(ids)
    median = median_dispersion_km(bg.xyz, block_labels, k)
    table = pd.DataFrame({"median_sum_km": median}, index=pd.Index(list(ids), name=TERRITORY_ID))
    pp_mean = pp_min = None
    table["polsby_popper"] = np.nan
    if blocks is not None:
        frame = pd.DataFrame({"_block": bg.ids})
        territory = np.asarray(ids, dtype=object)[block_labels]
        scores = metrics.polsby_popper(frame, territory, blocks.assign(_block=bg.ids), "_block")
        table["polsby_popper"] = scores.reindex(table.index).to_numpy()
        pp_mean, pp_min = float(np.nanmean(table["polsby_popper"])), float(np.nanmin(table["polsby_popper"]))
    summary = {
        "objective": objective,
        "weighted_mean_km": float(compactness_km),
        "median_sum_km": float(median.sum()),
        "polsby_popper_mean": pp_mean,
        "polsby_popper_min": pp_min,
        "search": None if search is None else {
            "start": float(search.start_dispersion), "final": float(search.dispersion), "gain": float(search.gain),
            "moves": int(search.n_moves), "perturbations": int(search.n_kicks), "seconds": float(search.seconds),
            "stopped": search.stopped},
    }
    return summary, table
