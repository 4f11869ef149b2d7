"""export_plan on a tiny hand-checkable plan: six accounts, three territories, two regions, one area."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from workbench.errors import InputError, PlanError, TamperedPlanError
from workbench.export import FORMATS, export_plan, read_assignments, read_assignments_table, verify_export
from workbench.export import core as export_core
from workbench.export.tables import ASSIGNMENT_COLUMNS
from workbench.plan import Plan, save_plan
from workbench.safeio import sha256_file
from workbench.signoff import review_and_approve

# Ids and names a spreadsheet would run as formulas, or that look like numbers or paths.
IDS = ["00123", "=cmd|' /C calc'!A0", "+1", "@sum", "-5", "'quoted"]
NAMES = ["Acme", "<script>alert(1)</script>", "../../escape", "a/b\\c", "=HYPERLINK(\"x\")", "Zed & Co"]


def make_accounts() -> pd.DataFrame:
    """Six accounts in two squares; the current alignment puts the first four in T1."""
    return pd.DataFrame({
        "account_id": IDS,
        "name": NAMES,
        "latitude": [40.1, 40.2, 40.3, 41.1, 41.2, 41.3],
        "longitude": [-75.1, -75.2, -75.3, -74.1, -74.2, -74.3],
        "block": ["b1", "b1", "b2", "b3", "b2", "b4"],
        "workload": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "revenue": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        "current_territory": ["T1", "T1", "T1", "T1", "T2", "T3"],
    })


#: Proposed territories: accounts 3 (T1 -> T2) and 4 (T1 -> T3) move.
PROPOSED = ["T1", "T1", "T2", "T3", "T2", "T3"]


def make_plan(approved: bool = True, names: dict | None = None) -> Plan:
    plan = Plan.from_labels(make_accounts(), PROPOSED, method="balanced", name="Q3 <plan>")
    plan = plan.with_reps(pd.DataFrame({"rep_id": ["r1", "r2", "r3"], "name": ["Ann", "Bob", "=Cy"],
                                        "latitude": [40.0, 41.0, 41.5], "longitude": [-75.0, -74.0, -74.5],
                                        "territory_id": ["T1", "T2", "T3"]}))
    plan = plan.with_hierarchy(pd.DataFrame({"territory_id": ["T1", "T2", "T3"], "region": ["East", "East", "West"],
                                             "area": ["US", "US", "US"]}))
    for tid, name in (names or {"T1": "Philly", "T2": "../../North", "T3": "West/<b>3</b>"}).items():
        plan = plan.rename_territory(tid, name)
    return review_and_approve(plan, by="Dana <VP>", note="ok & go", accept_warnings=True) if approved else plan


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Plan, Path]:
    plan = make_plan()
    return plan, export_plan(plan, tmp_path_factory.mktemp("export") / "out")


def test_every_file_is_written_and_listed_in_the_manifest_with_its_hash(exported):
    plan, out = exported
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted([
        "README.txt", "assignments.csv", "manifest.json", "report.html", "summary.xlsx", "territories.geojson",
        "territories.gpkg", "salesforce/README.txt", "salesforce/Territory2Model.csv", "salesforce/Territory2.csv",
        "salesforce/UserTerritory2Association.csv", "salesforce/ObjectTerritory2Association.csv"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plan"]["content_hash"] == plan.content_hash
    assert manifest["plan"]["input_hash"] == plan.metadata.input_hash
    assert manifest["plan"]["approved_by"] == "Dana <VP>"
    assert {"python", "pandas", "geopandas", "openpyxl"} <= set(manifest["package_versions"])
    listed = {e["path"]: e for e in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json"}
    for path, entry in listed.items():
        assert entry["sha256"] == sha256_file(out / path)
        assert entry["bytes"] == (out / path).stat().st_size
    assert verify_export(out)["plan"]["name"] == "Q3 <plan>"


def test_verify_export_notices_an_edited_file(exported, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(exported[1], copy)
    with open(copy / "assignments.csv", "a") as handle:
        handle.write("x,T9\n")
    with pytest.raises(PlanError, match=r"changed files \['assignments.csv'\]"):
        verify_export(copy)


def test_assignments_csv_has_a_row_per_account_with_hierarchy_and_moves(exported):
    _, out = exported
    table = read_assignments_table(out / "assignments.csv")
    assert list(table.columns) == list(ASSIGNMENT_COLUMNS)
    assert len(table) == 6
    assert table["account_id"].tolist() == IDS
    assert table["account_name"].tolist() == NAMES
    assert table["territory_name"].tolist() == ["Philly", "Philly", "../../North", "West/<b>3</b>", "../../North",
                                                "West/<b>3</b>"]
    assert table["rep_id"].tolist() == ["r1", "r1", "r2", "r3", "r2", "r3"]
    assert table["rep_name"].tolist() == ["Ann", "Ann", "Bob", "=Cy", "Bob", "=Cy"]
    assert table["region"].tolist() == ["East", "East", "East", "West", "East", "West"]
    assert set(table["area"]) == {"US"}
    assert table["moved"].tolist() == [False, False, True, True, False, False]
    assert set(table["plan_status"]) == {"approved"}


def test_formula_like_cells_are_escaped_in_the_file(exported):
    text = (exported[1] / "assignments.csv").read_text()
    assert "\n'=cmd|" in text and "\n'+1," in text and "\n'@sum," in text and "\n'-5," in text
    assert "''quoted" in text and ",'=Cy," in text


def test_reimporting_assignments_gives_back_the_plan_exactly(exported):
    plan, out = exported
    back = read_assignments(out / "assignments.csv")
    pd.testing.assert_series_equal(back, plan.assignments)
    assert back.index[0] == "00123"


def test_current_alignment_can_be_given(tmp_path):
    plan = make_plan()
    current = pd.Series(PROPOSED, index=IDS)
    current.iloc[0] = "T2"
    out = export_plan(plan, tmp_path / "out", formats="csv", current=current)
    assert read_assignments_table(out / "assignments.csv")["moved"].tolist() == [True] + [False] * 5
    with pytest.raises(InputError, match=r"no territory for 1 of the plan's accounts \(first: \['00123'\]\)"):
        export_plan(plan, tmp_path / "other", formats="csv", current=current.iloc[1:])


def test_without_a_current_alignment_moves_are_unknown(tmp_path):
    accounts = make_accounts().drop(columns="current_territory")
    plan = review_and_approve(Plan.from_labels(accounts, PROPOSED), by="Dana", accept_warnings=True)
    out = export_plan(plan, tmp_path / "out", formats="csv,excel,report")
    table = read_assignments_table(out / "assignments.csv")
    assert table["moved"].isna().all() and (table["current_territory"] == "").all()
    assert "moves are not known" in (out / "report.html").read_text()
    assert "Moved accounts" not in openpyxl.load_workbook(out / "summary.xlsx").sheetnames


def test_summary_workbook_sheets_and_formatting(exported):
    _, out = exported
    book = openpyxl.load_workbook(out / "summary.xlsx")
    assert book.sheetnames == ["Plan", "Scorecard", "Territories", "Transfer matrix", "Moved accounts"]
    territories = book["Territories"]
    header = [c.value for c in territories[1]]
    assert header[:6] == ["territory_id", "territory_name", "rep_id", "rep_name", "region", "area"]
    assert {"accounts", "workload", "revenue", "workload_deviation", "accounts_in", "accounts_out"} <= set(header)
    assert territories.max_row == 4
    assert territories.freeze_panes == "B2" and territories["A1"].font.bold
    column = header.index("workload_deviation") + 1
    assert territories.cell(row=2, column=column).number_format == "+0.0%;-0.0%;0.0%"  # a signed percent
    assert territories.cell(row=2, column=header.index("accounts") + 1).number_format == "#,##0"
    assert territories.column_dimensions["B"].width >= len("territory_name")
    # The text a spreadsheet would run stays text, escaped.
    assert territories.cell(row=4, column=header.index("rep_name") + 1).value == "'=Cy"
    moved = book["Moved accounts"]
    assert moved.max_row == 1 + 2
    moved_header = [c.value for c in moved[1]]
    assert moved_header[:4] == ["account_id", "name", "from_territory", "to_territory"]
    assert moved.cell(row=2, column=moved_header.index("explanation") + 1).value.startswith("Moved from T1")
    assert [moved.cell(row=r, column=1).value for r in (2, 3)] == ["'+1", "'@sum"]
    matrix = book["Transfer matrix"]
    counts = [c.value for row in matrix.iter_rows(min_row=2, min_col=2) for c in row]
    assert sum(counts) == 6
    plan_sheet = {r[0].value: r[1].value for r in book["Plan"].iter_rows()}
    assert plan_sheet["Approved by"] == "Dana <VP>" and plan_sheet["Status"] == "approved"


def test_territory_layers_have_one_polygon_per_territory_with_totals(exported):
    _, out = exported
    for name in ("territories.gpkg", "territories.geojson"):
        shapes = gpd.read_file(out / name)
        assert shapes["territory_id"].tolist() == ["T1", "T2", "T3"]
        assert shapes["accounts"].tolist() == [2, 2, 2]
        assert shapes["workload"].tolist() == [3.0, 8.0, 10.0]
        assert shapes["territory_name"].tolist() == ["Philly", "../../North", "West/<b>3</b>"]
        assert shapes.crs.to_epsg() == 4326
        assert shapes.geometry.is_valid.all() and (shapely.area(shapes.geometry.to_numpy()) > 0).all()


def test_blocks_are_dissolved_into_territories(tmp_path):
    blocks = gpd.GeoDataFrame({"block": ["b1", "b2", "b3", "b4"]},
                              geometry=[box(-76, 40, -75, 41), box(-75, 40, -74, 41), box(-76, 41, -75, 42),
                                        box(-75, 41, -74, 42)], crs="EPSG:4326")
    out = export_plan(make_plan(), tmp_path / "out", formats="gis", blocks=blocks, block_col="block")
    shapes = gpd.read_file(out / "territories.gpkg").set_index("territory_id")
    # T1 holds block b1, T2 b2, T3 b3 and b4 (each block goes to the territory with most of its accounts).
    assert pd.Series(shapely.area(shapes.geometry.to_numpy()), index=shapes.index).round(6).to_dict() == {"T1": 1.0, "T2": 1.0, "T3": 2.0}


def test_draft_is_refused_and_allow_draft_marks_every_file(tmp_path):
    draft = make_plan(approved=False)
    with pytest.raises(PlanError, match=r"plan 'Q3 <plan>' .* is a draft; approve it first .*--allow-draft"):
        export_plan(draft, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    out = export_plan(draft, tmp_path / "draft", allow_draft=True)
    assert set(read_assignments_table(out / "assignments.csv")["plan_status"]) == {"DRAFT"}
    assert all(name.startswith("DRAFT ") for name in openpyxl.load_workbook(out / "summary.xlsx").sheetnames)
    assert 'id="draft-banner"' in (out / "report.html").read_text()
    assert (out / "README.txt").read_text().startswith("*** DRAFT")
    assert (out / "salesforce" / "README.txt").read_text().startswith("*** DRAFT")
    assert "DRAFT_" in (out / "salesforce" / "Territory2Model.csv").read_text()
    assert set(gpd.read_file(out / "territories.geojson")["plan_status"]) == {"DRAFT"}
    assert json.loads((out / "manifest.json").read_text())["plan"]["status"] == "draft"


def test_a_tampered_saved_plan_is_refused(tmp_path):
    folder = save_plan(make_plan(), tmp_path / "plan")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["approved_by"] = "Mallory"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TamperedPlanError, match="was edited"):
        export_plan(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_saved_plan_path_exports_like_the_plan(tmp_path):
    plan = make_plan()
    folder = save_plan(plan, tmp_path / "plan")
    out = export_plan(str(folder), tmp_path / "out", formats="csv")
    pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), plan.assignments)


def test_target_rules(tmp_path):
    plan = make_plan()
    (tmp_path / "file.txt").write_text("keep")
    with pytest.raises(InputError, match=r"file.txt is a file; pass a folder"):
        export_plan(plan, tmp_path / "file.txt", formats="csv")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(PlanError, match=r"not empty and holds no export manifest; choose a new or empty folder"):
        export_plan(plan, tmp_path / "mine", formats="csv", force=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    (tmp_path / "empty").mkdir()
    assert (export_plan(plan, tmp_path / "empty", formats="csv") / "assignments.csv").exists()


def test_an_export_of_another_plan_needs_force_and_the_same_plan_is_refreshed(tmp_path):
    plan = make_plan()
    other = make_plan(names={"T1": "Renamed"})
    out = export_plan(plan, tmp_path / "out", formats="csv")
    assert export_plan(plan, out, formats="csv,report") == out
    assert (out / "report.html").exists()
    with pytest.raises(PlanError, match=r"holds an export of another plan \('Q3 <plan>', hash [0-9a-f]{12}\); pass "
                                        r"force=True \(--force\)"):
        export_plan(other, out, formats="csv")
    assert json.loads((out / "manifest.json").read_text())["plan"]["content_hash"] == plan.content_hash
    export_plan(other, out, formats="csv", force=True)
    assert json.loads((out / "manifest.json").read_text())["plan"]["content_hash"] == other.content_hash
    assert not (out / "report.html").exists()


def test_a_failure_midway_leaves_the_previous_export_untouched(tmp_path, monkeypatch):
    plan = make_plan()
    out = export_plan(plan, tmp_path / "out", formats="csv")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_core.report, "render_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export_plan(plan, out, formats="csv,report")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_nothing_is_written_outside_the_target_whatever_the_names(tmp_path):
    out = export_plan(make_plan(), tmp_path / "a" / "out")
    outside = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if out not in [p, *p.parents])
    assert outside == ["a"]


def test_report_escapes_user_text_and_shows_the_approval(exported):
    plan, out = exported
    page = (out / "report.html").read_text()
    assert "Q3 &lt;plan&gt;" in page and "<plan>" not in page
    assert "<b>3</b>" not in page and "West/&lt;b&gt;3&lt;/b&gt;" in page
    assert "Dana &lt;VP&gt;" in page and "ok &amp; go" in page and plan.content_hash in page
    assert plan.metadata.approved_at in page
    assert "2 of 6 accounts change territory (33.3%), carrying 33.3% of the workload" in page
    # Nothing is fetched: no src/href to the network, scripts only inline (the vendored Leaflet and the map).
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # Leaflet's code holds URL strings
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert re.findall(r"<script[^>]*\bsrc=", page) == []
    assert "script-src 'unsafe-inline'" in page and "connect-src" not in page  # default-src 'none' blocks fetches
    assert page.index('id="headline"') < page.index('id="maps"') < page.index('id="scorecard"')  # headline first
    assert str(out.parent) not in page  # no local paths


def test_unassigned_accounts_are_refused(tmp_path):
    plan = review_and_approve(Plan.from_labels(make_accounts(), ["T1", None, "T2", "T3", "T2", "T3"]), by="Dana",
                              accept_warnings=True)
    with pytest.raises(PlanError, match=r"leaves 1 accounts unassigned \(first: \[\"=cmd\|"):
        export_plan(plan, tmp_path / "out")


def test_formats(tmp_path):
    plan = make_plan()
    out = export_plan(plan, tmp_path / "out", formats=["xlsx", "html"])
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "manifest.json", "report.html", "summary.xlsx"]
    assert json.loads((out / "manifest.json").read_text())["formats"] == ["excel", "report"]
    with pytest.raises(InputError, match=r"unknown export format 'pdf'; choose from csv, excel, gis, salesforce, report"):
        export_plan(plan, tmp_path / "x", formats="csv,pdf")
    with pytest.raises(TypeError, match="plan must be a Plan or the path of a saved plan, got int"):
        export_plan(3, tmp_path / "x")
    assert FORMATS == ("csv", "excel", "gis", "salesforce", "report")


def test_the_report_map_leaves_the_callers_matplotlib_backend_and_figures_alone(tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        open_figures = plt.get_fignums()
        out = export_plan(make_plan(), tmp_path / "out", formats="report")
        assert "data:image/png;base64," in (out / "report.html").read_text(encoding="utf-8")
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == open_figures
    finally:
        matplotlib.use(before)
