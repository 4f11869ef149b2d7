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


@pytest.mark.parametrize("style", ["areas", "territories"])
def test_drift_reaches_the_asked_deviation_and_keeps_every_account(style):
    from benchmarks.bench_realign import drift
    from workbench import metrics as wm

    rng = np.random.default_rng(0)
    n = 400
    accounts = pd.DataFrame({"latitude": rng.uniform(35, 45, n), "longitude": rng.uniform(-110, -90, n),
                             "workload": rng.lognormal(1.0, 0.5, n)})
    labels = np.where(accounts["longitude"] < -100, "A", "B") + np.where(accounts["latitude"] < 40, "1", "2")
    drift(accounts, labels, 0.41, 0, style)
    assert len(accounts) == n and (accounts["workload"] > 0).all()
    assert wm.max_deviation(accounts, labels, ["workload"])["workload"] == pytest.approx(0.41, abs=0.01)


def test_verdict_says_why_compactness_is_out_of_reach():
    from benchmarks.bench_realign import verdict

    r = {"moved_share": 0.055, "lower_bound_share": 0.026, "moved_over_plain": 2.1, "bordering_lower_bound_share": 0.054,
         "moved_over_bordering": 1.006, "compactness_km": 121.2, "current_compactness_km": 117.3,
         "compactness_vs_current": 1.033, "max_deviation": {"workload": 0.05}, "seconds": 4.9, "within_tolerance": True,
         "free_moves_compactness_km": 120.3, "free_moves_vs_current": 1.025, "free_moves_moved_share": 0.066}
    line = verdict("points_drift_areas", r)
    assert "compactness <= current: MISSED" in line and "moved <= 1.07x bordering: met" in line
    assert "even the free-moves reference ends 1.025x current moving 6.6%" in line
    r.update(compactness_km=115.0, compactness_vs_current=0.98)
    assert "out of reach" not in verdict("points_drift_areas", r)


def test_verdict_says_why_a_ratio_is_under_one():
    from benchmarks.bench_realign import verdict

    r = {"moved_share": 0.0342, "lower_bound_share": 0.023, "moved_over_plain": 1.49, "bordering_lower_bound_share": 0.0345,
         "moved_over_bordering": 0.99, "compactness_km": 163.0, "current_compactness_km": 155.8,
         "compactness_vs_current": 1.046, "max_deviation": {"workload": 0.1}, "seconds": 30.0, "within_tolerance": True,
         "contiguous": True}
    assert "came to border only after earlier moves" in verdict("counties_regions", r)
    assert "under 1.00x" not in verdict("counties_regions", {**r, "moved_over_bordering": 1.02})
