"""RegionGrouping and build_hierarchy on small grids whose answers can be checked by hand."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from workbench.align.hierarchy import RegionGrouping, build_hierarchy
from workbench.align.report import ToleranceWarning
from workbench.errors import InputError


def grid(width, height):
    """Unit-square blocks "x-y" and one account of workload 1 in each."""
    cells = [(x, y) for y in range(height) for x in range(width)]
    blocks = gpd.GeoDataFrame({"block_id": [f"{x}-{y}" for x, y in cells]},
                              geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    accounts = pd.DataFrame({"account_id": [f"A{x}-{y}" for x, y in cells],
                             "county_fips": [f"{x}-{y}" for x, y in cells],
                             "latitude": [y + 0.5 for _, y in cells], "longitude": [x + 0.5 for x, _ in cells],
                             "workload": 1.0})
    return accounts, blocks


def territories_of_vertical_pairs(accounts):
    """In a 4x4 grid, territory "Tx-r" = column x, rows 2r and 2r+1: eight territories of two blocks."""
    x = (accounts["longitude"] - 0.5).astype(int)
    y = (accounts["latitude"] - 0.5).astype(int)
    return ("T" + x.astype(str) + "-" + (y // 2).astype(str)).to_numpy()


def test_regions_from_block_adjacency_are_connected_and_balanced():
    accounts, blocks = grid(4, 4)
    territory = territories_of_vertical_pairs(accounts)
    grouping = RegionGrouping(n_regions=4).fit(accounts, territories=territory, blocks=blocks, block_col="county_fips")
    assert grouping.groups_.index.name == "territory_id"
    assert grouping.groups_.value_counts().tolist() == [2, 2, 2, 2]
    assert grouping.report_.max_deviation == {"workload": 0.0}
    assert grouping.report_.contiguous is True
    for _, members in grouping.groups_.groupby(grouping.groups_):
        assert nx.is_connected(grouping.unit_adjacency_.subgraph(members.index))
    assert sorted(set(grouping.labels_)) == ["R1", "R2", "R3", "R4"]


def test_territories_are_adjacent_only_when_their_blocks_touch():
    accounts, blocks = grid(4, 1)
    territory = ["T1", "T2", "T3", "T4"]
    grouping = RegionGrouping(n_regions=2).fit(accounts, territories=territory, blocks=blocks, block_col="county_fips")
    assert sorted(map(sorted, grouping.unit_adjacency_.edges)) == [["T1", "T2"], ["T2", "T3"], ["T3", "T4"]]
    assert grouping.groups_.to_dict() == {"T1": "R1", "T2": "R1", "T3": "R2", "T4": "R2"}


def test_without_blocks_delaunay_neighbours_define_contiguity():
    accounts, _ = grid(4, 4)
    territory = territories_of_vertical_pairs(accounts)
    grouping = RegionGrouping(n_regions=2, names=["West", "East"]).fit(accounts, territories=territory)
    assert set(grouping.groups_) == {"West", "East"}
    assert grouping.report_.contiguous is True
    assert grouping.report_.max_deviation == {"workload": 0.0}


def line_with_weights(weights):
    accounts = pd.DataFrame({"latitude": 40.0, "longitude": -100.0 + np.arange(len(weights)),
                             "workload": np.asarray(weights, dtype=float)})
    return accounts, [f"T{i + 1}" for i in range(len(weights))]


def test_contiguous_false_allows_a_balanced_but_split_grouping():
    # Loads 2, 3, 1, 2 along a line: only {T1, T4} | {T2, T3} is balanced, and it is not contiguous.
    accounts, territory = line_with_weights([2, 3, 1, 2])
    free = RegionGrouping(n_regions=2, contiguous=False).fit(accounts, territories=territory)
    assert free.groups_["T1"] == free.groups_["T4"] != free.groups_["T2"] == free.groups_["T3"]
    assert free.report_.max_deviation == {"workload": 0.0}
    assert free.report_.contiguous is False
    with pytest.warns(ToleranceWarning, match="tolerance 10.0% not met"):
        joined = RegionGrouping(n_regions=2).fit(accounts, territories=territory)
    assert joined.report_.contiguous is True
    assert joined.report_.max_deviation["workload"] == pytest.approx(0.25)


@pytest.mark.filterwarnings("ignore:tolerance .* not met")
@pytest.mark.filterwarnings("ignore:apart from")
def test_a_territory_heavier_than_a_region_is_named():
    accounts, territory = line_with_weights([10, 1, 1, 1, 1])
    with pytest.warns(ToleranceWarning, match=r"territory T1 \(\+43% over the mean\).*raise the tolerance to 43%"):
        RegionGrouping(n_regions=2).fit(accounts, territories=territory)


def test_build_hierarchy_nests_regions_in_areas():
    accounts, blocks = grid(4, 4)
    territory = territories_of_vertical_pairs(accounts)
    table = build_hierarchy(accounts, territory, {"region": 4, "area": 2}, blocks=blocks, block_col="county_fips")
    assert list(table.columns) == ["region", "area"]
    assert table.index.tolist() == sorted(set(territory))
    assert table.groupby("region")["area"].nunique().eq(1).all()  # a region lies in one area
    assert table.groupby("area")["region"].nunique().tolist() == [2, 2]
    assert set(table["area"]) == {"A1", "A2"}


def test_wrong_inputs_are_named():
    accounts, territory = line_with_weights([1, 1, 1])
    with pytest.raises(InputError, match="n_regions=4 must be between 1 and the 3 territories"):
        RegionGrouping(n_regions=4).fit(accounts, territories=territory)
    with pytest.raises(InputError, match="labels has 2 entries but accounts has 3 rows"):
        RegionGrouping(n_regions=2).fit(accounts, territories=territory[:2])
    with pytest.raises(InputError, match="names must hold 2 distinct ids"):
        RegionGrouping(n_regions=2, names=["a", "a"]).fit(accounts, territories=territory)
    with pytest.raises(TypeError, match="levels must be a non-empty mapping"):
        build_hierarchy(accounts, territory, [("region", 2)])


def test_transform_maps_territory_ids_and_rejects_unknown_ones():
    accounts, territory = line_with_weights([1, 1, 1, 1])
    grouping = RegionGrouping(n_regions=2).fit(accounts, territories=territory)
    assert grouping.transform(["T4", "T1"]).tolist() == [grouping.groups_["T4"], grouping.groups_["T1"]]
    with pytest.raises(InputError, match=r"territories \['T9'\] were not in the fit"):
        grouping.transform(["T9"])


def test_block_graph_from_a_contiguous_fit_can_be_reused():
    from workbench.align.contiguous import ContiguousTerritories

    accounts, blocks = grid(4, 4)
    territories = ContiguousTerritories(n_territories=8).fit(accounts, blocks=blocks)
    grouping = RegionGrouping(n_regions=2).fit(accounts, territories=territories.labels_, adjacency=territories.adjacency_)
    assert grouping.report_.contiguous is True
    assert grouping.report_.max_deviation == {"workload": 0.0}
    blocks_by_region = territories.block_labels_.map(grouping.groups_)
    for _, members in blocks_by_region.groupby(blocks_by_region):
        assert nx.is_connected(territories.adjacency_.subgraph(members.index))


def test_the_improvement_phase_makes_regions_more_compact_and_keeps_them_contiguous_and_balanced():
    from workbench.align.dispersion import dispersion
    from workbench.geo import to_unit_xyz

    accounts, _ = grid(6, 4)  # 24 territories of one block each, into 4 regions of 6
    accounts["workload"] = np.random.default_rng(3).uniform(1.0, 2.0, len(accounts))
    territories = accounts["county_fips"].to_numpy()
    xyz = to_unit_xyz(accounts["latitude"], accounts["longitude"])

    def spread(model):
        codes = pd.factorize(model.labels_)[0]  # one territory per account here
        return dispersion(codes, xyz, "weighted", accounts["workload"].to_numpy())

    plain = RegionGrouping(4, tolerance=0.1, max_seconds=0).fit(accounts, territories=territories)
    tidy = RegionGrouping(4, tolerance=0.1, max_seconds=None, random_state=0).fit(accounts, territories=territories)
    assert spread(tidy) <= spread(plain) + 1e-12
    assert tidy.report_.contiguous and tidy.report_.max_deviation["workload"] <= 0.1 + 1e-9
    again = RegionGrouping(4, tolerance=0.1, max_seconds=None, random_state=0).fit(accounts, territories=territories)
    assert again.groups_.equals(tidy.groups_)
    with pytest.raises(InputError, match="objective must be one of"):
        RegionGrouping(4, objective="round").fit(accounts, territories=territories)
