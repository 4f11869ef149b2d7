"""Greenfield polish: exact balanced assignment alternated with re-centring never loses compactness or balance."""

import numpy as np
import pandas as pd
import pytest

from workbench.align import BalancedTerritories
from workbench.align import polish as wp
from workbench.align.base import Distance, metric_shares
from workbench.align.polish import default_rounds, exact_assignment, polish_alignment
from workbench.errors import InputError
from workbench.metrics import max_deviation, overall_compactness_km


def _accounts(n=600, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"latitude": rng.uniform(39, 42, n), "longitude": rng.uniform(-104, -98, n),
                         "workload": rng.lognormal(0, 0.5, n), "revenue": rng.lognormal(2, 1.0, n)})


def test_polish_keeps_the_tolerance_and_is_no_less_compact():
    accounts = _accounts()
    base = BalancedTerritories(6, random_state=0, exact_polish=False).fit(accounts)
    polished = BalancedTerritories(6, random_state=0).fit(accounts)  # the default polishes
    assert polished.report_.within_tolerance
    assert polished.report_.compactness_km < base.report_.compactness_km
    assert sorted(set(polished.labels_)) == sorted(set(base.labels_))


def test_default_polish_is_deterministic_and_true_polishes_to_convergence():
    accounts = _accounts(seed=3)
    first = BalancedTerritories(5, random_state=1).fit(accounts).labels_
    again = BalancedTerritories(5, random_state=1).fit(accounts).labels_
    assert (first == again).all()
    forced = BalancedTerritories(5, random_state=1, exact_polish=True).fit(accounts)
    assert forced.report_.within_tolerance


def test_exact_polish_refuses_other_values():
    with pytest.raises(InputError, match="exact_polish must be 'auto', True or False, got 'always'"):
        BalancedTerritories(3, exact_polish="always").fit(_accounts(60))


def test_default_rounds_shrink_with_size_and_stop_above_the_limit():
    assert default_rounds(1_000) == wp.MAX_ROUNDS
    assert 1 <= default_rounds(100_000) < wp.MAX_ROUNDS
    assert default_rounds(wp.POLISH_MAX_ACCOUNTS) >= 1
    assert default_rounds(wp.POLISH_MAX_ACCOUNTS + 1) == 0


def test_exact_assignment_on_a_hand_checkable_line():
    # two centres, six equal accounts on a line; balance 3/3 is exact and the nearest three go to each
    accounts = pd.DataFrame({"latitude": [40.0] * 6, "longitude": [-100.0, -99.9, -99.8, -99.2, -99.1, -99.0],
                             "workload": 1.0})
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload"])
    centres = dist.xyz[[0, 5]]
    start = np.array([0, 0, 1, 0, 1, 1])  # balanced, but accounts 2 and 3 are on the wrong side
    labels, prices = exact_assignment(dist, shares, centres, np.array([0.5, 0.5]), 0.05, start)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert prices.shape == (2, 1)
    polished, _, _ = polish_alignment(dist, shares, labels, np.array([0.5, 0.5]), 0.05)
    assert max_deviation(accounts, polished, ["workload"])["workload"] == 0.0
    assert overall_compactness_km(accounts, polished) <= overall_compactness_km(accounts, labels) + 1e-9


def test_column_generation_reaches_the_optimum_of_the_full_program():
    accounts = _accounts(800, seed=5)
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload"])
    n_t = 8
    labels = BalancedTerritories(n_t, random_state=0, exact_polish=False).fit(accounts).labels_
    labels = np.unique(labels, return_inverse=True)[1]
    centres = np.stack([np.bincount(labels, weights=dist.xyz[:, a] * shares[:, 0], minlength=n_t) for a in range(3)], 1)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    cand, cost = dist.candidates(centres, 5)
    km = wp._km(dist, cost)
    targets = np.full(n_t, 1 / n_t)
    coef = shares[:, None, :] / targets[cand][:, :, None]
    unit = shares[:, 0]
    movable = np.ones(len(labels), dtype=bool)
    base = np.zeros((n_t, 1))
    big = 1e3
    full = wp.column_generation(np.ones(cand.shape, dtype=bool), movable, unit, km, coef, cand, base, 0.04, big)
    start = cand == labels[:, None]  # only each account's own territory: column generation must add the rest
    found = wp.column_generation(start, movable, unit, km, coef, cand, base, 0.04, big, gap=0.0, max_solves=50)
    assert found[2] == pytest.approx(full[2], rel=1e-7)
    assert found[3].sum() < 0.6 * cand.size  # and it solved far fewer options than the full program


