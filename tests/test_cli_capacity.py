"""``workbench capacity``: the JSON contract, the table for people, one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.test_capacity import grid, reps_at_centres
from workbench.cli import main


@pytest.fixture
def files(tmp_path):
    accounts = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 1600}).rename(columns={"current_territory": "terr"})
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    reps_at_centres().to_csv(tmp_path / "reps.csv", index=False)
    return tmp_path / "accounts.csv", tmp_path / "reps.csv"


def test_json_contract(files, capsys):
    accounts, reps = files
    assert main(["capacity", str(accounts), "--current", "terr", "--reps", str(reps), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reps_needed"] == 5 and isinstance(data["reps_needed"], int)
    assert data["utilisation"] == pytest.approx(1.0)
    assert [(r["rep_id"], r["territory_id"], r["workload"], r["capacity_hours"]) for r in data["reps"]] == [
        ("R_SW", "SW", 800.0, 1000.0), ("R_SE", "SE", 800.0, 1000.0), ("R_NW", "NW", 800.0, 1000.0),
        ("R_NE", "NE", 1600.0, 1000.0)]
    assert [r["utilisation"] for r in data["reps"]] == pytest.approx([0.8, 0.8, 0.8, 1.6])
    (hire,) = data["hires"]
    assert hire["latitude"] > 1 and hire["longitude"] > 1 and list(hire["from_territories"]) == ["NE"]
    assert hire["workload"] == pytest.approx(750.0, abs=1.0)


def test_json_without_hires_when_the_team_has_room(files, tmp_path, capsys):
    accounts, reps = files
    assert main(["capacity", str(accounts), "--current", "terr", "--reps", str(reps), "--utilisation", "1",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reps_needed"] == 4 and data["hires"] == []


def test_plain_output_is_a_table_for_people(files, capsys):
    accounts, reps = files
    assert main(["capacity", str(accounts), "--current", "terr", "--reps", str(reps)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    assert ["R_NE", "NE", "NE", "25", "1,600", "h", "1,000", "h", "160.0%", "-600", "h", "over"] in rows
    assert "team: 4,000 h of work on 4,000 h of capacity = 100.0% utilised" in out
    assert "reps needed at 85.0%: 5 (4 today: hire 1)" in out
    assert "NEW01" in out and "NE 750 h" in out


@pytest.mark.parametrize("extra, match", [
    (["--utilisation", "85"], r"target must be a share .*CLI: --utilisation\), got 85\.0 \(did you mean 0.85\?\)"),
    (["--utilisation", "0"], r"target must be a share of the reps' hours in \(0, 1\] \(0.85 = 85%; CLI: --utilisation\)"),
    (["--balance-on", "hours"], "missing the metric column 'hours'"),
    (["--balance-on", "workload,revenue"], "names one workload column"),
    (["--new-rep-capacity", "-5"], r"new_rep_capacity \(hours per year of a new rep; CLI: --new-rep-capacity\) must be a positive"),
])
def test_bad_arguments_are_one_line_errors(files, capsys, extra, match):
    accounts, reps = files
    assert main(["capacity", str(accounts), "--current", "terr", "--reps", str(reps), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert __import__("re").search(match, err)


def test_reps_without_capacity_say_what_to_add(files, tmp_path, capsys):
    accounts, _ = files
    reps = tmp_path / "no_capacity.csv"
    reps_at_centres().drop(columns="capacity_hours").to_csv(reps, index=False)
    assert main(["capacity", str(accounts), "--current", "terr", "--reps", str(reps)]) == 2
    assert "no 'capacity_hours' column" in capsys.readouterr().err


def test_missing_current_column(files, capsys):
    accounts, reps = files
    assert main(["capacity", str(accounts), "--current", "nope", "--reps", str(reps)]) == 2
    assert "nope" in capsys.readouterr().err


def test_reps_out_feeds_workbench_align(files, tmp_path, capsys):
    accounts, reps = files
    team = tmp_path / "team.csv"
    assert main(["capacity", str(accounts), "--current", "terr", "--reps", str(reps), "--reps-out", str(team)]) == 0
    assert "realign with: workbench align" in capsys.readouterr().out
    written = __import__("pandas").read_csv(team)
    assert written["rep_id"].tolist() == ["R_SW", "R_SE", "R_NW", "R_NE", "NEW01"]
    assert written["territory_id"].isna().tolist() == [False] * 4 + [True]
    out = tmp_path / "plan.csv"
    assert main(["align", str(accounts), "--current", "terr", "--reps", str(team), "--tolerance", "0.1",
                 "--out", str(out)]) == 0
    assert __import__("pandas").read_csv(out)["territory_id"].nunique() == 5
