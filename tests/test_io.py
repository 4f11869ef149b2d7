"""Happy paths of workbench.io: every format, column mapping, geocoding, reports, reps, blocks."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Point, Polygon, box

from workbench.errors import InputError
from workbench.io import (
    LoadReport,
    check_blocks_cover,
    load_accounts,
    load_blocks,
    load_reps,
    normalise_zip,
)
from workbench.io import _source

# Three accounts you can check by hand: two in New York, one in Boston (leading-zero ZIP).
CSV = (
    "account_id,name,latitude,longitude,zip,county_fips,revenue,workload,current_territory\n"
    "00123,Acme,40.75,-73.99,10001,36061,1000,2.5,T01\n"
    "00124,Bolt,40.71,-74.01,10007,36061,2000,1.5,T01\n"
    "00125,Crane,42.36,-71.06,02108,25025,3000,3.0,T02\n"
)

# A tiny offline ZIP table so tests do not depend on the bundled one.
ZIPS = pd.DataFrame({
    "zip": ["10001", "10007", "2108", "00501"],
    "latitude": [40.7506, 40.7136, 42.3576, 40.8154],
    "longitude": [-73.9972, -74.0086, -71.0649, -73.0451],
})


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def frame():
    return pd.read_csv(pd.io.common.StringIO(CSV), dtype={"account_id": str, "zip": str, "county_fips": str})


def check_standard(accounts):
    assert isinstance(accounts.index, pd.RangeIndex)
    assert accounts["account_id"].tolist() == ["00123", "00124", "00125"]
    assert accounts["latitude"].dtype == "float64" and accounts["longitude"].dtype == "float64"
    assert accounts["latitude"].tolist() == [40.75, 40.71, 42.36]
    assert accounts["revenue"].dtype == "float64"
    assert accounts["revenue"].tolist() == [1000.0, 2000.0, 3000.0]
    assert accounts["zip"].tolist() == ["10001", "10007", "02108"]
    assert accounts["county_fips"].tolist() == ["36061", "36061", "25025"]
    assert accounts["current_territory"].tolist() == ["T01", "T01", "T02"]
    assert accounts["geocoded_from_zip"].dtype == bool
    assert not accounts["geocoded_from_zip"].any()


# ---------------------------------------------------------------- formats
@pytest.mark.parametrize("name, delimiter", [("a.csv", ","), ("a.txt", ";"), ("a.tsv", "\t"), ("a.csv", "\t")])
def test_text_files_with_any_delimiter(tmp_path, name, delimiter):
    path = write(tmp_path / name, CSV.replace(",", delimiter))
    check_standard(load_accounts(path))


def test_gzip_csv_and_utf8_bom(tmp_path):
    import gzip

    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(("\ufeff" + CSV).encode("utf-8")))
    check_standard(load_accounts(path))


def test_utf16_and_explicit_encoding(tmp_path):
    check_standard(load_accounts(write(tmp_path / "u16.csv", CSV, "utf-16")))
    latin = write(tmp_path / "latin.csv", CSV.replace("Crane", "Crâne"), "latin-1")
    accounts = load_accounts(latin, encoding="latin-1")
    assert accounts["name"].iloc[2] == "Crâne"


def test_a_file_that_is_not_utf8_loads_as_cp1252_with_a_warning(tmp_path):
    from workbench.errors import EncodingFallbackWarning

    windows = write(tmp_path / "windows.csv", CSV.replace("Crane", "Crâne €"), "cp1252")
    with pytest.warns(EncodingFallbackWarning, match=r"windows\.csv is not UTF-8: read it as 'cp1252'"):
        accounts, report = load_accounts(windows, return_report=True)
    assert accounts["name"].iloc[2] == "Crâne €"
    assert any("'cp1252'" in w for w in report.warnings)


def test_bytes_cp1252_cannot_decode_fall_back_to_latin1(tmp_path):
    from workbench.errors import EncodingFallbackWarning

    path = tmp_path / "latin.csv"
    path.write_bytes(CSV.replace("Crane", "Cr\x81ne").encode("latin-1"))  # 0x81 is undefined in cp1252
    with pytest.warns(EncodingFallbackWarning, match=r"latin\.csv is not UTF-8: read it as 'latin-1'"):
        accounts = load_accounts(path)
    assert accounts["name"].iloc[2] == "Cr\x81ne"


def test_utf8_files_load_without_an_encoding_warning(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_standard(load_accounts(write(tmp_path / "u8.csv", CSV.replace("Crane", "Crâne"), "utf-8")))


def test_excel_parquet_and_frames_round_trip(tmp_path, frame):
    frame.to_excel(tmp_path / "a.xlsx", index=False, sheet_name="Accounts")
    check_standard(load_accounts(tmp_path / "a.xlsx"))
    check_standard(load_accounts(tmp_path / "a.xlsx", sheet="Accounts"))
    frame.to_parquet(tmp_path / "a.parquet")
    check_standard(load_accounts(tmp_path / "a.parquet"))
    before = frame.copy()
    check_standard(load_accounts(frame))
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified


def test_numeric_ids_from_excel_keep_their_text(tmp_path, frame):
    frame = frame.assign(account_id=[123, 124, 125], zip=[10001, 10007, 2108], county_fips=[36061, 36061, 25025])
    frame.to_excel(tmp_path / "n.xlsx", index=False)
    accounts = load_accounts(tmp_path / "n.xlsx")
    assert accounts["account_id"].tolist() == ["123", "124", "125"]
    assert accounts["zip"].tolist() == ["10001", "10007", "02108"]


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_spatial_points_give_coordinates(tmp_path, frame, suffix):
    points = gpd.GeoDataFrame(
        frame.drop(columns=["latitude", "longitude"]),
        geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs="EPSG:4326")
    path = tmp_path / f"a{suffix}"
    with warnings.catch_warnings():  # the shapefile cuts long names to 10 characters
        warnings.simplefilter("ignore")
        points.to_file(path)
    check_standard(load_accounts(path))


def test_projected_points_are_converted_to_degrees():
    points = gpd.GeoDataFrame({"account_id": ["P"]}, geometry=[Point(2.3522, 48.8566)], crs="EPSG:4326")
    accounts = load_accounts(points.to_crs("EPSG:3857"))
    assert accounts[["latitude", "longitude"]].round(4).values.tolist() == [[48.8566, 2.3522]]
    assert "geometry" not in accounts


# ---------------------------------------------------------------- columns
def test_column_mapping_and_keyword_names(frame):
    theirs = frame.rename(columns={"account_id": "Acct", "latitude": "Lat", "longitude": "Lng",
                                   "zip": "Postal", "current_territory": "Terr"})
    accounts = load_accounts(theirs, columns={"Acct": "account_id"}, lat_col="Lat", lon_col="Lng",
                             zip_col="Postal", territory_col="Terr")
    check_standard(accounts)


def test_standard_names_in_other_case_are_recognised(frame):
    accounts, report = load_accounts(frame.rename(columns={"account_id": "Account ID", "latitude": "Latitude"}),
                                     return_report=True)
    check_standard(accounts)
    assert any("'Account ID' as 'account_id'" in w for w in report.warnings)


def test_metrics_default_explicit_and_extra_columns_kept(frame):
    assert load_accounts(frame, return_report=True)[1].metrics == ("workload", "revenue")
    accounts, report = load_accounts(frame.assign(calls="7"), metrics=["calls"], return_report=True)
    assert report.metrics == ("calls",)
    assert accounts["calls"].dtype == "float64"
    assert accounts["name"].tolist() == ["Acme", "Bolt", "Crane"]


def test_thousands_separators_are_read_and_reported(frame):
    accounts, report = load_accounts(frame.assign(revenue=["1,000", "2,000", "3,000"]), return_report=True)
    assert accounts["revenue"].tolist() == [1000.0, 2000.0, 3000.0]
    assert any("'1,000' -> 1000" in w for w in report.warnings)


def test_semicolon_file_with_decimal_commas(tmp_path):
    text = "account_id;latitude;longitude;revenue\nB1;52,5200;13,4050;1.234,5\nB2;48,1351;11,5820;10\n"
    accounts = load_accounts(write(tmp_path / "berlin.csv", text))
    assert accounts["latitude"].tolist() == [52.52, 48.1351]
    assert accounts["revenue"].tolist() == [1234.5, 10.0]


def test_accounts_anywhere_on_the_globe():
    frame = pd.DataFrame({"account_id": ["SYD", "MEL", "OSL", "LIM"],
                          "latitude": [-33.87, -37.81, 59.91, -12.05],
                          "longitude": [151.21, 144.96, 10.75, -77.04]})
    accounts = load_accounts(frame)
    assert accounts["latitude"].tolist() == [-33.87, -37.81, 59.91, -12.05]


# ---------------------------------------------------------------- geocoding and reports
def test_zip_geocoding_with_injected_table(tmp_path):
    text = ("account_id,latitude,longitude,zip\n"
            "G1,,,10001\n"          # placed at the ZIP point
            "G2,,,02108-1234\n"     # ZIP+4 accepted
            "G3,40.0,-75.0,10007\n"  # has coordinates: kept as given
            "G4,,,501\n")           # 3-digit ZIP with lost leading zeros
    accounts, report = load_accounts(write(tmp_path / "g.csv", text), zip_table=ZIPS, return_report=True)
    assert accounts["latitude"].tolist() == [40.7506, 42.3576, 40.0, 40.8154]
    assert accounts["geocoded_from_zip"].tolist() == [True, True, False, True]
    assert accounts["zip"].tolist() == ["10001", "02108", "10007", "00501"]
    assert report.geocoded == ("G1", "G2", "G4")
    assert "Placed 3 at their ZIP point" in report.summary()


def test_exclude_reports_every_row_with_line_and_reason(tmp_path):
    text = ("account_id,latitude,longitude,workload\n"
            "E1,40.7,-74.0,1\n"
            "E2,abc,-74.0,1\n"       # line 3
            "E1,40.8,-74.1,1\n"      # line 4: duplicate
            "E4,40.7,-74.0,-2\n"     # line 5: negative
            "\n"                      # line 6 blank: skipped, not counted
            "E5,0,0,1\n"             # line 7: null island
            "E6,40.6,-73.9,2\n")
    accounts, report = load_accounts(write(tmp_path / "e.csv", text), on_invalid="exclude", return_report=True)
    assert isinstance(report, LoadReport)
    assert accounts["account_id"].tolist() == ["E1", "E6"]
    assert (report.n_rows_read, report.n_loaded, report.n_excluded) == (6, 2, 4)
    excluded = report.excluded
    assert excluded.columns.tolist() == ["line", "account_id", "column", "reason"]
    assert excluded["line"].tolist() == [3, 4, 5, 7]
    assert excluded["account_id"].tolist() == ["E2", "E1", "E4", "E5"]
    assert excluded["column"].tolist() == ["latitude", "account_id", "workload", "latitude"]
    assert "not a number: 'abc'" in excluded["reason"][0]
    assert "first on line 2" in excluded["reason"][1]
    assert "negative" in excluded["reason"][2]
    assert "null island" in excluded["reason"][3]
    summary = report.summary()
    assert summary.startswith("Loaded 2 of 6 rows from e.csv")
    assert "line 3, E2, column 'latitude'" in summary


def test_unknown_territories_excluded_and_unassigned_warned(frame):
    frame = frame.assign(current_territory=["T01", "T09", None])
    accounts, report = load_accounts(frame, valid_territories=["T01", "T02"], on_invalid="exclude",
                                     return_report=True)
    assert accounts["account_id"].tolist() == ["00123", "00125"]
    assert report.excluded["reason"].tolist() == ["unknown territory id: 'T09'"]
    assert any("1 accounts have no 'current_territory'" in w for w in report.warnings)


def test_chunked_read_with_progress_matches_plain_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_source, "CHUNK_ROWS", 2)
    path = write(tmp_path / "a.csv", CSV)
    pd.testing.assert_frame_equal(load_accounts(path, progress=True), load_accounts(path))


def test_normalise_zip():
    assert normalise_zip(pd.Series(["501", "02108-1234", " 10001 ", "10001.0", "ABCDE", None])).tolist() == [
        "00501", "02108", "10001", "10001", np.nan, np.nan]


# ---------------------------------------------------------------- reps
def test_load_reps(tmp_path):
    text = ("Rep,name,latitude,longitude,territory_id,home_city,capacity_hours\n"
            "007,Ann,-33.87,151.21,T01,Sydney,1600\n"
            "008,,-37.81,144.96,T02,Melbourne,\n")
    reps, report = load_reps(write(tmp_path / "reps.csv", text), id_col="Rep", return_report=True)
    assert reps["rep_id"].tolist() == ["007", "008"]
    assert reps["name"].tolist() == ["Ann", "008"]  # missing name falls back to the id
    assert reps["capacity_hours"].tolist()[0] == 1600.0 and np.isnan(reps["capacity_hours"].iloc[1])
    assert reps["territory_id"].tolist() == ["T01", "T02"]
    assert report.n_loaded == 2 and report.excluded.empty


def test_load_reps_exclude_keeps_the_rest():
    frame = pd.DataFrame({"rep_id": ["R1", "R1", "R3"], "latitude": [1.0, 2.0, 3.0],
                          "longitude": [1.0, 2.0, 3.0], "capacity_hours": [10, 10, 0]})
    reps, report = load_reps(frame, on_invalid="exclude", return_report=True)
    assert reps["rep_id"].tolist() == ["R1"]
    assert report.excluded["rep_id"].tolist() == ["R1", "R3"]
    assert "must be positive" in report.excluded["reason"][1]


# ---------------------------------------------------------------- blocks
SQUARES = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
BOW_TIE = Polygon([(2, 0), (3, 1), (3, 0), (2, 1)])  # self-intersecting: two triangles


def test_blocks_from_geopackage_with_bow_tie_repaired(tmp_path):
    gdf = gpd.GeoDataFrame({"code": [1, 2, 3], "name": ["a", "b", "c"]},
                           geometry=[*SQUARES, BOW_TIE], crs="EPSG:4326")
    gdf.to_file(tmp_path / "b.gpkg", layer="blocks")
    with pytest.warns(UserWarning, match=r"repaired 1 invalid shapes.*blocks 3"):
        blocks, report = load_blocks(tmp_path / "b.gpkg", "code", return_report=True)
    assert blocks.columns.tolist() == ["block_id", "code", "name", "geometry"]
    assert blocks["block_id"].tolist() == ["1", "2", "3"]
    assert blocks.crs == "EPSG:4326"
    assert blocks.is_valid.all()
    assert blocks.geometry[2].geom_type == "MultiPolygon"
    assert blocks.geometry[2].area == pytest.approx(0.5)  # both triangles kept
    assert report.n_loaded == 3


def test_blocks_reprojected_from_web_mercator():
    gdf = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=SQUARES, crs="EPSG:4326").to_crs("EPSG:3857")
    blocks = load_blocks(gdf, "id")
    assert blocks.crs == "EPSG:4326"
    assert blocks.total_bounds.round(6).tolist() == [0.0, 0.0, 2.0, 1.0]


def test_blocks_without_crs_in_degrees_are_assumed_wgs84(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=SQUARES)
    with pytest.warns(UserWarning, match="no CRS.*EPSG:4326"):
        blocks = load_blocks(gdf, "id")
    assert blocks.crs == "EPSG:4326"


def test_blocks_from_topojson_layer(tmp_path):
    topo = ('{"type":"Topology","objects":{"counties":{"type":"GeometryCollection","geometries":['
            '{"type":"Polygon","arcs":[[0]],"id":"01001"}]},'
            '"nation":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[0]]}]}},'
            '"arcs":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}')
    path = write(tmp_path / "t.topojson", topo)
    with pytest.warns(UserWarning, match="no CRS"):
        blocks = load_blocks(path, "id", layer="counties")
    assert blocks["block_id"].tolist() == ["01001"]


def test_exclude_empty_block_is_reported():
    gdf = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=[SQUARES[0], Polygon()], crs="EPSG:4326")
    blocks, report = load_blocks(gdf, "id", on_invalid="exclude", return_report=True)
    assert blocks["block_id"].tolist() == ["A"]
    assert report.excluded[["block_id", "reason"]].values.tolist() == [["B", "geometry is empty"]]


def test_check_blocks_cover():
    blocks = load_blocks(gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=SQUARES, crs="EPSG:4326"), "id")
    accounts = pd.DataFrame({"account_id": ["x", "y", "z"], "block": ["A", "B", "B"]})
    assert check_blocks_cover(accounts, blocks, "block") is None
    accounts.loc[2, "block"] = "Q"
    with pytest.raises(InputError, match=r"1 account has a 'block' that is not among the 2 blocks: z \('Q'\)"):
        check_blocks_cover(accounts, blocks, "block")


def test_zip_only_file_and_text_codes_that_look_missing(tmp_path):
    text = "account_id,zip,state,workload\nNA,10001,NA,1\nNULL,02108,MA,NA\n"
    accounts, report = load_accounts(write(tmp_path / "z.csv", text), zip_table=ZIPS, on_invalid="exclude",
                                     return_report=True)
    assert accounts["account_id"].tolist() == ["NA"]  # an id "NA" is an id, not a missing value
    assert accounts["state"].tolist() == ["NA"]
    assert accounts[["latitude", "longitude"]].values.tolist() == [[40.7506, -73.9972]]
    assert report.excluded[["account_id", "reason"]].values.tolist() == [["NULL", "workload is missing"]]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-59.9, 84.9), st.floats(-180, 180), st.integers(0, 99999)),
                min_size=1, max_size=8))
def test_csv_round_trip_keeps_coordinates_and_ids(rows):
    """Whatever valid coordinates and zero-padded ids go in come back out unchanged."""
    import io as _io

    frame = pd.DataFrame({"account_id": [f"{i:05d}" for i in range(len(rows))],
                          "latitude": [r[0] for r in rows], "longitude": [r[1] for r in rows],
                          "zip": [f"{r[2]:05d}" for r in rows]})
    frame = frame[(frame["latitude"] != 0) | (frame["longitude"] != 0)]  # (0, 0) is refused on purpose
    if frame.empty:
        return
    buffer = _io.StringIO()
    frame.to_csv(buffer, index=False)
    accounts = load_accounts(pd.read_csv(_io.StringIO(buffer.getvalue()), dtype=str))
    assert accounts["account_id"].tolist() == frame["account_id"].tolist()
    assert accounts["zip"].tolist() == frame["zip"].tolist()
    np.testing.assert_array_equal(accounts["latitude"], frame["latitude"].to_numpy())
    np.testing.assert_array_equal(accounts["longitude"], frame["longitude"].to_numpy())


def test_explicit_territory_column_wins_and_the_files_own_is_kept_aside(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,latitude,longitude,workload,current_territory,proposal\n"
                    "A1,40.7,-74.0,1,T1,P9\n")
    frame, report = load_accounts(path, territory_col="proposal", return_report=True)
    assert frame.loc[0, "current_territory"] == "P9"
    assert frame.loc[0, "current_territory_in_file"] == "T1"
    assert any("current_territory_in_file" in w for w in report.warnings)


def test_an_explicitly_named_column_that_is_absent_never_falls_back(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,latitude,longitude,workload,current_territory\nA1,40.7,-74.0,1,T1\n")
    with pytest.raises(InputError, match=r"accounts\.csv: missing the accounts column 'region'.*--territory-col"):
        load_accounts(path, territory_col="region")
