"""The fit report beside the plan it replaces: a realignment's compactness next to the current plan's."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench import metrics
from workbench.align.report import build_report

ACCOUNTS = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0, 2.0, 2.0],
                         "longitude": [0.0, 0.1, 0.0, 0.1, 0.0, 0.1],
                         "workload": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
CURRENT = ["a", "a", "a", "b", "b", "b"]
PROPOSED = ["a", "a", "b", "b", "b", "b"]


def test_a_realignment_reports_the_current_plans_compactness_measured_the_same_way():
    report = build_report(ACCOUNTS, PROPOSED, method="demo", balance_on=["workload"], tolerance=0.5,
                          current=CURRENT, warn=False)
    assert report.current_compactness_km == pytest.approx(metrics.overall_compactness_km(ACCOUNTS, CURRENT))
    assert report.current_compactness_km != pytest.approx(report.compactness_km)
    line = next(l for l in report.summary().splitlines() if l.startswith("compactness:"))
    assert line == (f"compactness: {report.compactness_km:,.0f} km (weighted mean distance to centre; "
                    f"current plan {report.current_compactness_km:,.0f} km)")
    assert report.to_dict()["current_compactness_km"] == report.current_compactness_km


def test_a_greenfield_fit_has_no_current_compactness():
    report = build_report(ACCOUNTS, PROPOSED, method="demo", balance_on=["workload"], tolerance=0.5, warn=False)
    assert report.current_compactness_km is None
    assert "current plan" not in report.summary()
