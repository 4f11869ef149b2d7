"""A long reference search for balanced greenfield compactness, written independently of the method it judges.

The method (``BalancedTerritories`` and its exact polish in
``workbench.align.polish``) is measured against the best plan this search
finds on the same accounts: exact balanced assignment alternated with
re-centring, from many perturbed starts, keeping the most compact plan
within the tolerance.

* **Exact assignment** (fixed centres): one linear program (scipy's HiGHS)
  over *every* account and its ``candidates`` nearest centres, minimising
  the workload-weighted great-circle km to the centres with every
  territory's workload within ``(1 -+ tolerance)`` of the mean. A vertex
  has at most about one split account per binding load row; each goes where
  most of it is, and cheapest single moves (workload x extra km) then bring
  any territory that rounding pushed out back within the tolerance (the
  program is solved again, tighter, when they cannot).
* **Re-centring**: workload-weighted spherical means (the centres the
  compactness figure measures from), then the exact assignment again, until
  a round gains less than ``1e-5``.
* **Restarts**: from the given start labels, from weighted k-means centres
  (several seeds) and from the best plan's centres moved at random by up to
  ``jitter_km``.

It is slow on purpose (minutes on 20,000 accounts); ``bench_align`` keeps
its result in ``polish_reference.json`` keyed by a fingerprint of the
accounts and recomputes it with ``--write-reference``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree

EARTH_KM = 6371.0088


def unit_xyz(lat, lon):
    lat, lon = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def centres_of(xyz, labels, weight, n_t, previous=None):
    """Workload-weighted spherical means; an empty territory keeps its previous centre."""
    sums = np.stack([np.bincount(labels, weights=xyz[:, a] * weight, minlength=n_t) for a in range(3)], axis=1)
    norm = np.linalg.norm(sums, axis=1, keepdims=True)
    out = sums / np.maximum(norm, 1e-300)
    if previous is not None:
        out[norm[:, 0] <= 1e-12] = previous[norm[:, 0] <= 1e-12]
    return out


def chord_km(chord):
    return 2 * EARTH_KM * np.arcsin(np.clip(chord / 2, 0, 1))


def compactness(xyz, labels, weight, n_t):
    """Workload-weighted mean great-circle km to the territory's weighted centre (the report's figure)."""
    centres = centres_of(xyz, labels, weight, n_t)
    km = chord_km(np.linalg.norm(xyz - centres[labels], axis=1))
    return float((weight * km).sum() / weight.sum())


def within(labels, weight, n_t, tolerance):
    load = np.bincount(labels, weights=weight, minlength=n_t)
    mean = weight.sum() / n_t
    return bool(np.all(np.abs(load / mean - 1) <= tolerance + 1e-12))


def exact_assignment(xyz, weight, centres, tolerance, candidates):
    """Most compact assignment within the tolerance to fixed centres (LP, then the split accounts placed); None
    if no plan within the tolerance is found."""
    n_t = len(centres)
    for k in (candidates, 3 * candidates):  # far-off centres (a k-means start) may need more than the nearest few
        labels = _exact_assignment(xyz, weight, centres, tolerance, min(k, n_t))
        if labels is not None:
            return labels
    return None


def _exact_assignment(xyz, weight, centres, tolerance, k):
    n, n_t = len(weight), len(centres)
    chord, cand = cKDTree(centres).query(xyz, k=k)
    cand = cand.reshape(n, k)
    km = chord_km(chord.reshape(n, k))
    cost = (weight[:, None] * km).ravel()
    rows = np.repeat(np.arange(n), k)
    terr = cand.ravel()
    mean = weight.sum() / n_t
    assign = sparse.csr_matrix((np.ones(n * k), (rows, np.arange(n * k))), shape=(n, n * k))
    load = sparse.csr_matrix((weight[rows], (terr, np.arange(n * k))), shape=(n_t, n * k))
    for tol in (tolerance * 0.995, tolerance * 0.95, tolerance * 0.85):
        lp = linprog(cost / mean, A_ub=sparse.vstack([load, -load]).tocsr() / mean,
                     b_ub=np.r_[np.full(n_t, 1 + tol), np.full(n_t, -(1 - tol))], A_eq=assign, b_eq=np.ones(n),
                     bounds=(0, 1), method="highs")
        if lp.status != 0:
            return None
        labels = cand[np.arange(n), lp.x.reshape(n, k).argmax(axis=1)]
        labels = place_split(labels, weight, cand, km, n_t, tolerance * 0.999)
        if labels is not None:
            return labels
    return None


def place_split(labels, weight, cand, km, n_t, tolerance, max_moves=2000):
    """Cheapest single moves (workload x extra km) to candidate territories until every load is within bounds."""
    mean = weight.sum() / n_t
    low, high = mean * (1 - tolerance), mean * (1 + tolerance)
    labels = labels.copy()
    own = km[np.arange(len(labels)), np.argmax(cand == labels[:, None], axis=1)]
    for _ in range(max_moves):
        load = np.bincount(labels, weights=weight, minlength=n_t)
        over, under = load > high + 1e-9, load < low - 1e-9
        if not (over.any() or under.any()):
            return labels
        # A move helps when it leaves an overloaded territory or fills an underloaded one, and breaks no bound.
        src, dst = labels[:, None], cand
        helps = (over[src] | under[dst]) & (dst != src)
        keeps = (load[dst] + weight[:, None] <= high + 1e-9) | over[dst]
        keeps &= (load[src] - weight[:, None] >= low - 1e-9) | under[src]
        extra = np.where(helps & keeps, weight[:, None] * (km - own[:, None]), np.inf)
        best = np.unravel_index(np.argmin(extra), extra.shape)
        if not np.isfinite(extra[best]):
            return None
        labels[best[0]] = cand[best]
        own[best[0]] = km[best]
    return None


def descend(xyz, weight, labels, tolerance, candidates, max_rounds=60, centres=None):
    """Exact assignment alternated with re-centring until a round gains < 1e-5; (score, labels)."""
    n_t = int(labels.max()) + 1 if centres is None else len(centres)
    if centres is None:
        centres = centres_of(xyz, labels, weight, n_t)
    best_labels, best = None, np.inf
    if within(labels, weight, n_t, tolerance):
        best_labels, best = labels, compactness(xyz, labels, weight, n_t)
    for _ in range(max_rounds):
        new = exact_assignment(xyz, weight, centres, tolerance, candidates)
        if new is None:
            break
        score = compactness(xyz, new, weight, n_t)
        gain = (best - score) / score if np.isfinite(best) else 1.0
        if score < best:
            best, best_labels = score, new
        if gain < 1e-5:
            break
        centres = centres_of(xyz, new, weight, n_t, previous=centres)
    return best, best_labels


def reference_search(lat, lon, weight, n_territories, start_labels, *, tolerance=0.05, candidates=8,
                     kmeans_starts=4, restarts=12, jitter_km=60.0, seed=0, log=None):
    """Most compact plan within ``tolerance`` found (labels 0..n-1 and its compactness km)."""
    from sklearn.cluster import KMeans

    xyz = unit_xyz(lat, lon)
    weight = np.asarray(weight, dtype=float)
    rng = np.random.default_rng(seed)
    best, best_labels = descend(xyz, weight, np.asarray(start_labels), tolerance, candidates)
    log = log or (lambda text: None)
    log(f"start: {best:.3f} km")
    for s in range(kmeans_starts):
        km = KMeans(n_clusters=n_territories, n_init=1, random_state=seed + s).fit(xyz, sample_weight=weight)
        centres = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
        score, labels = descend(xyz, weight, km.labels_, tolerance, candidates, centres=centres)
        log(f"k-means start {s}: {score:.3f} km")
        if score < best:
            best, best_labels = score, labels
    for r in range(restarts):
        centres = centres_of(xyz, best_labels, weight, n_territories)
        centres = centres + rng.uniform(-1, 1, size=centres.shape) * jitter_km / EARTH_KM
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        score, labels = descend(xyz, weight, best_labels, tolerance, candidates, centres=centres)
        log(f"perturbed restart {r}: {score:.3f} km")
        if score < best:
            best, best_labels = score, labels
    return best_labels, best


REFERENCE_FILE = __import__("pathlib").Path(__file__).with_name("polish_reference.json")
#: The reference search's settings for the stored case (recorded in the file beside its result).
SETTINGS = {"tolerance": 0.05, "candidates": 8, "kmeans_starts": 3, "restarts": 8, "jitter_km": 60.0}


def fingerprint(accounts) -> float:
    """A number that changes when the accounts (coordinates or workloads) change."""
    values = accounts[["latitude", "longitude", "workload"]].to_numpy(dtype=float)
    return round(float(values.sum() + (values[:, 2] * values[:, 0]).sum()), 4)


def stored_reference(accounts, n_territories, seed, start_labels, *, write=False, log=None):
    """The reference compactness (km) for these accounts: from ``polish_reference.json`` when its fingerprint
    matches (and ``write`` is False), else searched now and stored. Returns ``(km, seconds, searched_now)``."""
    import json
    import time

    key = f"accounts{len(accounts)}-territories{n_territories}-seed{seed}"
    stored = json.loads(REFERENCE_FILE.read_text()) if REFERENCE_FILE.exists() else {}
    entry = stored.get(key)
    if not write and entry and entry["fingerprint"] == fingerprint(accounts) and entry["settings"] == SETTINGS:
        return entry["compactness_km"], entry["seconds"], False
    start = time.perf_counter()
    ids, idx = np.unique(np.asarray(start_labels).astype(str), return_inverse=True)
    _, km = reference_search(accounts["latitude"], accounts["longitude"], accounts["workload"], n_territories, idx,
                             seed=seed, log=log, **SETTINGS)
    seconds = time.perf_counter() - start
    stored[key] = {"fingerprint": fingerprint(accounts), "settings": SETTINGS, "compactness_km": km,
                   "seconds": seconds}
    stored["command"] = "python -m benchmarks align --case polish --write-reference"
    tmp = REFERENCE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    tmp.replace(REFERENCE_FILE)
    return km, seconds, True
