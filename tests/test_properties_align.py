"""Property tests for the alignment estimators: nothing lost, ids stable, locks hold, seeds repeat.

Random small account sets (many accounts at one address, zero workloads, one
account 1000x the others, fewer accounts than territories) go through every
estimator. Whatever the data, each account is assigned exactly once to one of
the estimator's territories, or the fit raises a clear :class:`InputError`;
imbalance that cannot be avoided is reported, never hidden.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from workbench.align import BalancedTerritories, KMeansTerritories, Realignment, RepAnchoredTerritories
from workbench.align.contiguous import ContiguousTerritories
from workbench.errors import InputError

# Fixed examples (derandomize) and no shrinking: the suite stays fast and repeatable even when a
# property fails; the failing example is printed as drawn.
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# A handful of places in a small box (Kansas): drawing from few places makes many accounts share one.
PLACES = [(38.0 + 0.3 * i, -99.0 + 0.4 * j) for i in range(4) for j in range(4)]


@st.composite
def workloads(draw, n):
    """Workloads for ``n`` accounts: some zero, sometimes one account 1000x the others."""
    values = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=n, max_size=n))
    if draw(st.booleans()):
        values[draw(st.integers(0, n - 1))] = 1000.0 * max(max(values), 1.0)
    if sum(values) == 0:
        values[0] = 1.0
    return values


@st.composite
def account_sets(draw, min_size=1, max_size=24, places=PLACES):
    """Accounts with ids, coordinates drawn from ``places`` (with repeats) and a workload."""
    n = draw(st.integers(min_size, max_size))
    where = draw(st.lists(st.sampled_from(places), min_size=n, max_size=n))
    return pd.DataFrame({
        "account_id": [f"A{i:03d}" for i in range(n)],
        "latitude": [p[0] for p in where],
        "longitude": [p[1] for p in where],
        "workload": draw(workloads(n)),
    })


def fit_quietly(model, accounts, **kwargs):
    """Fit, keeping the ToleranceWarnings (imbalance must be reported, not printed away)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(accounts, **kwargs)
    return model, [str(w.message) for w in caught]


def assert_every_account_assigned_once(model, accounts, ids=None):
    labels = model.labels_
    assert len(labels) == len(accounts)
    assert not pd.isna(pd.Series(labels, dtype=object)).any()
    assert all(isinstance(label, str) and label for label in labels)
    assert set(labels) <= set(model.centres_.index)
    if ids is not None:
        assert list(model.centres_.index) == list(ids)


def assert_imbalance_is_reported(model, accounts, metric="workload"):
    """Loads over *every* territory (empty ones too) versus the report's figures."""
    tolerance = model.report_.tolerance
    loads = accounts[metric].groupby(model.labels_).sum().reindex(model.centres_.index, fill_value=0.0)
    mean = loads.mean()
    deviation = float((loads / mean - 1).abs().max()) if mean > 0 else 0.0
    if deviation > tolerance + 1e-6:
        assert not model.report_.within_tolerance, (loads.to_dict(), model.report_.max_deviation)
        assert model.report_.warnings, "imbalance outside the tolerance must come with a warning"
    assert model.report_.max_deviation[metric] == pytest.approx(deviation, abs=1e-6), loads.to_dict()


# --------------------------------------------------------------------------- k-means
@SETTINGS
@given(accounts=account_sets(), n_territories=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_kmeans_assigns_every_account_once_or_says_why(accounts, n_territories, seed):
    distinct = len(accounts[["latitude", "longitude"]].drop_duplicates())
    model = KMeansTerritories(n_territories, random_state=seed)
    if n_territories > len(accounts):
        with pytest.raises(InputError, match=rf"n_territories={n_territories} is more than the {len(accounts)} "
                                             r"accounts; ask for at most"):
            model.fit(accounts)
        return
    if n_territories > distinct:
        with pytest.raises(InputError, match=rf"only {distinct} distinct places; ask for fewer territories"):
            model.fit(accounts)
        return
    model, _ = fit_quietly(model, accounts)
    assert_every_account_assigned_once(model, accounts, [f"T{i + 1:03d}" for i in range(n_territories)])
    again = KMeansTerritories(n_territories, random_state=seed).fit(accounts)
    np.testing.assert_array_equal(again.labels_, model.labels_)


@SETTINGS
@given(accounts=account_sets(min_size=2), seed=st.integers(0, 2**16))
def test_kmeans_keeps_accounts_at_one_address_together(accounts, seed):
    distinct = len(accounts[["latitude", "longitude"]].drop_duplicates())
    model = KMeansTerritories(min(2, distinct), weight_col="workload", random_state=seed).fit(accounts)
    per_place = pd.Series(model.labels_).groupby([accounts["latitude"], accounts["longitude"]]).nunique()
    assert (per_place == 1).all()


# --------------------------------------------------------------------------- balanced
#: Found once while the balancing code was being edited (a scipy linprog ValueError escaped); kept as a pin.
OUTLIER_OF_SIX = pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(6)],
                               "latitude": [38.0, 38.9, 38.9, 38.0, 38.3, 38.9],
                               "longitude": [-98.2, -98.2, -97.8, -97.8, -98.6, -98.2],
                               "workload": [1.0, 1.0, 2.0, 0.5, 3000.0, 3.0]})


