"""Static maps: what is drawn, titles, highlights, PNG output; no display and no network."""

from __future__ import annotations

import base64

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from shapely.geometry import box  # noqa: E402

from workbench import staticmap  # noqa: E402
from workbench.errors import InputError  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def blocks():
    return gpd.GeoDataFrame({"county_fips": ["a", "b", "c"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs="EPSG:4326")


@pytest.fixture
def accounts():
    return pd.DataFrame({"account_id": ["1", "2", "3", "4"], "county_fips": ["a", "b", "c", "c"],
                         "latitude": [0.5] * 4, "longitude": [0.5, 1.5, 2.5, 2.6],
                         "workload": [1.0, 1.0, 2.0, 2.0]})


def test_plot_plan_draws_one_patch_per_block_with_territory_colours(accounts, blocks):
    ax = staticmap.plot_plan(["T1", "T1", "T2", "T2"], accounts=accounts, blocks=blocks, block_col="county_fips",
                             states=None, title="Now")
    assert ax.get_title() == "Now"
    faces = [tuple(color) for color in ax.collections[0].get_facecolors()]
    assert len(faces) == 3
    assert faces[0] == faces[1] != faces[2]  # a and b in T1, c in T2
    assert sorted(t.get_text() for t in ax.texts) == ["T1", "T2"]


def test_plot_plan_by_metric_adds_colour_bar(accounts, blocks):
    ax = staticmap.plot_plan(["T1", "T1", "T2", "T2"], accounts=accounts, blocks=blocks, block_col="county_fips",
                             color_by="workload", states=None)
    assert len(ax.figure.axes) == 2  # the map and its colour bar
    assert ax.figure.axes[1].get_ylabel() == "workload: % from mean"


def test_plot_plan_rejects_unknown_metric(accounts):
    with pytest.raises(InputError, match="color_by='visits' is neither 'territory' nor a column"):
        staticmap.plot_plan(["T1"] * 4, accounts=accounts, color_by="visits", states=None)


def test_plain_labels_need_accounts():
    with pytest.raises(InputError, match="plain labels need accounts="):
        staticmap.plot_plan(["T1"])


def test_plot_comparison_outlines_moved_blocks(accounts, blocks):
    fig = staticmap.plot_comparison(["T1", "T1", "T2", "T2"], ["T1", "T2", "T2", "T2"], accounts=accounts,
                                    blocks=blocks, block_col="county_fips", states=None)
    left, right = fig.axes
    assert left.get_title() == "Current" and right.get_title() == "Proposed (1 account moved)"
    # one fill collection plus one black outline collection (the moved block b) per panel
    outlines = [c for c in right.collections if tuple(c.get_edgecolor()[0][:3]) == (0.0, 0.0, 0.0)]
    assert len(outlines) == 1 and len(outlines[0].get_paths()) == 1


def test_plot_comparison_accepts_plans(accounts):
    from workbench.plan import Plan

    current = Plan.from_labels(accounts, ["T1", "T1", "T2", "T2"])
    fig = staticmap.plot_comparison(current, current.reassign(["3", "4"], "T1"), states=None)
    assert fig.axes[1].get_title() == "Proposed (2 accounts moved)"


def test_png_bytes_and_data_uri(accounts):
    ax = staticmap.plot_plan(["T1", "T1", "T2", "T2"], accounts=accounts, states=None)
    png = staticmap.to_png_bytes(ax.figure)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    uri = staticmap.to_data_uri(ax.figure)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png


def test_blocks_without_accounts_take_the_surrounding_territory_and_territories_are_outlined():
    from workbench.staticmap import _fill_from_neighbours

    blocks = gpd.GeoDataFrame({"county_fips": ["a", "b", "c", "d", "far"]},
                              geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 0, 4, 1),
                                        box(10, 10, 11, 11)], crs="EPSG:4326")
    shapes = gpd.GeoDataFrame({"territory_id": ["T1", None, None, "T2", None]}, geometry=blocks.geometry)
    # b touches T1 only, c touches T2 only; "far" touches nothing and stays empty.
    filled = _fill_from_neighbours(shapes)
    assert filled[:4].tolist() == ["T1", "T1", "T2", "T2"]
    assert pd.isna(filled[4])

    accounts = pd.DataFrame({"account_id": ["x", "y"], "latitude": [0.5, 0.5], "longitude": [0.5, 3.5],
                             "county_fips": ["a", "d"], "workload": [1.0, 1.0]})
    ax = staticmap.plot_plan(["T1", "T2"], accounts=accounts, blocks=blocks, block_col="county_fips", states=None)
    # grey empty block, pale filled blocks, owned blocks, territory outlines
    assert len(ax.collections) == 4
    outlines = ax.collections[3]
    assert len(outlines.get_paths()) == 2
