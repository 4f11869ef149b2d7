"""A catalogue of bad inputs: each must fail with a message naming the file, the column and the fix.

Each entry is (name, builder, expected patterns). The builder writes a tiny bad
file into ``tmp_path`` and returns a callable that loads it; every pattern must
be found (``re.search``) in the message of the :class:`InputError` raised.
"""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from shapely import LineString, Point, Polygon, box

from workbench.errors import InputError
from workbench.io import check_blocks_cover, load_accounts, load_blocks, load_reps

GOOD = "account_id,latitude,longitude,workload\nA1,40.75,-73.99,1\nA2,40.71,-74.01,2\nA3,42.36,-71.06,3\n"
ZIPS = pd.DataFrame({"zip": ["10001"], "latitude": [40.75], "longitude": [-73.99]})
REPS = "rep_id,name,latitude,longitude,capacity_hours\nR1,Ann,40.7,-74.0,1600\nR2,Bob,42.3,-71.0,1600\n"
SQUARES = [box(0, 0, 1, 1), box(1, 0, 2, 1)]


def text(name, content, loader=load_accounts, file_encoding="utf-8", **kwargs):
    """Builder: write ``content`` to ``name`` and load it with ``loader(path, **kwargs)``."""
    def build(tmp_path):
        path = tmp_path / name
        path.write_bytes(content.encode(file_encoding) if isinstance(content, str) else content)
        return lambda: loader(path, **kwargs)
    return build


def accounts(*rows, header="account_id,latitude,longitude,workload", name="accounts.csv", **kwargs):
    return text(name, header + "\n" + "\n".join(rows) + "\n", **kwargs)


def spatial(name, gdf, loader=load_blocks, layer=None, **kwargs):
    def build(tmp_path):
        path = tmp_path / name
        with warnings.catch_warnings():  # writing a layer without CRS warns; that is the point
            warnings.simplefilter("ignore")
            if isinstance(gdf, list):
                for layer_name, frame in gdf:
                    frame.to_file(path, layer=layer_name)
            else:
                gdf.to_file(path)
        return lambda: loader(path, **kwargs)
    return build


def excel(name, frame, **kwargs):
    def build(tmp_path):
        path = tmp_path / name
        frame.to_excel(path, index=False, sheet_name="Data")
        return lambda: load_accounts(path, **kwargs)
    return build


def blocks_frame(ids, geometry, crs="EPSG:4326"):
    return gpd.GeoDataFrame({"fips": ids}, geometry=geometry, crs=crs)


