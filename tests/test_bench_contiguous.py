"""The contiguous benchmark's reference only ever gets stronger, and its instances are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_contiguous import literature_instance, median_dispersion, merge_reference


def test_merging_keeps_the_best_known_value_of_each_case_and_replaces_stale_instances():
    stored = {"command": "first", "instances": {
        "a": {"fingerprint": 1.0, "dispersion": 100.0}, "b": {"fingerprint": 2.0, "dispersion": 50.0},
        "c": {"fingerprint": 3.0, "dispersion": 70.0}},
        "counties": {"k20": {"blocks": 3107, "compactness_km": 240.0}}}
    new = {"instances": {
        "a": {"fingerprint": 1.0, "dispersion": 90.0},    # better: taken
        "b": {"fingerprint": 2.0, "dispersion": 60.0},    # worse: the stored best stays
        "c": {"fingerprint": 9.0, "dispersion": 80.0},    # another instance (generator changed): replaced
        "d": {"fingerprint": 4.0, "dispersion": 10.0}},   # new case: added
        "counties": {"k20": {"blocks": 3107, "compactness_km": 250.0}}}
    merged = merge_reference(stored, new)
    assert {key: case["dispersion"] for key, case in merged["instances"].items()} == {
        "a": 90.0, "b": 50.0, "c": 80.0, "d": 10.0}
    assert merged["counties"]["k20"]["compactness_km"] == 240.0
    assert merged["command"] == "first" and stored["instances"]["a"]["dispersion"] == 100.0  # input untouched


def test_merging_keeps_the_strongest_lower_bound_whichever_run_has_the_best_plan():
    stored = {"instances": {"a": {"fingerprint": 1.0, "dispersion": 100.0, "lower_bound": 80.0},
                            "b": {"fingerprint": 2.0, "dispersion": 50.0, "lower_bound": 45.0},
                            "c": {"fingerprint": 3.0, "dispersion": 70.0, "lower_bound": 60.0}}}
    new = {"instances": {"a": {"fingerprint": 1.0, "dispersion": 90.0},                     # better plan, no bound
                         "b": {"fingerprint": 2.0, "dispersion": 60.0, "lower_bound": 47.0},  # worse plan, higher bound
                         "c": {"fingerprint": 9.0, "dispersion": 80.0}}}                    # another instance
    merged = merge_reference(stored, new)["instances"]
    assert (merged["a"]["dispersion"], merged["a"]["lower_bound"]) == (90.0, 80.0)
    assert (merged["b"]["dispersion"], merged["b"]["lower_bound"]) == (50.0, 47.0)
    assert "lower_bound" not in merged["c"]  # a bound of another instance says nothing about this one


def test_instances_are_rebuilt_identically_from_their_seed():
    first, xy, graph, fingerprint = literature_instance(60, 4, 1)
    again, xy_again, _, fingerprint_again = literature_instance(60, 4, 1)
    assert fingerprint == fingerprint_again and np.array_equal(xy, xy_again)
    assert first.equals(again) and graph.number_of_nodes() == 60
    labels = (xy[:, 0] > 250).astype(int)
    by_hand = sum(min(np.linalg.norm(xy[labels == p] - xy[i], axis=1).sum() for i in np.flatnonzero(labels == p))
                  for p in (0, 1))
    assert median_dispersion(labels, xy) == pytest.approx(by_hand)
