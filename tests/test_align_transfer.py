"""The compact-realignment program (workbench.align._transfer): column generation and the integer placement."""

import itertools

import numpy as np
import pytest

from workbench.align import _transfer


def _instance(seed, n=24, n_t=3):
    """Random accounts on a line split into ``n_t`` runs, the first territory heavy; distances to fixed centres."""
    rng = np.random.default_rng(seed)
    position = np.sort(rng.uniform(0, 3, n))
    current = np.minimum((position // 1).astype(int), n_t - 1)
    weight = rng.uniform(0.5, 1.5, n) * np.where(current == 0, 2.0, 1.0)
    shares = (weight / weight.sum())[:, None]
    centres = np.arange(n_t) + 0.5

    def km(rows, territories):
        return np.abs(position[rows] - centres[territories])

    return current, shares, km


def _all_moves(current, n_t, adjacent_only=True):
    rows, terr = np.nonzero(np.ones((len(current), n_t), dtype=bool))
    keep = terr != current[rows]
    if adjacent_only:
        keep &= np.abs(terr - current[rows]) == 1
    return rows[keep], terr[keep]


@pytest.mark.parametrize("seed", range(6))
def test_column_generation_reaches_the_optimum_over_the_whole_pool(seed):
    current, shares, km = _instance(seed)
    n_t = 3
    targets = np.full(n_t, 1 / n_t)
    common = dict(penalty_km=0.5, movable=np.ones(len(current), bool), frozen=np.zeros(n_t, bool))
    rows, terr = _all_moves(current, n_t)
    full = _transfer.transfer(current, shares, targets, 0.05, rows, terr, km, shares[:, 0], **common)
    # Start from the two accounts nearest each border only; the pool holds every move.
    start = [r for r in range(len(current)) if r == 0 or r == len(current) - 1
             or current[r - 1] != current[r] or current[r + 1] != current[r]]
    few = np.isin(rows, start)
    grown = _transfer.transfer(current, shares, targets, 0.05, rows[few], terr[few], km, shares[:, 0],
                               pool=(rows, terr), **common)
    assert grown.solved and full.solved
    # Same optimum (the cost of the fractional plan over every account), whatever rounding did after it.
    assert grown.objective == pytest.approx(full.objective, rel=1e-7)
    assert set(np.unique(rows[few])) < set(np.unique(rows))  # the start really left accounts out


def _excess(labels, shares, targets, tolerance):
    return _transfer._excess(labels, shares, targets, tolerance, np.zeros(len(targets), bool))


@pytest.mark.parametrize("seed", range(8))
def test_split_accounts_are_placed_at_the_least_excess_their_options_allow(seed):
    current, shares, km = _instance(seed, n=12)
    n_t = 3
    targets = np.full(n_t, 1 / n_t)
    rows, terr = _all_moves(current, n_t)
    common = dict(penalty_km=0.5, movable=np.ones(len(current), bool), frozen=np.zeros(n_t, bool))
    program = _transfer._Program(current, shares, targets, 0.05 * 0.98, km, shares[:, 0], 0.5, common["movable"],
                                 common["frozen"], np.zeros(n_t, bool), None, current, None)
    x, _ = program.solve(*program.allowed(rows, terr))
    p = program.last
    largest = np.zeros(len(p.active))
    np.maximum.at(largest, p.account_index, x)
    rounded = current.copy()
    rounded[p.active] = p.var_terr[_transfer._largest(x, p.account_index)]
    result = _transfer.transfer(current, shares, targets, 0.05 * 0.98, rows, terr, km, shares[:, 0],
                                exact_tolerance=0.05, **common)
    split = p.active[largest < 1 - 1e-6]
    # Brute force: every placement of the split accounts among their columns, the others as rounded.
    options = [p.var_terr[p.var_rows == r] for r in split]
    best = min(_excess(_place(rounded, split, choice), shares, targets, 0.05)
               for choice in itertools.product(*options))
    assert _excess(result.labels, shares, targets, 0.05) <= best + 1e-9
    assert _excess(result.labels, shares, targets, 0.05) <= _excess(rounded, shares, targets, 0.05) + 1e-9
    assert len(result.labels) == len(current) and set(result.labels) <= set(range(n_t))


def _place(labels, rows, choice):
    out = labels.copy()
    out[rows] = choice
    return out
