"""Every capability on the command line: --json, --strict, --encoding/--sheet, --distance-matrix,
--regions/--areas, ``choose`` and ``diff`` (tiny files, answers checked by hand)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import build_parser, main
from workbench.cli._common import reads_accounts
from workbench.signoff import review_and_approve

# Twelve accounts on a line, four per current territory; three reps at the group centres.
ACCOUNTS = pd.DataFrame({
    "account_id": [f"a{i:02d}" for i in range(12)],
    "name": ["Café Müller"] + [f"Firm {i}" for i in range(1, 12)],
    "latitude": 40.0,
    "longitude": [-100.0 + 0.1 * i + (0.5 if i >= 4 else 0) + (0.5 if i >= 8 else 0) for i in range(12)],
    "workload": [1.0] * 12,
    "current_territory": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
})
REPS = pd.DataFrame({"rep_id": ["ra", "rb", "rc"], "name": ["Ann", "Bob", "Cy"], "latitude": 40.0,
                     "longitude": [-99.85, -98.95, -98.05], "capacity_hours": 1000, "territory_id": ["A", "B", "C"]})


@pytest.fixture
def folder(tmp_path):
    ACCOUNTS.to_csv(tmp_path / "accounts.csv", index=False)
    ACCOUNTS.to_csv(tmp_path / "windows.csv", index=False, encoding="cp1252")
    ACCOUNTS.to_excel(tmp_path / "accounts.xlsx", index=False, sheet_name="Book")  # the accounts on a named sheet
    REPS.to_csv(tmp_path / "reps.csv", index=False)
    return tmp_path


def _last_json(capsys):
    return json.loads(capsys.readouterr().out)


# --- reading options everywhere --------------------------------------------------------------------

def test_every_command_that_reads_accounts_takes_encoding_and_sheet():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    readers = [name for name, sub in commands.items() if reads_accounts(sub)]
    assert {"info", "align", "choose", "compare", "capacity", "gaps"} <= set(readers)
    for name in readers:
        options = {o for action in commands[name]._actions for o in action.option_strings}
        assert {"--encoding", "--sheet"} <= options, name


def test_every_option_of_every_command_has_help_text():
    commands = build_parser()._subparsers._group_actions[0].choices
    helpless = [f"{name} {action.dest}" for name, sub in commands.items() for action in sub._actions
                if not action.help]
    assert helpless == []


def test_cp1252_file_loads_with_one_warning_naming_the_encoding(folder, capsys):
    out = folder / "out.csv"
    assert main(["align", str(folder / "windows.csv"), "--territories", "3", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("windows.csv is not UTF-8: read it as 'cp1252'") == 1
    assert len(pd.read_csv(out)) == 12


def test_encoding_option_reaches_the_loader(folder, capsys):
    assert main(["info", str(folder / "windows.csv"), "--encoding", "cp1252", "--json"]) == 0
    captured = capsys.readouterr()
    assert "not UTF-8" not in captured.err and json.loads(captured.out)["n_accounts"] == 12
    assert main(["align", str(folder / "windows.csv"), "--encoding", "utf-8", "--territories", "3",
                 "--out", str(folder / "o.csv")]) == 2
    assert "cannot decode the file as 'utf-8', the encoding you passed" in capsys.readouterr().err


def test_sheet_option_on_align_and_choose(folder, capsys):
    assert main(["align", str(folder / "accounts.xlsx"), "--sheet", "Book", "--territories", "3",
                 "--out", str(folder / "o.csv")]) == 0
    assert main(["align", str(folder / "accounts.xlsx"), "--sheet", "Nope", "--territories", "3",
                 "--out", str(folder / "o.csv")]) == 2
    assert "no sheet 'Nope'; sheets are ['Book']" in capsys.readouterr().err


# --- align: --json, --strict, one warning ------------------------------------------------------------

def test_align_json_is_one_object_a_script_can_read(folder, capsys):
    out = folder / "out.csv"
    assert main(["align", str(folder / "accounts.csv"), "--territories", "3", "--balance-on", "workload",
                 "--out", str(out), "--json"]) == 0
    payload = _last_json(capsys)
    assert payload["method"] == "balanced" and payload["accounts"] == 12 and payload["territories"] == 3
    assert payload["within_tolerance"] is True and payload["report"]["max_deviation"]["workload"] == 0.0
    assert payload["out"] == str(out) and payload["warnings"] == []


def test_missed_tolerance_warns_once_on_stderr_exit_0_or_3_with_strict(folder, capsys):
    heavy = ACCOUNTS.assign(workload=[50.0] + [1.0] * 11)
    heavy.to_csv(folder / "heavy.csv", index=False)
    args = ["align", str(folder / "heavy.csv"), "--territories", "3", "--balance-on", "workload",
            "--out", str(folder / "o.csv")]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "warning: tolerance 5.0% not met" not in captured.out, "stdout carries no warnings"
    assert captured.err.count("tolerance 5.0% not met") == 1
    assert main([*args, "--strict"]) == 3
    err = capsys.readouterr().err
    assert err.count("warning: tolerance 5.0% not met") == 1
    assert "error: tolerance 5.0% not met" in err and "--strict" in err
    assert (folder / "o.csv").exists(), "the assignments are still written, for review"
    assert main([*args, "--strict", "--json"]) == 3
    assert _last_json(capsys)["within_tolerance"] is False


# --- align: distance matrix and hierarchy ------------------------------------------------------------

def _minutes(accounts, reps, penalty=None):
    km = np.abs(accounts["longitude"].to_numpy()[:, None] - reps["longitude"].to_numpy()[None]) * 85.0
    frame = pd.DataFrame(km * 1.2, columns=reps["rep_id"], index=accounts["account_id"])
    if penalty:
        for account, rep, value in penalty:
            frame.loc[account, rep] = value
    return frame


def test_distance_matrix_changes_the_assignment(folder, capsys):
    # a04 is next to rb; a river makes it 500 minutes from rb and 1 from ra.
    _minutes(ACCOUNTS, REPS, [("a04", "rb", 500.0), ("a04", "ra", 1.0)]).reset_index().to_csv(
        folder / "minutes.csv", index=False)
    base = ["align", str(folder / "accounts.csv"), "--reps", str(folder / "reps.csv"), "--balance-on", "workload",
            "--tolerance", "0.3"]
    assert main([*base, "--out", str(folder / "plain.csv")]) == 0
    assert main([*base, "--distance-matrix", str(folder / "minutes.csv"), "--out", str(folder / "drive.csv")]) == 0
    plain = pd.read_csv(folder / "plain.csv").set_index("account_id")["territory_id"]
    drive = pd.read_csv(folder / "drive.csv").set_index("account_id")["territory_id"]
    assert plain["a04"] == "rb" and drive["a04"] == "ra"


def test_distance_matrix_long_layout_and_clear_errors(folder, capsys):
    long = _minutes(ACCOUNTS, REPS).stack().rename("minutes").reset_index()
    long.to_csv(folder / "long.csv", index=False)
    base = ["align", str(folder / "accounts.csv"), "--reps", str(folder / "reps.csv"), "--out", str(folder / "o.csv")]
    assert main([*base, "--distance-matrix", str(folder / "long.csv")]) == 0
    long[long["account_id"] != "a03"].to_csv(folder / "short.csv", index=False)
    assert main([*base, "--distance-matrix", str(folder / "short.csv")]) == 2
    assert "short.csv: no row for accounts ['a03']" in capsys.readouterr().err
    assert main(["align", str(folder / "accounts.csv"), "--territories", "3", "--out", str(folder / "o.csv"),
                 "--distance-matrix", str(folder / "long.csv")]) == 2
    assert "--distance-matrix gives travel times from accounts to reps: it needs --reps" in capsys.readouterr().err


def test_regions_and_areas_are_written_with_the_territories(folder, capsys):
    out = folder / "out.csv"
    assert main(["align", str(folder / "accounts.csv"), "--territories", "6", "--balance-on", "workload",
                 "--regions", "3", "--areas", "1", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert frame.columns.tolist() == ["account_id", "territory_id", "region", "area"]
    per_region = frame.groupby("region")["territory_id"].nunique()
    assert per_region.tolist() == [2, 2, 2] and frame["area"].nunique() == 1
    assert "hierarchy: 6 territories in 3 regions, 1 areas" in capsys.readouterr().out
    plan = folder / "plans" / "p"
    assert main(["align", str(folder / "accounts.csv"), "--territories", "6", "--regions", "2",
                 "--out", str(plan)]) == 0
    from workbench.plan import load_plan

    assert load_plan(plan).territories["region"].nunique() == 2
    assert main(["align", str(folder / "accounts.csv"), "--territories", "6", "--areas", "2",
                 "--out", str(out)]) == 2
    assert "--areas M groups the regions: give --regions N too" in capsys.readouterr().err


# --- choose and diff ----------------------------------------------------------------------------------

def test_choose_with_capacity_marks_the_territories_needed(folder, capsys):
    assert main(["choose", str(folder / "accounts.csv"), "--capacity-hours", "4"]) == 0
    out = capsys.readouterr().out
    assert "territories needed at 4 h per rep: 3" in out
    row = next(line for line in out.splitlines() if line.endswith("<- needed"))
    assert row.split()[0] == "3" and "100.0%" in row
    assert main(["choose", str(folder / "accounts.csv"), "--range", "2:4", "--capacity-hours", "4", "--json"]) == 0
    payload = _last_json(capsys)
    assert payload["territories_needed"] == 3 and [r["n_territories"] for r in payload["table"]] == [2, 3, 4]
    assert [round(r["utilisation"], 3) for r in payload["table"]] == [1.5, 1.0, 0.75]


def test_choose_needs_an_option_and_a_valid_range(folder, capsys):
    assert main(["choose", str(folder / "accounts.csv")]) == 2
    assert "give --capacity-hours H" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["choose", str(folder / "accounts.csv"), "--range", "50:30"])
    assert "expected A:B or A:B:STEP" in capsys.readouterr().err
    assert main(["choose", str(folder / "accounts.csv"), "--range", "2:20"]) == 2
    assert "cannot make 13 territories" in capsys.readouterr().err


def test_diff_lists_the_moves_between_two_saved_plans(folder, capsys):
    from workbench.plan import Plan, save_plan

    current = Plan.from_column(ACCOUNTS, column="current_territory", name="current")
    moved = current.reassign(["a03", "a04"], "C")
    save_plan(current, folder / "a")
    save_plan(moved, folder / "b")
    assert main(["diff", str(folder / "a"), str(folder / "b"), "--out", str(folder / "moves.csv")]) == 0
    out = capsys.readouterr().out
    assert "2 accounts differ (16.7% of a's accounts): 2 moved" in out
    assert pd.read_csv(folder / "moves.csv")["account_id"].tolist() == ["a03", "a04"]
    assert main(["diff", str(folder / "a"), str(folder / "b"), "--json"]) == 0
    payload = _last_json(capsys)
    assert payload["counts"]["moved"] == 2 and payload["a"]["name"] == "current"
    assert {(f["from_territory"], f["to_territory"], f["accounts"]) for f in payload["flows"]} == {("A", "C", 1),
                                                                                                  ("B", "C", 1)}
    assert main(["diff", str(folder / "a"), str(folder / "a")]) == 0
    assert "no account changes territory" in capsys.readouterr().out


# --- approve/export --json ------------------------------------------------------------------------------

def test_approve_and_export_json(folder, capsys):
    from workbench.plan import Plan, save_plan

    save_plan(Plan.from_column(ACCOUNTS, column="current_territory", name="fy27"), folder / "p")
    assert main(["approve", str(folder / "p"), "--by", "Dana Lee", "--note", "ok", "--json", "--accept-warnings"]) == 0
    approved = _last_json(capsys)
    assert approved["status"] == "approved" and approved["approved_by"] == "Dana Lee" and approved["note"] == "ok"
    assert main(["export", str(folder / "p"), "--to", str(folder / "ex"), "--format", "csv", "--json"]) == 0
    manifest = _last_json(capsys)
    assert manifest["plan"]["content_hash"] == approved["content_hash"]
    assert "assignments.csv" in {f["path"] for f in manifest["files"]}


def test_export_format_shp_writes_a_shapefile_with_its_field_names(folder, capsys):
    import geopandas as gpd

    from workbench.plan import Plan, save_plan

    plan = Plan.from_column(ACCOUNTS, column="current_territory", name="fy27")
    save_plan(review_and_approve(plan, by="Dana"), folder / "p")
    assert main(["export", str(folder / "p"), "--to", str(folder / "ex"), "--format", "shp,csv"]) == 0
    shp = folder / "ex" / "shapefile"
    assert {p.suffix for p in shp.iterdir()} >= {".shp", ".shx", ".dbf", ".prj", ".cpg", ".csv"}
    shapes = gpd.read_file(shp / "territories.shp")
    assert sorted(shapes["territory_"]) == ["A", "B", "C"] and shapes.crs.to_epsg() == 4326
    fields = pd.read_csv(shp / "fields.csv")
    assert dict(zip(fields["field"], fields["column"]))["territory_"] == "territory_id"
    assert all(len(f) <= 10 for f in fields["field"])
    manifest = json.loads((folder / "ex" / "manifest.json").read_text())
    assert manifest["formats"] == ["csv", "shp"] and "shapefile/territories.shp" in {f["path"] for f in manifest["files"]}
    assert not (folder / "ex" / "territories.gpkg").exists(), "gis was not asked for"
    assert "shapefile/" in (folder / "ex" / "README.txt").read_text()
