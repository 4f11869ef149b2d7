"""Flow balancing (workbench.align._flow): load passed along a chain of parts stuck on a plateau."""

import numpy as np

from workbench.align._flow import band_flow, flow_step
from workbench.align._graph import adjacency_csr, is_contiguous
from workbench.align._partition import balance, feasible_deviation
from workbench.align._search_state import leaves_connected

ROWS, PARTS = 3, 6
#: Blocks per part: all blocks weigh the same, so neighbouring parts differ by exactly one block's weight.
COUNTS = np.array([43, 42, 41, 40, 39, 38])


def plateau():
    """Six parts in a row on a 81 x 3 grid, of 43, 42, ..., 38 blocks of equal weight: 6.2% ... -6.2%.

    Neighbouring parts differ by exactly one block's weight, so no single move lowers the summed squared
    deviation (a move of weight x between loads la > lb gains 2x(la - lb) - 2x^2 = 0) and exchanging
    two equal blocks changes nothing: single moves and swaps are stuck at 6.2% from the mean.
    """
    n = int(COUNTS.sum())
    width = n // ROWS
    xy = np.array([(x, y) for x in range(width) for y in range(ROWS)], dtype=float)
    index = {tuple(p): i for i, p in enumerate(xy.astype(int).tolist())}
    edges = np.array([(index[(x, y)], index[(x + dx, y + dy)]) for x, y in index
                      for dx, dy in ((1, 0), (0, 1)) if (x + dx, y + dy) in index])
    labels = np.repeat(np.arange(PARTS), COUNTS)
    weights = np.full((n, 1), PARTS / n)
    return xy, edges, labels, weights


def loads_of(labels, weights):
    loads = np.zeros((PARTS, weights.shape[1]))
    np.add.at(loads, labels, weights)
    return loads


def test_band_flow_passes_what_every_cut_of_the_chain_requires_and_no_more():
    _, edges, labels, weights = plateau()
    level = loads_of(labels, weights)[:, 0]
    pairs, flow = band_flow(level[:, None], labels, edges, np.zeros(PARTS, bool), 0.97, 1.03)
    assert pairs.tolist() == [[j, j + 1] for j in range(PARTS - 1)]
    # Across the cut after part j passes what parts 0..j cannot hold within 1.03 each, or what the parts
    # beyond lack below 0.97 each, whichever is more (and the same the other way round).
    left = np.cumsum(level)[:-1]
    right = level.sum() - left
    size = np.arange(1, PARTS)
    rest = PARTS - size
    forward = np.maximum.reduce([left - 1.03 * size, 0.97 * rest - right, np.zeros(PARTS - 1)])
    backward = np.maximum.reduce([0.97 * size - left, right - 1.03 * rest, np.zeros(PARTS - 1)])
    need = forward - backward
    assert np.allclose(flow, need)
    outflow = np.zeros(PARTS)
    np.add.at(outflow, pairs[:, 0], flow)
    np.add.at(outflow, pairs[:, 1], -flow)
    assert ((level - outflow >= 0.97 - 1e-9) & (level - outflow <= 1.03 + 1e-9)).all()


def test_flow_step_brings_a_plateau_within_tolerance_and_keeps_every_part_connected():
    xy, edges, labels, weights = plateau()
    labels = labels.copy()
    loads = loads_of(labels, weights)
    csr = adjacency_csr(len(labels), edges)
    adj = [row.tolist() for row in np.split(csr.indices, csr.indptr[1:-1])]
    giant, frozen = np.zeros(len(labels), bool), np.zeros(PARTS, bool)

    def move(node, donor, receiver):
        labels[node] = receiver
        loads[donor] -= weights[node]
        loads[receiver] += weights[node]

    def deviation():
        return feasible_deviation(loads, labels, weights, giant, frozen)

    assert deviation() > 0.06
    kept = flow_step(labels, loads, weights, edges, adj, np.zeros(len(labels), bool), frozen, move,
                     lambda u, p: leaves_connected(adj, labels, u, p), deviation, 0.05)
    assert kept
    assert deviation() <= 0.05
    assert is_contiguous(len(labels), edges, labels)
    assert np.allclose(loads, loads_of(labels, weights))  # the caller's loads followed every move


def test_balance_leaves_the_plateau_that_single_moves_cannot(monkeypatch):
    # Without recombinations (as on large graphs, where the flow goes first): stuck without the flow step.
    import workbench.align._partition as part

    xy, edges, labels, weights = plateau()
    xyz = np.column_stack([np.ones(len(xy)), xy * 1e-3])
    monkeypatch.setattr(part, "RECOMBINATIONS_PER_PART", 0)

    def run():
        return balance(labels, edges, weights, xyz, 0.05, n_parts=PARTS, fixed=np.zeros(len(xy), bool),
                       frozen_parts=(), max_iter=200, polish=False)

    monkeypatch.setattr(part, "FLOW_STEPS", 0)
    assert run()[2] > 0.06  # stuck on the plateau
    monkeypatch.setattr(part, "FLOW_STEPS", 20)
    out, _, deviation = run()
    assert deviation <= 0.05 + 1e-12
    assert is_contiguous(len(out), edges, out)
    assert np.abs(loads_of(out, weights) - 1.0).max() <= 0.05 + 1e-12