def test_polish_keeps_locked_accounts_and_every_metric_within_tolerance():
    accounts = _accounts(500, seed=2)
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload", "revenue"])
    model = BalancedTerritories(4, balance_on=["workload", "revenue"], tolerance=0.08, random_state=0,
                                exact_polish=False).fit(accounts)
    labels = np.unique(model.labels_, return_inverse=True)[1]
    fixed = np.full(len(labels), -1)
    fixed[:40] = labels[:40]
    targets = np.full(4, 0.25)
    polished, centres, rounds = polish_alignment(dist, shares, labels, targets, 0.08, fixed=fixed)
    assert (polished[:40] == labels[:40]).all()
    assert rounds >= 1 and centres.shape == (4, 3)
    dev = max_deviation(accounts, polished, ["workload", "revenue"])
    assert max(dev.values()) <= 0.08
    assert overall_compactness_km(accounts, polished) <= overall_compactness_km(accounts, labels) + 1e-9


def test_polish_gives_the_plan_back_when_it_cannot_keep_the_tolerance():
    # one account carries most of the load: no plan is within 5%, so the given labels come back unchanged
    accounts = pd.DataFrame({"latitude": [40.0, 40.1, 40.2, 40.3], "longitude": [-100.0, -100.1, -99.0, -99.1],
                             "workload": [10.0, 1.0, 1.0, 1.0]})
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload"])
    start = np.array([0, 1, 1, 1])
    labels, _, _ = polish_alignment(dist, shares, start, np.array([0.5, 0.5]), 0.05)
    assert labels.tolist() == start.tolist()


def test_the_plan_given_stays_an_option_beyond_the_nearest_centres():
    # With one candidate only the nearest centre would be allowed: the balanced plan (which sends some accounts
    # to a farther centre) would fall outside the program. Its own territory stays an option (the 2nd-nearest
    # centre where the own one is the nearest), so the result is within the tolerance and more compact.
    accounts = _accounts(600, seed=0)
    labels = np.unique(BalancedTerritories(6, random_state=0, exact_polish=False).fit(accounts).labels_,
                       return_inverse=True)[1]
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload"])
    centres = wp.unit_centres(dist.xyz, labels, shares[:, 0], 6)
    targets = np.full(6, 1 / 6)
    two = dist.candidates(centres, 2)[0]
    nearest = two[:, 0]
    assert (nearest != labels).any()
    new, _ = exact_assignment(dist, shares, centres, targets, 0.05, labels, n_candidates=1)
    assert wp._within(new, shares, targets, 0.05)
    assert ((new == labels) | (new == nearest) | ((labels == nearest) & (new == two[:, 1]))).all()
    assert (new != labels).any()
    assert wp._compactness(dist, new, centres, shares[:, 0]) < wp._compactness(dist, labels, centres, shares[:, 0])


def test_rounding_repair_lowers_the_violation_every_move_and_picks_the_cheapest():
    # Territory 0 is 10% over, 1 and 2 are 5% under (targets 1/3, tolerance 5%). Account 0 (a tenth of a
    # target) may go to 1 or 2 at extra cost 1 or 3: it goes to 1, which lands exactly on 1's target ...
    shares = np.array([[1 / 30], [11 / 30 - 1 / 30], [19 / 60], [19 / 60]])
    labels = np.array([0, 0, 1, 2])
    targets = np.full(3, 1 / 3)
    cand = np.array([[0, 1, 2], [0, 1, 2], [1, 0, 2], [2, 0, 1]])
    cost = np.array([[0.0, 1.0, 3.0], [0.0, 9.0, 9.0], [0.0, 9.0, 9.0], [0.0, 9.0, 9.0]])
    out = wp._round_repair(labels, np.arange(4), shares, targets, 0.05, cand, cost)
    assert out.tolist() == [1, 0, 1, 2]
    # ... and when no single move lowers the violation it says so (None) instead of moving back and forth.
    stuck = wp._round_repair(labels, np.array([1]), shares, targets, 0.05, cand, cost)
    assert stuck is None


