"""territory_polygons, block_labels and point_cells on shapes small enough to check by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from workbench.errors import InputError
from workbench.shapes import HULL_MARGIN_DEG, block_labels, point_cells, territory_polygons


@pytest.fixture
def blocks():
    return gpd.GeoDataFrame({"county_fips": ["a", "b", "c", "empty"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 0, 4, 1)],
                            crs="EPSG:4326")


@pytest.fixture
def accounts():
    return pd.DataFrame({"account_id": ["1", "2", "3", "4", "5"], "county_fips": ["a", "a", "b", "c", "c"],
                         "latitude": [0.5, 0.5, 0.5, 0.5, 0.6], "longitude": [0.2, 0.8, 1.5, 2.5, 2.4]})


def test_block_labels_majority_with_ties_to_smallest_id(accounts):
    owners = block_labels(accounts, ["T2", "T1", "T2", "T3", "T3"], "county_fips")
    assert owners.to_dict() == {"a": "T1", "b": "T2", "c": "T3"}  # a: one T1, one T2 -> tie -> T1


def test_block_polygons_dissolve_blocks_and_leave_out_blocks_without_accounts(accounts, blocks):
    shapes = territory_polygons(accounts, ["T1", "T1", "T1", "T2", "T2"], blocks, "county_fips")
    assert shapes.index.tolist() == ["T1", "T2"]
    assert shapes["accounts"].tolist() == [3, 2]
    assert shapes.geometry.iloc[0].equals(box(0, 0, 2, 1))
    assert shapes.geometry.iloc[1].equals(box(2, 0, 3, 1))


def test_blocks_may_use_block_id_column(accounts, blocks):
    renamed = blocks.rename(columns={"county_fips": "block_id"})
    shapes = territory_polygons(accounts, ["T1"] * 5, renamed, "county_fips")
    assert shapes.geometry.iloc[0].equals(box(0, 0, 3, 1))


def test_voronoi_territories_tile_the_land_and_hold_their_accounts(accounts):
    labels = ["T1", "T1", "T2", "T3", "T3"]
    land = box(-1, -1, 4, 2)
    shapes = territory_polygons(accounts, labels, land=land)
    assert shapes.index.tolist() == ["T1", "T2", "T3"]
    assert sum(g.area for g in shapes.geometry) == pytest.approx(land.area)
    for territory, geometry in shapes.geometry.items():
        mine = accounts[np.array(labels) == territory]
        assert shapely.contains_xy(geometry, mine["longitude"], mine["latitude"]).all()


def test_point_cells_share_a_cell_for_duplicates_and_default_to_buffered_hull():
    cells = point_cells([0.0, 0.0, 2.0], [0.0, 0.0, 0.0])
    assert cells.iloc[0].equals(cells.iloc[1])
    hull = shapely.buffer(shapely.LineString([(0, 0), (2, 0)]), HULL_MARGIN_DEG)
    assert cells.iloc[0].area + cells.iloc[2].area == pytest.approx(hull.area, rel=1e-6)


def test_point_cells_reject_missing_coordinates():
    with pytest.raises(InputError, match=r"rows \[1\] have none"):
        point_cells([0.0, np.nan], [0.0, 1.0])


def test_errors_name_the_problem(accounts, blocks):
    with pytest.raises(InputError, match="labels has 2 entries but accounts has 5 rows"):
        territory_polygons(accounts, ["T1", "T2"])
    with pytest.raises(InputError, match="blocks were given without block_col"):
        territory_polygons(accounts, ["T1"] * 5, blocks)
    with pytest.raises(InputError, match=r"blocks have neither a 'zip' nor a 'block_id' column"):
        territory_polygons(accounts, ["T1"] * 5, blocks, "zip")
    with pytest.raises(InputError, match="accounts have no block column 'zip'"):
        territory_polygons(accounts, ["T1"] * 5, blocks.rename(columns={"county_fips": "zip"}), "zip")
    with pytest.raises(TypeError, match="land must be a GeoDataFrame, GeoSeries or shapely geometry, got list"):
        territory_polygons(accounts, ["T1"] * 5, land=[1, 2])