CATALOGUE = [
    # ---- accounts: the file itself
    ("empty file", text("accounts.csv", ""), [r"accounts\.csv is empty", r"header"]),
    ("header only", text("accounts.csv", "account_id,latitude,longitude\n"),
     [r"accounts\.csv has a header", r"no data rows", r"Fix: export"]),
    # (without encoding= a file that is not UTF-8 loads as cp1252/latin-1 with a warning: tests/test_io.py)
    ("not the encoding passed", text("accounts.csv", "account_id,name,latitude,longitude\nA1,Café,1,2\n",
                                     file_encoding="cp1252", encoding="utf-8"),
     [r"accounts\.csv: cannot decode the file as 'utf-8', the encoding you passed", r"line 2",
      r"re-save it as UTF-8", r"encoding='cp1252'"]),
    ("unknown encoding name", text("accounts.csv", GOOD, encoding="klingon"),
     [r"accounts\.csv: unknown encoding 'klingon'", r"Fix: pass a Python codec"]),
    ("unsupported extension", text("accounts.docx", GOOD),
     [r"accounts\.docx: unsupported file type '\.docx'", r"Fix: save it as one of CSV"]),
    ("old excel", text("accounts.xls", b"\xd0\xcf\x11\xe0"), [r"accounts\.xls: old Excel", r"save as \.xlsx"]),
    ("truncated gzip", text("accounts.csv.gz", __import__("gzip").compress(GOOD.encode())[:30]),
     [r"accounts\.csv\.gz: cannot read the file", r"Fix: check it is not truncated"]),
    ("not really excel", text("accounts.xlsx", GOOD),
     [r"accounts\.xlsx: cannot open as an Excel workbook", r"Fix: open and re-save it in Excel"]),
    ("excel bad latitude", excel("accounts.xlsx", pd.DataFrame({"account_id": ["A1", "A2"], "latitude": [40.7, "N40"],
                                                               "longitude": [-74.0, -74.0]})),
     [r"accounts\.xlsx: column 'latitude': latitude is not a number on 1 row: row 3 \('N40'\)",
      r"Fix: write decimal degrees"]),
    ("ragged csv", accounts("A1,40.7,-74.0,1", "A2,40.7,-74.0,1,9,9"),
     [r"accounts\.csv: cannot parse as a comma-separated file", r"line 3", r"Fix: check that every line"]),
    ("missing excel sheet", excel("accounts.xlsx", pd.read_csv(pd.io.common.StringIO(GOOD)), sheet="Accounts"),
     [r"accounts\.xlsx: no sheet 'Accounts'; sheets are \['Data'\]", r"Fix: pass sheet="]),
    # ---- accounts: columns
    ("missing id column", accounts("A1,40.7,-74.0,1", header="acct,latitude,longitude,workload"),
     [r"accounts\.csv: missing the accounts column 'account_id'", r"Did you mean 'acct'",
      r"columns=\{'acct': 'account_id'\}", r"--id-col acct"]),
    ("columns= names an absent column", accounts("A1,40.7,-74.0,1", columns={"Acct": "account_id"}),
     [r"accounts\.csv: columns= maps 'Acct' to 'account_id', but there is no column 'Acct'",
      r"Did you mean 'account_id'", r"Fix: correct the name in columns="]),
    ("no coordinates and no zip column", accounts("A1,1", header="account_id,workload"),
     [r"accounts\.csv: missing the accounts column 'latitude'", r"--lat-col", r"or a zip column"]),
    ("lat without lon", accounts("A1,40.7,1", header="account_id,latitude,workload"),
     [r"accounts\.csv: missing the accounts column 'longitude'", r"--lon-col"]),
    ("metric not in file", accounts("A1,40.7,-74.0,1", metrics=["revenue"]),
     [r"accounts\.csv: missing the metric column 'revenue'", r"metrics= with an existing column", r"--metrics"]),
    ("territory column not in file", accounts("A1,40.7,-74.0,1", territory_col="territory"),
     [r"accounts\.csv: missing the accounts column 'territory'", r"--territory-col"]),
    # ---- accounts: ids
    ("missing ids", accounts("A1,40.7,-74.0,1", ",40.7,-74.0,1"),
     [r"accounts\.csv: column 'account_id': missing account id on 1 line: line 3", r"Fix: give every row"]),
    ("duplicate ids", accounts("A1,40.7,-74.0,1", "A2,40.7,-74.0,1", "A1,40.8,-74.0,1"),
     [r"accounts\.csv: column 'account_id': 1 duplicate account id: 'A1' \(lines 2, 4\)", r"Fix: make the ids unique"]),
    # ---- accounts: coordinates
    ("latitude not a number", accounts("A1,40.7,-74.0,1", "A2,40°42'N,-74.0,1"),
     [r"accounts\.csv: column 'latitude': latitude is not a number on 1 line: line 3 \(\"40°42'N\"\)",
      r"Fix: write decimal degrees"]),
    ("longitude not a number in a mapped column", accounts("A1,40.7,x,1", header="account_id,latitude,LNG,workload",
                                                           lon_col="LNG"),
     [r"accounts\.csv: column 'LNG': longitude is not a number on 1 line: line 2 \('x'\)", r"Fix:"]),
    ("latitude out of range", accounts("A1,40.7,-74.0,1", "A2,95.5,-74.0,1", "A3,41,-73,1"),
     [r"accounts\.csv: column 'latitude': latitude outside \[-90, 90\] on 1 line: line 3 \(95\.5\)",
      r"Fix: correct these values"]),
    ("longitude out of range", accounts("A1,40.7,-74.0,1", "A2,40.7,-190.0,1"),
     [r"accounts\.csv: column 'longitude': longitude outside \[-180, 180\] on 1 line: line 3 \(-190\)",
      r"Fix: correct"]),
    ("projected metres in degree columns", accounts("A1,4512345.5,512345.1,1", "A2,4512000,512000,1"),
     [r"accounts\.csv: column 'latitude': latitude outside \[-90, 90\] on 2 lines: line 2 \(4512345\.5\), line 3 \(4512000\)",
      r"projected coordinates \(metres\)", r"to_crs\('EPSG:4326'\)"]),
    ("lat and lon swapped", accounts("A1,-74.0,40.7,1", "A2,-71.0,42.3,1", "A3,-87.6,41.9,1"),
     [r"accounts\.csv: latitude and longitude look swapped: 3 of 3 rows", r"line 2: latitude=-74, longitude=40\.7",
      r"lat_col='longitude', lon_col='latitude'"]),
    ("null island", accounts("A1,40.7,-74.0,1", "A2,0,0,1"),
     [r"accounts\.csv: column 'latitude': coordinates are \(0, 0\) \('null island'", r"line 3",
      r"leave both cells empty"]),
    ("half coordinates", accounts("A1,40.7,,1"),
     [r"accounts\.csv: column 'longitude': longitude is missing but latitude is given on 1 line: line 2",
      r"Fix: fill in the longitude"]),
    ("no coordinates, no zip column", accounts("A1,,,1"),
     [r"accounts\.csv: column 'latitude': no coordinates on 1 line: line 2", r"there is no 'zip' column"]),
    ("no coordinates, empty zip", accounts("A1,,,,1", header="account_id,latitude,longitude,zip,workload",
                                           zip_table=ZIPS),
     [r"accounts\.csv: column 'latitude': no coordinates and no ZIP on 1 line: line 2", r"5-digit US ZIP"]),
    ("no coordinates, unknown zip", accounts("A1,,,99999,1", header="account_id,latitude,longitude,zip,workload",
                                             zip_table=ZIPS),
     [r"accounts\.csv: column 'zip': no coordinates and the ZIP is not in the ZIP table on 1 line: "
      r"line 2 \('99999'\)", r"Fix: fill in latitude and longitude, or correct the ZIP"]),
    ("no coordinates, foreign postcode", accounts("A1,,,SW1A 1AA,1",
                                                  header="account_id,latitude,longitude,postcode,workload",
                                                  zip_col="postcode", zip_table=ZIPS),
     [r"accounts\.csv: column 'postcode': no coordinates and the ZIP is not a US ZIP code on 1 line: line 2 "
      r"\('SW1A 1AA'\)", r"US 5-digit ZIPs only"]),
    # ---- accounts: metrics and territories
    ("negative metric", accounts("A1,40.7,-74.0,1", "A2,40.7,-74.0,-3"),
     [r"accounts\.csv: column 'workload': workload is negative on 1 line: line 3 \(-3\)", r"Fix: correct the sign"]),
    ("missing metric", accounts("A1,40.7,-74.0,1", "A2,40.7,-74.0,"),
     [r"accounts\.csv: column 'workload': workload is missing on 1 line: line 3", r"0 if the account has none"]),
    ("metric with units", accounts("A1,40.7,-74.0,$12k", "A2,40.7,-74.0,n/a2"),
     [r"accounts\.csv: column 'workload': workload is not a number on 2 lines: line 2 \('\$12k'\), line 3",
      r"no units or currency signs"]),
    ("unknown territory", accounts("A1,40.7,-74.0,1,T01", "A2,40.7,-74.0,1,T99",
                                   header="account_id,latitude,longitude,workload,current_territory",
                                   valid_territories=["T01", "T02"]),
     [r"accounts\.csv: column 'current_territory': unknown territory id on 1 line: line 3 \('T99'\)",
      r"known: T01, T02"]),
    ("every row invalid", accounts("A1,abc,-74.0,1", "A2,,x,1", on_invalid="exclude"),
     [r"accounts\.csv: all 2 accounts are invalid", r"not a number", r"Fix: check the column mapping"]),
    # ---- reps
    ("reps missing coordinates column", text("reps.csv", "rep_id,name,latitude\nR1,Ann,40\n", loader=load_reps),
     [r"reps\.csv: missing the reps column 'longitude'", r"Fix: rename the column"]),
    ("reps duplicate ids", text("reps.csv", REPS + "R1,Cy,41,-72,1600\n", loader=load_reps),
     [r"reps\.csv: column 'rep_id': 1 duplicate rep id: 'R1' \(lines 2, 4\)", r"Fix: make the ids unique"]),
    ("reps capacity zero", text("reps.csv", REPS + "R3,Cy,41,-72,0\n", loader=load_reps),
     [r"reps\.csv: column 'capacity_hours': capacity must be positive on 1 line: line 4 \(0\)",
      r"Fix: use a number above 0"]),
    ("reps capacity text", text("reps.csv", REPS + "R3,Cy,41,-72,full time\n", loader=load_reps),
     [r"reps\.csv: column 'capacity_hours': capacity is not a number on 1 line: line 4 \('full time'\)",
      r"Fix: use plain numbers"]),
    ("reps without home", text("reps.csv", REPS + "R3,Cy,,,1600\n", loader=load_reps),
     [r"reps\.csv: column 'latitude': rep has no home coordinates on 1 line: line 4", r"Fix: fill in"]),
    # ---- blocks
    ("blocks id column missing", spatial("blocks.gpkg", blocks_frame(["1", "2"], SQUARES), id_col="FIPS_CODE"),
     [r"blocks\.gpkg: missing the block id column 'FIPS_CODE'", r"Did you mean 'fips'", r"Fix: pass id_col="]),
    ("blocks duplicate ids", spatial("blocks.geojson", blocks_frame(["1", "1"], SQUARES), id_col="fips"),
     [r"blocks\.geojson: column 'fips': 1 duplicate block id: '1' \(rows 1, 2\)", r"Fix: make the ids unique"]),
    ("blocks are points", spatial("blocks.gpkg", blocks_frame(["1", "2"], [Point(0, 0), LineString([(0, 0), (1, 1)])]),
                                  id_col="fips"),
     [r"blocks\.gpkg: column 'geometry': geometry is not a polygon on 2 rows: row 1 \(\"block '1': Point\"\)",
      r"Fix: pass the polygon layer"]),
    ("blocks missing geometry", spatial("blocks.gpkg", blocks_frame(["1", "2"], [SQUARES[0], None]), id_col="fips"),
     [r"blocks\.gpkg: column 'geometry': block has no geometry on 1 row: row 2 \(\"block '2'\"\)",
      r"Fix: draw the shape"]),
    ("blocks empty geometry", spatial("blocks.geojson", blocks_frame(["1", "2"], [SQUARES[0], Polygon()]),
                                      id_col="fips"),
     [r"blocks\.geojson: column 'geometry': .* on 1 row: row 2", r"Fix: "]),
    ("blocks collapsed shape", spatial("blocks.gpkg", blocks_frame(["1", "2"], [
        SQUARES[0], Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])]), id_col="fips"),
     [r"blocks\.gpkg: column 'geometry': shape is invalid and nothing polygonal is left after repair on 1 row: "
      r"row 2 \('2'\)", r"Fix: redraw the shape"]),
    ("blocks projected without CRS", spatial("blocks.gpkg", blocks_frame(
        ["1", "2"], [box(500000, 4000000, 510000, 4010000), box(510000, 4000000, 520000, 4010000)], crs=None),
        id_col="fips"),
     [r"blocks\.gpkg has no CRS", r"x 500000 to 520000", r"Fix: set the CRS"]),
    ("blocks in a CSV", text("blocks.csv", "fips,wkt\n1,POLYGON EMPTY\n", loader=load_blocks, id_col="fips"),
     [r"blocks\.csv: blocks need polygons", r"Fix: pass a GeoPackage"]),
    ("blocks layer not chosen", spatial("blocks.gpkg", [("counties", blocks_frame(["1", "2"], SQUARES)),
                                                        ("states", blocks_frame(["9"], [SQUARES[0]]))], id_col="fips"),
     [r"blocks\.gpkg has 2 layers \(counties, states\)", r"Fix: pass layer="]),
]


