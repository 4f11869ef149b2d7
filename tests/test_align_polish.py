"""Greenfield polish: exact balanced assignment alternated with re-centring never loses compactness or balance."""

import numpy as np
import pandas as pd

from workbench.align import BalancedTerritories
from workbench.align.base import Distance, metric_shares
from workbench.align.polish import exact_assignment, polish_alignment
from workbench.metrics import max_deviation, overall_compactness_km


def _accounts(n=600, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"latitude": rng.uniform(39, 42, n), "longitude": rng.uniform(-104, -98, n),
                         "workload": rng.lognormal(0, 0.5, n)})


def test_polish_keeps_the_tolerance_and_is_no_less_compact():
    accounts = _accounts()
    base = BalancedTerritories(6, random_state=0).fit(accounts)
    polished = BalancedTerritories(6, random_state=0, exact_polish=True).fit(accounts)
    assert polished.report_.within_tolerance
    assert polished.report_.compactness_km <= base.report_.compactness_km + 1e-9
    assert sorted(set(polished.labels_)) == sorted(set(base.labels_))


def test_exact_assignment_on_a_hand_checkable_line():
    # two centres, six equal accounts on a line; balance 3/3 is exact and the nearest three go to each
    accounts = pd.DataFrame({"latitude": [40.0] * 6, "longitude": [-100.0, -99.9, -99.8, -99.2, -99.1, -99.0],
                             "workload": 1.0})
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload"])
    centres = dist.xyz[[0, 5]]
    start = np.array([0, 0, 0, 0, 1, 1])  # 4/2: the fallback a bad fit would have
    labels = exact_assignment(dist, shares, centres, np.array([0.5, 0.5]), 0.05, start)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    polished, _, _ = polish_alignment(dist, shares, labels, np.array([0.5, 0.5]), 0.05)
    assert max_deviation(accounts, polished, ["workload"])["workload"] == 0.0
    assert overall_compactness_km(accounts, polished) <= overall_compactness_km(accounts, labels) + 1e-9
