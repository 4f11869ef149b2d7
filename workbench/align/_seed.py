"""A first contiguous partition: recursive bisection along the principal axis, then connectivity repair.

Steps 1 and 2 of :func:`workbench.align._partition.partition`: the seed grows one half through
the graph along the principal axis of the coordinates until it holds its share of the weight
(a connected sweep line), so parts start balanced and compact; the repair gives every part's
orphan pieces (all but its heaviest) to the lightest adjacent part.
"""

from __future__ import annotations

import heapq

import numpy as np

from workbench.align._graph import fragments


def _principal_order(xyz: np.ndarray, weight: np.ndarray, angle: float = 0.0) -> np.ndarray:
    """Projection of the points on their (weighted) principal axis, turned by ``angle`` radians."""
    share = weight / weight.sum() if weight.sum() > 0 else np.full(len(weight), 1.0 / len(weight))
    share = 0.5 * share + 0.5 / len(weight)  # a big city must not fix the axis alone
    centred = xyz - share @ xyz
    _, _, vt = np.linalg.svd(centred * np.sqrt(share)[:, None], full_matrices=False)
    axis = vt[0] if len(vt) < 2 else np.cos(angle) * vt[0] + np.sin(angle) * vt[1]
    # Fix the sign so the sweep starts from the west / south end: deterministic output.
    if axis[np.argmax(np.abs(axis))] < 0:
        axis = -axis
    return centred @ axis


def _grow_half(subset, csr, projection, weight, target, min_first, max_first):
    """Grow a connected set from the lowest projection, by projection order, up to ``target`` weight."""
    inside = np.zeros(csr.shape[0], dtype=bool)
    inside[subset] = True
    position = {int(node): i for i, node in enumerate(subset)}
    taken = np.zeros(len(subset), dtype=bool)
    order = np.argsort(projection, kind="stable")
    next_start = 0
    heap: list = []
    total = 0.0
    count = 0
    indptr, indices = csr.indptr, csr.indices
    while count < max_first:
        if not heap:
            while taken[order[next_start]]:
                next_start += 1
            start = order[next_start]
            heap.append((projection[start], int(start)))
        _, local = heapq.heappop(heap)
        if taken[local]:
            continue
        w = weight[local]
        if count >= min_first and total + w > target and total + w - target > target - total:
            break
        taken[local] = True
        total += w
        count += 1
        node = subset[local]
        for neighbour in indices[indptr[node]:indptr[node + 1]]:
            if inside[neighbour]:
                j = position[int(neighbour)]
                if not taken[j]:
                    heapq.heappush(heap, (projection[j], j))
        if total >= target and count >= min_first:
            break
    return taken


def seed_bisection(n_parts: int, csr, weight: np.ndarray, xyz: np.ndarray, rng=None) -> np.ndarray:
    """Recursive graph-grown bisection into ``n_parts`` parts of about equal ``weight``.

    With ``rng`` (a numpy Generator) each cut is turned by a random angle of
    up to 40 degrees and odd counts split either way: a different start for
    restarts.
    """
    labels = np.zeros(csr.shape[0], dtype=np.int64)
    stack = [(np.arange(csr.shape[0]), n_parts, 0)]
    while stack:
        subset, k, first_label = stack.pop()
        if k == 1:
            labels[subset] = first_label
            continue
        k1 = k // 2
        angle = 0.0
        if rng is not None:
            k1 = int(k1 + (k % 2) * rng.integers(0, 2))
            angle = float(rng.uniform(-0.7, 0.7))
        w = weight[subset]
        projection = _principal_order(xyz[subset], w, angle)
        taken = _grow_half(subset, csr, projection, w, w.sum() * k1 / k, k1, len(subset) - (k - k1))
        stack.append((subset[~taken], k - k1, first_label + k1))
        stack.append((subset[taken], k1, first_label))
    return labels


def repair_connectivity(n, edges, labels, weights, fixed, frozen_parts, n_parts) -> np.ndarray:
    """Give every part's orphan pieces (all but its heaviest) to the lightest adjacent part."""
    labels = labels.copy()
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    k = n_parts
    size = weights.sum(axis=1) + 1e-9
    for _ in range(n + 1):
        count, piece = fragments(n, edges, labels)
        if count == len(np.unique(labels)):
            break
        piece_weight = np.bincount(piece, weights=size, minlength=count)
        piece_label = np.zeros(count, dtype=np.int64)
        piece_label[piece] = labels
        piece_fixed = np.bincount(piece, weights=fixed.astype(float), minlength=count) > 0
        # The heaviest piece of each part (a piece with fixed nodes wins) is its main piece.
        rank = piece_weight + piece_fixed * (piece_weight.sum() + 1.0)
        order = np.lexsort((-rank, piece_label))
        first = np.ones(count, dtype=bool)
        first[1:] = piece_label[order][1:] != piece_label[order][:-1]
        main = np.zeros(count, dtype=bool)
        main[order[first]] = True
        orphan = ~main & ~piece_fixed & ~np.isin(piece_label, list(frozen_parts))
        if not orphan.any():
            break
        loads = np.bincount(labels, weights=size, minlength=k)
        changed = False
        # Smallest orphans first; each joins the lightest part it touches through a main piece.
        for p in np.flatnonzero(orphan)[np.argsort(piece_weight[orphan], kind="stable")]:
            out = (piece[src] == p) & (labels[dst] != piece_label[p]) & main[piece[dst]]
            out &= ~np.isin(labels[dst], list(frozen_parts))
            if not out.any():
                continue
            receivers = np.unique(labels[dst[out]])
            target = receivers[np.argmin(loads[receivers])]
            members = piece == p
            loads[piece_label[p]] -= size[members].sum()
            loads[target] += size[members].sum()
            labels[members] = target
            changed = True
        if not changed:
            break
    return labels
