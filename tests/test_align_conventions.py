"""scikit-learn and geopandas conventions of the estimators: GeoDataFrame points in any CRS,
n_features_in_/feature_names_in_, score (so GridSearchCV needs no scorer), libpysal W adjacency."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from workbench.align import (BalancedTerritories, ContiguousTerritories, KMeansTerritories, Realignment,
                             RegionGrouping)
from workbench.align.base import score_labels
from workbench.errors import InputError
from workbench.geo import to_unit_xyz

RNG = np.random.default_rng(0)
GRID = pd.DataFrame({
    "latitude": np.repeat([40.0, 40.5, 41.0, 41.5], 10) + RNG.normal(0, 0.05, 40),
    "longitude": np.tile(np.linspace(-100, -98, 10), 4) + RNG.normal(0, 0.05, 40),
    "workload": RNG.uniform(1, 3, 40).round(2),
    "current_territory": np.repeat(["A", "B", "C", "D"], 10),
})


def as_points(frame, crs=5070):
    points = gpd.GeoDataFrame(frame.drop(columns=["latitude", "longitude"]),
                              geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326)
    return points.to_crs(crs)


@pytest.mark.parametrize("make", [
    lambda: KMeansTerritories(4, random_state=0),
    lambda: BalancedTerritories(4, random_state=0),
    lambda: Realignment(tolerance=0.1),
], ids=["kmeans", "balanced", "realignment"])
def test_geodataframe_points_in_any_crs_give_the_same_territories(make):
    plain = make().fit(GRID)
    for crs in (5070, 3857, 4326):
        geo = make().fit(as_points(GRID, crs))
        assert list(geo.labels_) == list(plain.labels_), crs
        new = as_points(GRID.iloc[:5], crs)
        assert list(geo.predict(new)) == list(plain.predict(GRID.iloc[:5]))


def test_geodataframe_without_points_or_crs_is_refused():
    polygons = gpd.GeoDataFrame(GRID.drop(columns=["latitude", "longitude"]),
                                geometry=[box(x, 40, x + 0.1, 40.1) for x in GRID["longitude"]], crs=4326)
    with pytest.raises(InputError, match=r"40 geometries are not points \(Polygon; .*representative_point"):
        BalancedTerritories(4).fit(polygons)
    with pytest.raises(InputError, match=r"has no CRS.*set_crs"):
        BalancedTerritories(4).fit(as_points(GRID).set_crs(None, allow_override=True))


def test_fit_records_the_features_it_read():
    model = BalancedTerritories(4, balance_on=["workload"], random_state=0).fit(GRID)
    assert model.n_features_in_ == 3
    assert model.feature_names_in_.tolist() == ["latitude", "longitude", "workload"]
    grouping = RegionGrouping(2).fit(GRID, territories=GRID["current_territory"])
    assert grouping.feature_names_in_.tolist() == ["latitude", "longitude", "workload"]


def test_score_is_higher_for_better_balance_and_compactness():
    accounts = pd.DataFrame({"latitude": [0.0, 0.0, 0.0, 0.0], "longitude": [0.0, 0.0, 1.0, 1.0],
                             "workload": [1.0, 1.0, 1.0, 1.0]})
    centres = to_unit_xyz(np.array([0.0, 0.0]), np.array([0.0, 1.0]))
    half = np.array([0.5, 0.5])
    perfect = score_labels(accounts, np.array([0, 0, 1, 1]), centres, half, ["workload"])
    unbalanced = score_labels(accounts, np.array([0, 0, 0, 1]), centres, half, ["workload"])
    assert perfect == 0.0
    # 3 of 4 in territory 0 (+50%) and one account 111 km from its centre (mean 27.8 km / 100 km).
    assert unbalanced == pytest.approx(-(0.5 + 111.2 / 4 / 100), abs=1e-3)
    model = BalancedTerritories(4, random_state=0).fit(GRID)
    assert model.score(GRID) == pytest.approx(score_labels(
        GRID, pd.Index(model.territory_ids_).get_indexer(model.labels_), model._centres_xyz, model.target_shares_,
        ["workload"]))
    assert model.score(GRID) > KMeansTerritories(1, random_state=0).fit(GRID).score(GRID), "one territory is worse"


def test_grid_search_needs_no_custom_scorer():
    search = GridSearchCV(BalancedTerritories(random_state=0), {"n_territories": [2, 4], "tolerance": [0.05, 0.2]},
                          cv=2).fit(GRID)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and (scores <= 0).all()
    assert search.best_params_["n_territories"] in (2, 4)
    assert search.best_estimator_.score(GRID) <= 0
    assert clone(search.best_estimator_).get_params() == search.best_estimator_.get_params()


def _blocks():
    squares = [box(x, y, x + 1, y + 1) for y in (0, 1) for x in (0, 1, 2)]
    return gpd.GeoDataFrame({"block_id": [f"b{i}" for i in range(6)]}, geometry=squares, crs=4326)


def test_contiguous_adjacency_takes_a_libpysal_w():
    from libpysal.weights import Rook

    blocks = _blocks()
    accounts = pd.DataFrame({"latitude": np.repeat([0.5, 0.5, 0.5, 1.5, 1.5, 1.5], 2),
                             "longitude": np.repeat([0.5, 1.5, 2.5, 0.5, 1.5, 2.5], 2),
                             "workload": 1.0, "block_id": np.repeat(blocks["block_id"].to_numpy(), 2)})
    w = Rook.from_dataframe(blocks, ids="block_id", use_index=False)
    graph = nx.Graph([(a, b) for a, others in w.neighbors.items() for b in others])
    by_w = ContiguousTerritories(2, block_col="block_id", adjacency=w, random_state=0).fit(accounts, blocks=blocks)
    by_nx = ContiguousTerritories(2, block_col="block_id", adjacency=graph, random_state=0).fit(accounts, blocks=blocks)
    assert list(by_w.labels_) == list(by_nx.labels_)
    assert by_w.report_.contiguous
    with pytest.raises(TypeError, match="networkx.Graph or a libpysal weights object"):
        ContiguousTerritories(2, block_col="block_id", adjacency={"b0": ["b1"]}).fit(accounts, blocks=blocks)