def test_a_plan_near_the_tolerance_is_kept_when_nothing_nearer_balances_it():
    # Two towns 3 degrees apart, one centre each; the western town holds 52.4% of the workload (4.8% over its
    # target at 5% tolerance, beyond the program's 95% share of it). The plan is within the tolerance and is
    # already the most compact one: it comes back unchanged (no account is sent to the far town to get inside
    # 95% of the tolerance) and the prices are not the steep cost of an elastic bound.
    west = np.full(10, 0.524 / 10)
    east = np.full(10, 0.476 / 10)
    accounts = pd.DataFrame({"latitude": 40.0 + np.r_[np.arange(10), np.arange(10)] * 0.001,
                             "longitude": np.r_[np.full(10, -103.0), np.full(10, -100.0)],
                             "workload": np.r_[west, east]})
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    shares = metric_shares(accounts, ["workload"])
    labels = np.r_[np.zeros(10, int), np.ones(10, int)]
    centres = wp.unit_centres(dist.xyz, labels, shares[:, 0], 2)
    new, prices = exact_assignment(dist, shares, centres, np.array([0.5, 0.5]), 0.05, labels)
    assert new.tolist() == labels.tolist()
    assert np.abs(prices).max() < 1e-9  # no load bound binds (the elastic one priced territory 1 at 127)


def test_split_merge_moves_the_spare_centre_into_the_most_spread_out_territory():
    # Territories 0 and 1 are two halves of one town (either is cheap to share out with the other); territory 2
    # holds two towns 5 degrees apart. Trial 0 moves a centre from the town into territory 2, cut east-west:
    # one centre per town.
    lon = np.r_[np.full(10, -100.0), np.full(10, -99.99), np.full(10, -95.0), np.full(10, -90.0)]
    accounts = pd.DataFrame({"latitude": 40.0 + np.tile(np.arange(10) * 0.001, 4), "longitude": lon,
                             "workload": 1.0})
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    labels = np.repeat([0, 1, 2, 2], 10)
    centres = wp.split_merge_centres(dist, np.full(40, 1 / 40), labels, 3, 0)
    from workbench.geo import xyz_to_latlon

    _, lons = xyz_to_latlon(centres)
    assert np.allclose(np.sort(lons), [-99.995, -95.0, -90.0], atol=1e-3)


def test_split_merge_is_never_less_compact_and_keeps_the_tolerance():
    accounts = _accounts(800, seed=2)
    plain = BalancedTerritories(10, random_state=0, split_merge=False).fit(accounts)
    searched = BalancedTerritories(10, random_state=0).fit(accounts)  # "auto": 8 trials on 800 accounts
    again = BalancedTerritories(10, random_state=0, split_merge=8).fit(accounts)
    assert wp.split_merge_trials(800, 10) == 8
    assert searched.report_.within_tolerance
    # measured: 50.5 km without the trials, 48.1 km with them
    assert searched.report_.compactness_km < 0.97 * plain.report_.compactness_km
    assert (searched.labels_ == again.labels_).all()  # deterministic, and "auto" is 12 here


def test_split_merge_trials_rule_and_bad_values():
    assert wp.split_merge_trials(20_000, 40) == 8
    assert wp.split_merge_trials(wp.SEARCH_MAX_ACCOUNTS, 40) >= 1
    assert wp.split_merge_trials(wp.SEARCH_MAX_ACCOUNTS + 1, 40) == 0
    assert wp.split_merge_trials(1_000, 2) == 0
    for bad in (True, -1, "many", 2.5):
        with pytest.raises(InputError, match="split_merge"):
            BalancedTerritories(3, split_merge=bad).fit(_accounts(60))