@pytest.mark.parametrize("name, build, patterns", CATALOGUE, ids=[entry[0] for entry in CATALOGUE])
def test_bad_input_message(tmp_path, name, build, patterns):
    load = build(tmp_path)
    with pytest.raises(InputError) as info:
        load()
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    assert "Fix" in message or "fix" in message, message


def test_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 20


def test_messages_for_frames_name_the_dataframe_and_index_labels():
    frame = pd.DataFrame({"account_id": ["A", "B"], "latitude": [40.7, "north"], "longitude": [-74.0, -74.0]},
                         index=[10, 20])
    with pytest.raises(InputError, match=r"^the DataFrame: column 'latitude': latitude is not a number on 1 row: "
                                         r"row 20 \('north'\)"):
        load_accounts(frame)


def test_only_first_five_rows_are_listed(tmp_path):
    rows = [f"A{i},x,-74,1" for i in range(8)]
    path = tmp_path / "many.csv"
    path.write_text("account_id,latitude,longitude,workload\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=r"on 8 lines: line 2 \('x'\), line 3 .* line 6 \('x'\) and 3 more\."):
        load_accounts(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"accounts file not found: .*nope\.csv"):
        load_accounts(tmp_path / "nope.csv")


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: load_accounts(42), TypeError, "file path or a pandas DataFrame, got int"),
    (lambda: load_accounts(pd.DataFrame({"a": [1]}), on_invalid="drop"), ValueError, "'raise' or 'exclude', got 'drop'"),
    (lambda: load_accounts(pd.DataFrame({"a": [1]}), columns=["a"]), TypeError, "columns must be a dict"),
    (lambda: load_blocks(pd.DataFrame({"id": [1]}), "id"), TypeError, "must be a GeoDataFrame"),
])
def test_wrong_argument_types(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_blocks_cover_lists_missing_blocks():
    blocks = load_blocks(blocks_frame(["01001"], [SQUARES[0]]), "fips")
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"], "county_fips": ["01001", None, "99999"]})
    with pytest.raises(InputError, match=r"2 accounts have a 'county_fips' that is not among the 1 blocks: "
                                         r"B \(empty\), C \('99999'\)\. Fix: add the missing blocks"):
        check_blocks_cover(accounts, blocks, "county_fips")
    with pytest.raises(InputError, match=r"no column 'county' .* Did you mean 'county_fips'"):
        check_blocks_cover(accounts, blocks, "county")