@SETTINGS
@given(accounts=account_sets(), n_territories=st.integers(1, 5), seed=st.integers(0, 2**16))
@example(accounts=OUTLIER_OF_SIX, n_territories=5, seed=687)
def test_balanced_assigns_every_account_once_and_repeats_with_the_seed(accounts, n_territories, seed):
    model = BalancedTerritories(n_territories, random_state=seed)
    if n_territories > len(accounts):
        with pytest.raises(InputError, match=rf"n_territories={n_territories} is more than the {len(accounts)}"):
            model.fit(accounts)
        return
    model, _ = fit_quietly(model, accounts)
    assert_every_account_assigned_once(model, accounts, [f"T{i + 1:03d}" for i in range(n_territories)])
    again, _ = fit_quietly(BalancedTerritories(n_territories, random_state=seed), accounts)
    np.testing.assert_array_equal(again.labels_, model.labels_)


@SETTINGS
@given(accounts=account_sets(), n_territories=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_balanced_reports_imbalance_over_every_territory_even_empty_ones(accounts, n_territories, seed):
    assume(n_territories <= len(accounts))
    model, _ = fit_quietly(BalancedTerritories(n_territories, random_state=seed), accounts)
    assert_imbalance_is_reported(model, accounts)


def test_an_empty_territory_is_not_reported_as_balanced():
    """The smallest case the property above finds: workloads 0 and 1 in two territories.

    However they are split, one territory carries 0 and the other 1 (mean 0.5):
    the true largest deviation is 100%.
    """
    accounts = pd.DataFrame({"latitude": [40.0, 40.1], "longitude": [-100.0, -100.0], "workload": [0.0, 1.0]})
    model, caught = fit_quietly(BalancedTerritories(2, random_state=0), accounts)
    assert_every_account_assigned_once(model, accounts, ["T001", "T002"])
    assert model.report_.max_deviation == {"workload": pytest.approx(1.0)}
    assert not model.report_.within_tolerance
    assert any("tolerance 5.0% not met" in message for message in caught)


@SETTINGS
@given(accounts=account_sets(min_size=4), seed=st.integers(0, 2**16))
def test_balanced_all_zero_metric_is_a_clear_error(accounts, seed):
    accounts = accounts.assign(workload=0.0)
    with pytest.raises(InputError, match=r"column 'workload' sums to 0: nothing to balance; choose another metric"):
        BalancedTerritories(2, random_state=seed).fit(accounts)


# --------------------------------------------------------------------------- realignment
@st.composite
def current_alignments(draw):
    accounts = draw(account_sets(min_size=2))
    n = len(accounts)
    k = draw(st.integers(1, min(4, n)))
    ids = [f"R{j}" for j in draw(st.permutations(range(k)))]
    current = ids + draw(st.lists(st.sampled_from(ids), min_size=n - k, max_size=n - k))
    accounts["current_territory"] = current
    accounts["locked"] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return accounts


@SETTINGS
@given(accounts=current_alignments(), use_locks=st.booleans())
def test_realignment_keeps_ids_and_locks_and_loses_nobody(accounts, use_locks):
    model = Realignment(lock_col="locked" if use_locks else None)
    model, _ = fit_quietly(model, accounts)
    assert_every_account_assigned_once(model, accounts)
    assert set(model.centres_.index) == set(accounts["current_territory"])
    if use_locks:
        locked = accounts["locked"].to_numpy()
        np.testing.assert_array_equal(model.labels_[locked], accounts["current_territory"].to_numpy()[locked])
    moved = int((model.labels_ != accounts["current_territory"].to_numpy()).sum())
    assert model.report_.moved_accounts == moved
    again, _ = fit_quietly(Realignment(lock_col="locked" if use_locks else None), accounts)
    np.testing.assert_array_equal(again.labels_, model.labels_)


@SETTINGS
@given(accounts=current_alignments(), data=st.data())
def test_realignment_leaves_locked_territories_untouched(accounts, data):
    ids = sorted(accounts["current_territory"].unique())
    assume(len(ids) >= 2)
    frozen = data.draw(st.sampled_from(ids))
    model, _ = fit_quietly(Realignment(locked_territories=[frozen]), accounts)
    assert_every_account_assigned_once(model, accounts)
    was = accounts["current_territory"].to_numpy() == frozen
    now = model.labels_ == frozen
    np.testing.assert_array_equal(was, now)


# --------------------------------------------------------------------------- rep-anchored
@st.composite
def reps_tables(draw):
    k = draw(st.integers(1, 5))
    homes = draw(st.lists(st.sampled_from(PLACES), min_size=k, max_size=k))
    capacity = draw(st.lists(st.sampled_from([800.0, 1600.0, 3200.0]), min_size=k, max_size=k))
    return pd.DataFrame({"rep_id": [f"rep-{j}" for j in range(k)][::-1], "latitude": [h[0] for h in homes],
                         "longitude": [h[1] for h in homes], "capacity_hours": capacity})


@SETTINGS
@given(accounts=account_sets(), reps=reps_tables())
def test_rep_anchored_uses_rep_ids_and_loses_nobody(accounts, reps):
    model = RepAnchoredTerritories()
    if len(reps) > len(accounts):
        with pytest.raises(InputError, match=rf"there are {len(reps)} reps but only {len(accounts)} accounts"):
            model.fit(accounts, reps=reps)
        return
    model, _ = fit_quietly(model, accounts, reps=reps)
    assert_every_account_assigned_once(model, accounts, reps["rep_id"].tolist())
    again, _ = fit_quietly(RepAnchoredTerritories(), accounts, reps=reps)
    np.testing.assert_array_equal(again.labels_, model.labels_)


@SETTINGS
@given(accounts=account_sets(min_size=3), reps=reps_tables(), data=st.data())
def test_rep_anchored_locks_hold(accounts, reps, data):
    assume(len(reps) <= len(accounts))
    n = len(accounts)
    accounts["current_territory"] = data.draw(st.lists(st.sampled_from(reps["rep_id"].tolist()),
                                                       min_size=n, max_size=n))
    accounts["locked"] = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    model, _ = fit_quietly(RepAnchoredTerritories(current_col="current_territory", lock_col="locked"),
                           accounts, reps=reps)
    assert_every_account_assigned_once(model, accounts, reps["rep_id"].tolist())
    locked = accounts["locked"].to_numpy()
    np.testing.assert_array_equal(model.labels_[locked], accounts["current_territory"].to_numpy()[locked])


# --------------------------------------------------------------------------- contiguous (box grids)
def grid_blocks(width: int, height: int) -> gpd.GeoDataFrame:
    cells = [(x, y) for y in range(height) for x in range(width)]
    return gpd.GeoDataFrame({"block_id": [f"b{x}{y}" for x, y in cells]},
                            geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")


@st.composite
def grid_accounts(draw):
    width, height = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    blocks = grid_blocks(width, height)
    n = draw(st.integers(1, 16))
    cells = draw(st.lists(st.integers(0, len(blocks) - 1), min_size=n, max_size=n))
    centroids = blocks.geometry.representative_point()  # the cell centres (exact for boxes)
    accounts = pd.DataFrame({
        "account_id": [f"A{i:03d}" for i in range(n)],
        "block": blocks["block_id"].to_numpy()[cells],
        "latitude": centroids.y.to_numpy()[cells],
        "longitude": centroids.x.to_numpy()[cells],
        "workload": draw(workloads(n)),
    })
    return accounts, blocks


@settings(SETTINGS, max_examples=15)
@given(data=grid_accounts(), n_territories=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_contiguous_assigns_whole_blocks_and_loses_nobody(data, n_territories, seed):
    accounts, blocks = data
    model = ContiguousTerritories(n_territories=n_territories, block_col="block", random_state=seed)
    if n_territories > len(blocks):
        with pytest.raises(InputError, match=rf"n_territories={n_territories} is more than the {len(blocks)} blocks"):
            model.fit(accounts, blocks=blocks)
        return
    model, _ = fit_quietly(model, accounts, blocks=blocks)
    assert_every_account_assigned_once(model, accounts, [f"T{i + 1:03d}" for i in range(n_territories)])
    # every block (empty ones too) has exactly one territory, and each account follows its block
    assert sorted(model.block_labels_.index) == sorted(blocks["block_id"])
    np.testing.assert_array_equal(model.labels_, model.block_labels_.reindex(accounts["block"]).to_numpy())
    assert model.report_.contiguous is True
    again, _ = fit_quietly(ContiguousTerritories(n_territories=n_territories, block_col="block", random_state=seed),
                           accounts, blocks=blocks)
    np.testing.assert_array_equal(again.labels_, model.labels_)


# --------------------------------------------------------------------------- predict
@settings(SETTINGS, max_examples=10)
@given(accounts=account_sets(min_size=3), new=account_sets(min_size=1, max_size=10,
                                                         places=PLACES + [(60.0, 10.0), (-40.0, 170.0)]),
       n_territories=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_predict_places_every_new_account_in_a_fitted_territory(accounts, new, n_territories, seed):
    for model in (BalancedTerritories(n_territories, random_state=seed),
                  KMeansTerritories(n_territories, random_state=seed)):
        try:
            model, _ = fit_quietly(model, accounts)
        except InputError:  # fewer accounts or places than territories: covered above
            continue
        labels = model.predict(new)
        assert len(labels) == len(new)
        assert set(labels) <= set(model.centres_.index)
        assert not pd.isna(pd.Series(labels, dtype=object)).any()
