"""The issue's realignment method as written in benchmarks/realign_baseline.py, on hand-checkable lines."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.realign_baseline import bordering_flow
from workbench.align import Realignment


def _line(current, workload=1.0):
    n = len(current)
    return pd.DataFrame({"latitude": 40.0, "longitude": -100.0 + 0.1 * np.arange(n), "workload": workload,
                         "current_territory": current})


def test_baseline_moves_the_two_accounts_next_to_the_light_territory():
    # A 6, B 2 (mean 4): two A accounts go to B, the two nearest it (the cheapest distance increase).
    accounts = _line(["A"] * 6 + ["B"] * 2)
    out = bordering_flow(accounts, accounts["current_territory"], tolerance=0.05, k=2)
    assert out["baseline_solved"] and out["baseline_within_tolerance"]
    assert out["baseline_moved_share"] == pytest.approx(0.25)
    assert out["baseline_max_deviation"] == pytest.approx(0.0)


def test_baseline_only_moves_to_bordering_territories():
    # A (6) - B (4) - C (2) with 2 nearest neighbours: A and C do not border, so A's excess goes to B and
    # B's to C: four moves, where any-to-any would need two.
    accounts = _line(["A"] * 6 + ["B"] * 4 + ["C"] * 2)
    out = bordering_flow(accounts, accounts["current_territory"], tolerance=0.05, k=2)
    assert out["baseline_moved_share"] == pytest.approx(4 / 12)
    model = Realignment(tolerance=0.05, n_neighbours=2).fit(accounts)
    assert model.report_.moved_share <= out["baseline_moved_share"] + 1e-12
