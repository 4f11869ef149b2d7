"""``workbench export PLAN --to DIR`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import build_parser, main
from workbench.export import read_assignments, verify_export
from workbench.plan import save_plan
from workbench.signoff import review_and_approve


def _commands() -> set[str]:
    """Names of the sub-commands the workbench command has."""
    import argparse

    actions = build_parser()._actions
    return {name for a in actions if isinstance(a, argparse._SubParsersAction) for name in a.choices}


@pytest.fixture()
def saved(tmp_path):
    from test_export import make_plan

    return {"approved": save_plan(make_plan(), tmp_path / "approved"),
            "draft": save_plan(make_plan(approved=False), tmp_path / "draft"),
            "plan": make_plan()}


def test_export_writes_the_folder_and_lists_its_files(saved, tmp_path, capsys):
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "out"), "--format", "csv,salesforce"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"exported plan 'Q3 <plan>' {saved['plan'].content_hash[:12]} to {tmp_path / 'out'}")
    assert "assignments.csv" in out and "salesforce/Territory2.csv" in out
    pd.testing.assert_series_equal(read_assignments(tmp_path / "out" / "assignments.csv"), saved["plan"].assignments)
    assert verify_export(tmp_path / "out")["formats"] == ["csv", "salesforce"]
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "out"), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("refreshed the export of plan 'Q3 <plan>'")


def test_a_draft_is_refused_with_one_line_and_exit_code_2(saved, tmp_path, capsys):
    assert main(["export", str(saved["draft"]), "--to", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: plan 'Q3 <plan>' (hash ") and "is a draft; approve it first" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_allow_draft_writes_a_marked_review_copy(saved, tmp_path, capsys):
    assert main(["export", str(saved["draft"]), "--to", str(tmp_path / "out"), "--allow-draft",
                 "--format", "csv"]) == 0
    assert "(DRAFT review copy)" in capsys.readouterr().out
    assert "DRAFT" in (tmp_path / "out" / "assignments.csv").read_text()


def test_an_export_of_another_plan_needs_force(saved, tmp_path, capsys):
    main(["export", str(saved["draft"]), "--to", str(tmp_path / "out"), "--allow-draft", "--format", "csv"])
    other = save_plan(review_and_approve(saved["plan"].rename_territory("T1", "Other"), by="Eve", accept_warnings=True),
                      tmp_path / "other")
    assert main(["export", str(other), "--to", str(tmp_path / "out"), "--format", "csv"]) == 2
    assert "pass force=True (--force)" in capsys.readouterr().err
    assert main(["export", str(other), "--to", str(tmp_path / "out"), "--format", "csv", "--force"]) == 0


def test_bad_arguments_are_one_line_errors(saved, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "file")]) == 2
    assert "is a file; pass a folder" in capsys.readouterr().err
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "o"), "--format", "pdf"]) == 2
    assert "unknown export format 'pdf'" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing"), "--to", str(tmp_path / "o")]) == 2
    assert "no saved plan at" in capsys.readouterr().err


def test_tampered_plan_is_refused(saved, tmp_path, capsys):
    manifest_path = Path(saved["approved"]) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["approval_note"] = "edited"
    manifest_path.write_text(json.dumps(manifest))
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "out")]) == 2
    assert "was edited" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not {"align", "approve"} <= _commands(), reason="needs the workbench align and approve commands")
def test_align_approve_export_on_a_sample_subset(tmp_path):
    """End to end as a user runs it: align 1,500 sample accounts, approve, export; check every file."""
    import geopandas as gpd
    import openpyxl

    from workbench.bundled import sample_accounts_path

    accounts = pd.read_csv(sample_accounts_path(), dtype={"account_id": str, "zip": str, "county_fips": str})
    subset = accounts[accounts["state"].isin(["PA", "NJ", "DE"])].head(1500)
    source = tmp_path / "accounts.csv"
    subset.to_csv(source, index=False)
    run = lambda *args: subprocess.run([sys.executable, "-m", "workbench", *args],  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    plan_dir, out = tmp_path / "plan", tmp_path / "export"
    for args in (["align", str(source), "--territories", "6", "--out", str(plan_dir)],
                 ["approve", str(plan_dir), "--by", "Regional VP", "--accept-warnings"],
                 ["export", str(plan_dir), "--to", str(out)]):
        result = run(*args)
        assert result.returncode == 0, f"{args[0]}: {result.stderr}"
    manifest = verify_export(out)
    assert manifest["plan"]["approved_by"] == "Regional VP"
    table = pd.read_csv(out / "assignments.csv", dtype=str)
    assert len(table) == len(subset) and set(table["account_id"]) == set(subset["account_id"])
    assert table["moved"].isin(["True", "False"]).all()
    assert len(gpd.read_file(out / "territories.gpkg")) == 6
    assert len(pd.read_csv(out / "salesforce" / "ObjectTerritory2Association.csv")) == len(subset)
    assert openpyxl.load_workbook(out / "summary.xlsx").sheetnames[:3] == ["Plan", "Scorecard", "Territories"]
    assert (out / "report.html").read_text().count('src="data:image/png;base64,') >= 1


def test_current_plan_and_blocks_options(saved, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from workbench.plan import Plan

    plan = saved["plan"]
    current = save_plan(Plan.from_labels(plan.accounts, ["T1", "T1", "T2", "T3", "T2", "T3"], name="now"),
                        tmp_path / "current")
    blocks = gpd.GeoDataFrame({"block": ["b1", "b2", "b3", "b4"]},
                              geometry=[box(-76, 40, -75, 41), box(-75, 40, -74, 41), box(-76, 41, -75, 42),
                                        box(-75, 41, -74, 42)], crs="EPSG:4326")
    blocks.to_file(tmp_path / "blocks.gpkg")
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "out"), "--format", "csv,gis",
                 "--current", str(current), "--blocks", str(tmp_path / "blocks.gpkg"), "--block-col", "block"]) == 0
    table = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype=str)
    assert set(table["moved"]) == {"False"}
    shapes = gpd.read_file(tmp_path / "out" / "territories.gpkg")
    assert shapes["territory_id"].tolist() == ["T1", "T2", "T3"]
    assert [round(g.bounds[0], 6) for g in shapes.geometry] == [-76.0, -75.0, -76.0]
    assert main(["export", str(saved["approved"]), "--to", str(tmp_path / "o2"), "--blocks", "x.gpkg"]) == 2
