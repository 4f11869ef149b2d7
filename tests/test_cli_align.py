"""``workbench align`` on tiny CSV files: exact output, one-line errors with exit code 2."""

import pandas as pd
import pytest

from workbench.cli import main

ACCOUNTS = """account_id,latitude,longitude,workload,revenue,current_territory,locked
a1,40.0,-100.0,1,10,A,false
a2,40.0,-99.9,1,10,A,false
a3,40.0,-99.1,1,10,A,true
a4,40.0,-99.0,1,10,B,false
"""
REPS = """rep_id,latitude,longitude,capacity_hours
west,40.0,-100.0,1000
east,40.0,-99.0,1000
"""


@pytest.fixture
def files(tmp_path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(ACCOUNTS)
    reps = tmp_path / "reps.csv"
    reps.write_text(REPS)
    return accounts, reps, tmp_path


def read_out(path):
    return pd.read_csv(path, dtype=str)


def test_kmeans_output_exact_columns_rows_and_order(files, capsys):
    accounts, _, tmp = files
    out = tmp / "out.csv"
    assert main(["align", str(accounts), "--territories", "2", "--out", str(out), "--seed", "3"]) == 0
    frame = read_out(out)
    assert frame.columns.tolist() == ["account_id", "territory_id"]
    assert frame["account_id"].tolist() == ["a1", "a2", "a3", "a4"]
    assert frame["territory_id"].nunique() == 2
    assert frame["territory_id"][0] == frame["territory_id"][1] != frame["territory_id"][3]
    printed = capsys.readouterr().out
    assert "method: kmeans" in printed and "compactness" in printed and "seconds" in printed


def test_json_of_a_fresh_fit_names_the_territories_written_to_out(files, capsys):
    # No --current: the fit's ids (T001...) are renamed after the current territories in --out; the JSON
    # report must speak of the same ids, with the same accounts and workload per territory.
    import json

    accounts, _, tmp = files
    out = tmp / "out.csv"
    assert main(["align", str(accounts), "--territories", "2", "--out", str(out), "--seed", "3", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    written = read_out(out)
    rows = {row["territory_id"]: row for row in payload["report"]["territories"]}
    assert sorted(rows) == sorted(written["territory_id"].unique()) == ["A", "B"]
    for territory, group in written.groupby("territory_id"):
        assert rows[territory]["accounts"] == len(group)


def test_balanced_two_metrics(files, capsys):
    accounts, _, tmp = files
    out = tmp / "out.csv"
    assert main(["align", str(accounts), "--territories", "2", "--balance-on", "workload,revenue",
                 "--out", str(out)]) == 0
    assert read_out(out)["territory_id"].value_counts().tolist() == [2, 2]
    printed = capsys.readouterr().out
    assert "max deviation workload: 0.0%" in printed and "max deviation revenue: 0.0%" in printed


def test_realignment_keeps_ids_locks_and_reports_movement(files, capsys):
    accounts, _, tmp = files
    out = tmp / "out.csv"
    assert main(["align", str(accounts), "--current", "current_territory", "--lock-col", "locked",
                 "--out", str(out)]) == 0
    # a3 is locked in A, so a2 (the next A account) moves to B instead
    assert read_out(out)["territory_id"].tolist() == ["A", "B", "A", "B"]
    printed = capsys.readouterr().out
    assert "moved: 25.0% of workload (1 account)" in printed
    assert "lower bound (any territory may take from any other): 22.5% of workload; moved 1.11x that" in printed
    assert "lower bound (moves only between bordering territories): 22.5% of workload; moved 1.11x that" in printed


def test_reps_give_ids(files):
    accounts, reps, tmp = files
    out = tmp / "out.csv"
    assert main(["align", str(accounts), "--reps", str(reps), "--out", str(out)]) == 0
    assert read_out(out)["territory_id"].tolist() == ["west", "west", "east", "east"]


@pytest.mark.parametrize("args, message", [
    ([], "--territories N is required unless --reps or --current"),
    (["--territories", "0"], "--territories must be a positive number, got 0"),
    (["--territories", "-2"], "--territories must be a positive number, got -2"),
    (["--territories", "5"], "--territories 5 is more than the 4 accounts"),
    (["--territories", "2", "--balance-on", "nope"], "nope"),
    (["--territories", "2", "--lock-col", "locked"], "--lock-col locked needs --current"),
    (["--territories", "2", "--blocks", "x.gpkg"], "--blocks x.gpkg needs --block-col naming the block id column"),
    (["--territories", "2", "--objective", "median"], "--objective median needs --blocks FILE"),
])
def test_bad_input_one_line_error_exit_2(files, capsys, args, message):
    accounts, _, tmp = files
    out = tmp / "out.csv"
    assert main(["align", str(accounts), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_missing_current_column_is_an_error(tmp_path, capsys):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,latitude,longitude,workload\na1,40,-100,1\na2,41,-100,1\n")
    out = tmp_path / "out.csv"
    assert main(["align", str(accounts), "--current", "region", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "region" in err
    assert not out.exists()


def test_blocks_give_contiguous_territories(tmp_path, capsys):
    import geopandas as gpd
    from shapely.geometry import box

    blocks = gpd.GeoDataFrame({"fips": ["01", "02", "03", "04"]},
                              geometry=[box(-100, 40, -99.5, 40.5), box(-99.5, 40, -99, 40.5),
                                        box(-99, 40, -98.5, 40.5), box(-98.5, 40, -98, 40.5)], crs="EPSG:4326")
    blocks_path = tmp_path / "blocks.gpkg"
    blocks.to_file(blocks_path, layer="blocks")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,latitude,longitude,workload,fips\n"
                        "a1,40.2,-99.8,1,01\na2,40.2,-99.2,1,02\na3,40.2,-98.8,1,03\na4,40.2,-98.2,1,04\n")
    out = tmp_path / "out.csv"
    assert main(["align", str(accounts), "--territories", "2", "--blocks", str(blocks_path),
                 "--block-col", "fips", "--out", str(out)]) == 0
    labels = read_out(out)["territory_id"].tolist()
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert "contiguous: yes" in capsys.readouterr().out
    assert main(["align", str(accounts), "--territories", "2", "--blocks", str(blocks_path), "--block-col", "fips",
                 "--objective", "median", "--out", str(out)]) == 0
    assert read_out(out)["territory_id"].tolist() == labels
    assert "dispersion (median)" in capsys.readouterr().out
