"""Graphs on node positions ``0..n-1``: adjacency as CSR, connected pieces of each part, contiguity."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def adjacency_csr(n: int, edges: np.ndarray) -> sparse.csr_matrix:
    """Symmetric CSR adjacency of ``n`` nodes from ``(n_edges, 2)`` pairs (each pair once, either direction).

    Examples
    --------
    >>> adjacency_csr(3, np.array([[0, 1], [1, 2]])).toarray().tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    data = np.ones(len(edges) * 2, dtype=np.int8)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


def fragments(n: int, edges: np.ndarray, labels: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected pieces of every part: ``(count, piece id per node)``.

    Two nodes are in the same piece when a path of same-part edges joins them.

    Examples
    --------
    >>> fragments(4, np.array([[0, 1], [1, 2], [2, 3]]), np.array([0, 1, 0, 0]))[0]
    3
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    return connected_components(adjacency_csr(n, edges[same]), directed=False)


def is_contiguous(n: int, edges: np.ndarray, labels: np.ndarray) -> bool:
    """True when every part is one connected piece.

    Examples
    --------
    >>> edges = np.array([[0, 1], [1, 2], [2, 3]])
    >>> is_contiguous(4, edges, np.array([0, 0, 1, 1])), is_contiguous(4, edges, np.array([0, 1, 0, 1]))
    (True, False)
    """
    count, _ = fragments(n, edges, labels)
    return count == len(np.unique(labels))
