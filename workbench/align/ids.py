"""Keep territory ids stable: name a new alignment's territories after the current ones.

A fresh alignment (k-means, balanced) numbers its territories from scratch,
so every account would look moved against the current alignment. Matching
each new territory to the current territory it shares the most workload with
(an optimal one-to-one assignment) keeps the names people know, and makes
"moved" mean moved.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def match_territory_ids(labels, current, weights=None) -> np.ndarray:
    """Rename new territories after the current territories they overlap most.

    Parameters
    ----------
    labels : array-like
        New territory id of each account.
    current : array-like
        Current territory id of each account (missing values allowed).
    weights : array-like, optional
        Weight of each account in the overlap (e.g. workload); default 1 each.

    Returns
    -------
    numpy.ndarray of str
        The new labels, renamed. The matching maximises the total weight that
        stays under the same id; new territories left without a current match
        (there are more new than current) get fresh ids continuing the
        current numbering (``T41`` after ``T40``), never reusing a current id.

    Examples
    --------
    >>> match_territory_ids(["a", "a", "b", "c"], ["T2", "T2", "T1", "T1"], [1, 1, 5, 1]).tolist()
    ['T2', 'T2', 'T1', 'T3']
    """
    labels = np.asarray(labels).astype(str)
    current = pd.Series(np.asarray(current, dtype=object))
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=float)
    if not (len(labels) == len(current) == len(w)):
        raise ValueError(f"labels ({len(labels)}), current ({len(current)}) and weights ({len(w)}) differ in length")
    known = current.notna().to_numpy()
    overlap = pd.crosstab(labels[known], current[known].astype(str).to_numpy(), values=w[known] + 1e-9,
                          aggfunc="sum").fillna(0.0)
    rows, cols = linear_sum_assignment(overlap.to_numpy(), maximize=True)
    mapping = {overlap.index[r]: overlap.columns[c] for r, c in zip(rows, cols)}
    taken = set(current[known].astype(str))
    fresh = _fresh_ids(taken)
    for new in sorted(set(labels) - set(mapping)):
        mapping[new] = next(fresh)
    return np.array([mapping[x] for x in labels], dtype=object).astype(str)


def _fresh_ids(taken: set):
    """Ids continuing the current numbering (same prefix and width), skipping taken ones."""
    parsed = [_NUMBERED.match(t) for t in taken]
    prefixes = {m.group(1) for m in parsed if m}
    if parsed and all(parsed) and len(prefixes) == 1:
        prefix = prefixes.pop()
        width = max(len(m.group(2)) for m in parsed)
        number = max(int(m.group(2)) for m in parsed)
    else:
        prefix, width, number = "T", 3, 0
    while True:
        number += 1
        candidate = f"{prefix}{number:0{width}d}"
        if candidate not in taken:
            yield candidate
