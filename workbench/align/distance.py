"""Assignment cost of accounts to territory centres or fixed sites: the globe, a travel-time function or a matrix.

See :mod:`workbench.align.base` for how the estimators use it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from workbench.errors import InputError
from workbench.geo import to_unit_xyz, xyz_to_latlon

#: Candidate territories looked at per account (nearest centres on the globe).
N_CANDIDATES = 12
#: Nearest-centre queries of at least this many accounts use every core.
_THREADED_QUERIES = 10_000


class Distance:
    """Assignment cost of accounts to territory centres or fixed sites.

    Parameters
    ----------
    distance : None, callable or array
        None: squared chord on the unit sphere (great-circle order).
        Callable ``f(lat1, lon1, lat2, lon2) -> array`` (vectorised,
        broadcasting; e.g. drive time): cost is its square. Array of shape
        (n_accounts, n_sites): precomputed distances to fixed sites (only
        where centres are fixed, e.g. rep homes); cost is its square.
    lat, lon : array
        Account coordinates.
    """

    def __init__(self, distance, lat, lon):
        self.lat = np.asarray(lat, dtype=float)
        self.lon = np.asarray(lon, dtype=float)
        self.xyz = to_unit_xyz(self.lat, self.lon)
        self._axes = None  # the coordinates axis by axis (contiguous), for :meth:`cost`
        self.matrix = None
        self.func = None
        if distance is None:
            self.kind = "chord"
        elif callable(distance):
            self.kind = "callable"
            self.func = distance
        else:
            matrix = np.asarray(distance, dtype=float)
            if matrix.ndim != 2 or matrix.shape[0] != len(self.lat):
                raise InputError(f"distance matrix must have one row per account ({len(self.lat)}), "
                                 f"got shape {matrix.shape}; pass accounts x sites distances")
            if not np.isfinite(matrix).all() or (matrix < 0).any():
                raise InputError("distance matrix has missing, infinite or negative entries; "
                                 "use a large finite number for unreachable sites")
            self.kind = "matrix"
            self.matrix = matrix

    def candidates(self, centres_xyz: np.ndarray, k: int = N_CANDIDATES, rows=None, allowed=None):
        """Nearest ``k`` territories per account and the assignment cost to each: (cand, cost).

        ``allowed`` (bool per territory) leaves out territories no account may join.
        """
        rows = np.arange(len(self.lat)) if rows is None else np.asarray(rows)
        choices = np.arange(len(centres_xyz)) if allowed is None else np.flatnonzero(allowed)
        if choices.size == 0:
            raise InputError("every territory is locked: there is nowhere to place the accounts")
        k = int(min(k, choices.size))
        if self.kind == "matrix":
            sub = self.matrix[rows][:, choices]
            if k < sub.shape[1]:
                cand = np.argpartition(sub, k - 1, axis=1)[:, :k]
            else:
                cand = np.broadcast_to(np.arange(sub.shape[1]), sub.shape).copy()
        else:
            # Threads pay off from about 10,000 queries (100,000 accounts x 12 of 100 centres: 90 -> 52 ms on two
            # cores; 20,000 cells: 17 -> 10 ms); on small ones their start-up costs more than they save.
            workers = -1 if len(rows) >= _THREADED_QUERIES else 1
            chord, cand = cKDTree(centres_xyz[choices]).query(self.xyz[rows], k=k, workers=workers)
            cand = choices[cand.reshape(len(rows), k)].astype(np.int64)
            if self.kind == "chord":  # the tree already measured the chords
                return cand, chord.reshape(len(rows), k) ** 2
            return cand, self.cost(rows[:, None], cand, centres_xyz)
        cand = choices[cand].astype(np.int64)
        return cand, self.cost(rows[:, None], cand, centres_xyz)

    def cost(self, rows, cols, centres_xyz: np.ndarray) -> np.ndarray:
        """Cost of account ``rows`` to territories ``cols`` (broadcasting index arrays)."""
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        if self.kind == "chord":
            # Axis by axis: four times faster than one (n, k, 3) difference and an einsum (100,000 x 12).
            if self._axes is None:
                self._axes = [np.ascontiguousarray(self.xyz[:, a]) for a in range(3)]
            total = None
            for a in range(3):
                diff = self._axes[a][rows] - centres_xyz[:, a][cols]
                total = diff * diff if total is None else total + diff * diff
            return total
        if self.kind == "matrix":
            if self.matrix.shape[1] != len(centres_xyz):
                raise InputError(f"distance matrix has {self.matrix.shape[1]} columns but there are "
                                 f"{len(centres_xyz)} sites; give one column per site in order")
            return self.matrix[rows, cols] ** 2
        clat, clon = xyz_to_latlon(centres_xyz)
        rows_b, cols_b = np.broadcast_arrays(rows, cols)
        value = np.asarray(self.func(self.lat[rows_b], self.lon[rows_b], clat[cols_b], clon[cols_b]), dtype=float)
        if value.shape != rows_b.shape or not np.isfinite(value).all() or (value < 0).any():
            raise InputError(f"distance function returned shape {value.shape} (expected {rows_b.shape}) or "
                             "non-finite/negative values; it must be vectorised and broadcast over arrays")
        return value ** 2
