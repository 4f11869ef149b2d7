"""BalancedTerritories and KMeansTerritories on tiny grids whose answers can be checked by hand."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from workbench.align import BalancedTerritories, KMeansTerritories, ToleranceWarning, choose_n_territories, elbow_table
from workbench.errors import InputError


def four_clusters(per=5, workload=1.0):
    """Four tight clusters on a 1-degree square, ``per`` accounts each."""
    corners = [(40.0, -100.0), (40.0, -99.0), (41.0, -100.0), (41.0, -99.0)]
    rows = [(lat + 0.01 * i, lon) for lat, lon in corners for i in range(per)]
    frame = pd.DataFrame(rows, columns=["latitude", "longitude"])
    frame["workload"] = workload
    frame["cluster"] = np.repeat(np.arange(4), per)
    return frame


def same_partition(labels, truth):
    return pd.crosstab(labels, truth).gt(0).sum(axis=1).eq(1).all() and len(set(labels)) == len(set(truth))


def test_four_clusters_recovered_exactly_with_equal_loads():
    accounts = four_clusters()
    model = BalancedTerritories(n_territories=4, random_state=0).fit(accounts)
    assert same_partition(model.labels_, accounts["cluster"])
    assert model.report_.max_deviation == {"workload": 0.0}
    assert model.report_.within_tolerance and model.report_.converged
    assert list(model.centres_.index) == ["T001", "T002", "T003", "T004"]
    assert model.centres_["latitude"].between(40, 41.05).all()


def test_every_account_assigned_once_and_labels_are_str():
    accounts = four_clusters(per=6)
    labels = BalancedTerritories(n_territories=3, random_state=1).fit(accounts).labels_
    assert len(labels) == len(accounts)
    assert all(isinstance(label, str) for label in labels)
    assert set(labels) == {"T001", "T002", "T003"}


def test_kmeans_recovers_clusters_and_reports_unbalanced_workload():
    accounts = four_clusters()
    accounts.loc[accounts["cluster"] == 0, "workload"] = 5.0
    model = KMeansTerritories(4, random_state=0).fit(accounts)
    assert same_partition(model.labels_, accounts["cluster"])
    # cluster 0 carries 25 of 40 hours: the mean is 10, so it is 150% over
    assert model.report_.max_deviation["workload"] == pytest.approx(1.5)
    assert model.report_.tolerance is None


def test_balance_moves_accounts_out_of_a_heavy_cluster():
    accounts = four_clusters(per=6)
    accounts.loc[accounts["cluster"] == 0, "workload"] = 2.0  # 12 hours vs 6, 6, 6: mean 7.5
    model = BalancedTerritories(n_territories=4, tolerance=0.2, random_state=0).fit(accounts)
    loads = pd.Series(accounts["workload"].to_numpy()).groupby(model.labels_).sum()
    assert loads.max() <= 7.5 * 1.2 + 1e-9 and loads.min() >= 7.5 * 0.8 - 1e-9
    assert model.report_.within_tolerance


def test_many_accounts_at_one_location_are_split():
    accounts = pd.DataFrame({"latitude": [45.0] * 12 + [30.0], "longitude": [-90.0] * 12 + [-80.0],
                             "workload": [1.0] * 12 + [0.0]})
    model = BalancedTerritories(n_territories=3, random_state=0).fit(accounts)
    counts = pd.Series(model.labels_[:12]).value_counts()
    assert sorted(counts.tolist()) == [4, 4, 4]
    assert model.report_.max_deviation["workload"] == 0.0


def test_two_metrics_balanced_at_once():
    accounts = four_clusters(per=4)
    # workload equal everywhere, revenue concentrated on every second account
    accounts["revenue"] = np.tile([3.0, 1.0], 8)
    model = BalancedTerritories(n_territories=4, balance_on=["workload", "revenue"], tolerance=0.05,
                                random_state=0).fit(accounts)
    assert model.report_.max_deviation == {"workload": 0.0, "revenue": 0.0}


def test_infeasible_giant_account_warns_and_says_so():
    accounts = four_clusters(per=3)
    accounts.loc[0, "workload"] = 100.0
    with pytest.warns(ToleranceWarning, match="tolerance 5.0% not met"):
        model = BalancedTerritories(n_territories=4, random_state=0).fit(accounts)
    assert not model.report_.within_tolerance
    assert not model.report_.converged
    assert any("not met" in w for w in model.report_.warnings)


def test_same_seed_same_labels_and_clone():
    accounts = four_clusters(per=9)
    accounts["workload"] = np.linspace(1, 3, len(accounts))
    model = BalancedTerritories(n_territories=3, random_state=7)
    first = model.fit(accounts).labels_.copy()
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "labels_")
    np.testing.assert_array_equal(twin.fit(accounts).labels_, first)


def test_locks_and_locked_territories_keep_current():
    accounts = four_clusters(per=4)
    accounts["current_territory"] = np.where(accounts["cluster"] < 2, "A", "B")
    accounts.loc[[4, 5], "current_territory"] = "C"
    accounts["locked"] = False
    accounts.loc[0, "locked"] = True
    # C is locked with 2 of 16 hours (mean 5.3): it cannot be balanced, and the report says so
    with pytest.warns(ToleranceWarning, match="62.5%"):
        model = BalancedTerritories(current_col="current_territory", lock_col="locked", locked_territories=["C"],
                                    tolerance=0.2, random_state=0).fit(accounts)
    assert model.labels_[0] == "A"
    assert (model.labels_[[4, 5]] == "C").all()
    assert (model.labels_ == "C").sum() == 2  # nobody moved into the locked territory
    assert set(model.labels_) == {"A", "B", "C"}
    loads = pd.Series(accounts["workload"].to_numpy()).groupby(model.labels_).sum()
    assert loads.to_dict() == {"A": 7.0, "B": 7.0, "C": 2.0}


def test_custom_distance_changes_assignment():
    # Two reps-free clusters; the middle account is nearer the west cluster on the globe,
    # but a "river" makes crossing to the west cost ten times more.
    accounts = pd.DataFrame({"latitude": [40.0] * 5, "longitude": [-100.0, -99.9, -99.55, -99.1, -99.0],
                             "workload": [1.0, 1.0, 0.0, 1.0, 1.0]})
    plain = BalancedTerritories(n_territories=2, tolerance=0.01, random_state=0).fit(accounts)
    assert plain.labels_[2] == plain.labels_[0]

    def river(lat1, lon1, lat2, lon2):
        from workbench.geo import great_circle_km

        crossing = (np.asarray(lon1) > -99.6) & (np.asarray(lon2) < -99.5)
        return great_circle_km(lat1, lon1, lat2, lon2) * np.where(crossing, 10.0, 1.0)

    fenced = BalancedTerritories(n_territories=2, tolerance=0.01, distance=river, random_state=0).fit(accounts)
    assert fenced.labels_[2] == fenced.labels_[4] != fenced.labels_[0]


def test_predict_respects_room():
    accounts = four_clusters(per=5)
    model = BalancedTerritories(n_territories=4, tolerance=0.1, random_state=0).fit(accounts)
    west = model.labels_[0]
    new = pd.DataFrame({"latitude": [40.0, 40.0, 40.0], "longitude": [-100.0] * 3, "workload": [0.5, 0.5, 0.5]})
    labels = model.predict(new)
    # the nearest territory holds 5 hours, its ceiling is 5.5: only the first new account fits
    assert labels[0] == west and west not in labels[1:]
    assert model.loads_.loc[west, "workload"] == pytest.approx(5.0)


def test_predict_is_pure_and_uses_the_estimators_tolerance():
    accounts = four_clusters(per=5)
    model = BalancedTerritories(n_territories=4, tolerance=0.1, random_state=0).fit(accounts)
    new = pd.DataFrame({"latitude": [40.0] * 3, "longitude": [-100.0] * 3, "workload": [0.5, 0.5, 0.5]})
    before = {key: value for key, value in vars(model).items()}
    first = model.predict(new)
    assert vars(model).keys() == before.keys()  # no new attribute such as predict_loads_
    np.testing.assert_array_equal(model.predict(new), first)  # and nothing it reads has changed
    # With room for all three (tolerance 40%: ceiling 7 hours), they all join the nearest territory.
    roomy = model.set_params(tolerance=0.4).predict(new)
    assert (roomy == first[0]).all() and not (first == first[0]).all()


def test_bad_inputs_raise_clear_errors():
    accounts = four_clusters()
    with pytest.raises(InputError, match="no column 'revenue'"):
        BalancedTerritories(2, balance_on="revenue").fit(accounts)
    with pytest.raises(InputError, match="more than the 20 accounts"):
        BalancedTerritories(21).fit(accounts)
    with pytest.raises(InputError, match="at least 1"):
        BalancedTerritories(0).fit(accounts)
    with pytest.raises(TypeError, match="DataFrame"):
        BalancedTerritories(2).fit(accounts.to_numpy())
    with pytest.raises(InputError, match="needs current_col"):
        BalancedTerritories(2, lock_col="cluster").fit(accounts)
    bad = accounts.copy()
    bad.loc[3, "workload"] = -1
    with pytest.raises(InputError, match=r"negative values \(rows \[3\]\)"):
        BalancedTerritories(2).fit(bad)


def test_choose_n_territories_and_elbow_table():
    accounts = four_clusters()
    assert choose_n_territories(accounts, capacity_hours=6) == 4  # 20 hours / 6 per rep
    with pytest.raises(InputError, match="positive number"):
        choose_n_territories(accounts, capacity_hours=0)
    table = elbow_table(accounts, [2, 4], random_state=0)
    assert table.columns.tolist() == ["n_territories", "inertia_km", "silhouette", "max_workload_deviation"]
    assert table["inertia_km"].iloc[1] < table["inertia_km"].iloc[0]
    assert table["silhouette"].iloc[1] > 0.9


def test_progress_bar_does_not_change_result():
    accounts = four_clusters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = BalancedTerritories(4, random_state=0, progress=True).fit(accounts).labels_
    b = BalancedTerritories(4, random_state=0).fit(accounts).labels_
    np.testing.assert_array_equal(a, b)


def test_report_counts_territories_that_got_no_account():
    # Workloads 0 and 1 into two territories: one carries 0, the other 1 (mean 0.5), 100% off either way.
    accounts = pd.DataFrame({"latitude": [40.0, 40.1], "longitude": [-100.0, -100.0], "workload": [0.0, 1.0]})
    with pytest.warns(ToleranceWarning, match="tolerance 5.0% not met"):
        model = BalancedTerritories(2, random_state=0).fit(accounts)
    assert model.report_.max_deviation == {"workload": pytest.approx(1.0)}
    assert sorted(model.report_.territories.index) == ["T001", "T002"]
