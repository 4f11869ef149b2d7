"""More bad inputs: saved plans, plan edits, exports and command-line arguments.

Same idea as ``tests/test_bad_inputs.py`` (accounts, reps and blocks): every
entry builds a small bad situation in ``tmp_path`` and states what the error
must say: *where* (the file, folder, argument, account or territory) and *the
fix*. Command-line entries must end with exit code 2 and exactly one stderr
line starting ``error:``, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.align import BalancedTerritories, KMeansTerritories, Realignment, RepAnchoredTerritories
from workbench.align.contiguous import ContiguousTerritories
from workbench.cli import main
from workbench.errors import InputError, PlanError, TamperedPlanError
from workbench.export import export_plan
from workbench.plan import Plan, load_plan, save_plan

ACCOUNTS = pd.DataFrame({
    "account_id": ["A1", "A2", "A3", "A4"],
    "name": ["Acme", "=HYPERLINK(\"http://evil\")", "Bolt", "Cog"],
    "latitude": [40.70, 40.71, 42.36, 42.30],
    "longitude": [-73.99, -74.01, -71.06, -71.00],
    "workload": [1.0, 2.0, 3.0, 4.0],
    "current_territory": ["T1", "T1", "T2", "T2"],
})
REPS = pd.DataFrame({"rep_id": ["R1", "R2"], "latitude": [40.7, 42.3], "longitude": [-74.0, -71.0],
                     "capacity_hours": [1600.0, 1600.0]})
WORKBENCH = Path(sys.executable).with_name("workbench")


def draft_plan() -> Plan:
    return Plan.from_column(ACCOUNTS, name="q3")


def approved_plan() -> Plan:
    return review_and_approve(draft_plan(), by="Dana", note="ok", accept_warnings=True)


class Workspace:
    """Files the entries start from, made on demand in ``tmp_path``."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def accounts(self) -> Path:
        path = self.root / "accounts.csv"
        if not path.exists():
            ACCOUNTS.to_csv(path, index=False)
        return path

    def text(self, name: str, content: str) -> Path:
        path = self.root / name
        path.write_text(content, encoding="utf-8")
        return path

    def saved(self, name: str = "draft", plan: Plan | None = None) -> Path:
        path = self.root / name
        if not path.exists():
            save_plan(plan if plan is not None else draft_plan(), path)
        return path

    def approved(self, name: str = "approved") -> Path:
        return self.saved(name, approved_plan())

    def tampered(self, edit) -> Path:
        """A copy of the saved draft with ``edit(folder)`` applied."""
        path = self.root / "tampered"
        shutil.copytree(self.saved(), path)
        edit(path)
        return path

    def export(self, plan: Plan, name: str = "export") -> Path:
        return export_plan(plan, self.root / name, formats="csv", allow_draft=True)


def edit_manifest(**changes):
    def edit(folder: Path):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest.update(changes)
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return edit


def rewrite_assignments_and_their_hash(folder: Path):
    """Move A1 to T2 in assignments.parquet and update its sha256 in the manifest (a careful forger)."""
    from workbench.safeio import sha256_file

    table = pd.read_parquet(folder / "assignments.parquet")
    table.loc[table["account_id"] == "A1", "territory_id"] = "T2"
    table.to_parquet(folder / "assignments.parquet", index=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["assignments.parquet"]["sha256"] = sha256_file(folder / "assignments.parquet")
    (folder / "manifest.json").write_text(json.dumps(manifest))


# ----------------------------------------------------------------------------------------------------------------
# Python API: (name, build(ws) -> callable, error class, [patterns: where..., fix...])
# ----------------------------------------------------------------------------------------------------------------
API = [
    # ---- loading saved plans
    ("load: missing manifest",
     lambda ws: partial(load_plan, ws.tampered(lambda f: os.remove(f / "manifest.json"))),
     PlanError, [r"tampered is not a saved plan folder \(no manifest\.json\)", r"save plans with save_plan"]),
    ("load: folder that is not a plan",
     lambda ws: partial(load_plan, ws.text("notes.txt", "x").parent),
     PlanError, [r"is not a saved plan folder \(no manifest\.json\)", r"save plans with save_plan"]),
    ("load: a CSV file instead of a plan folder",
     lambda ws: partial(load_plan, ws.accounts),
     PlanError, [r"accounts\.csv is not a saved plan folder", r"save plans with save_plan"]),
    ("load: no such folder",
     lambda ws: partial(load_plan, ws.path("nowhere")),
     FileNotFoundError, [r"no saved plan at .*nowhere"]),
    ("load: tampered parquet",
     lambda ws: partial(load_plan, ws.tampered(lambda f: (f / "assignments.parquet").write_bytes(b"PAR1 edited"))),
     TamperedPlanError, [r"tampered/assignments\.parquet changed since the plan was saved",
                         r"sha256 differs from .*manifest\.json", r"restore the original file or save the plan again"]),
    ("load: parquet missing",
     lambda ws: partial(load_plan, ws.tampered(lambda f: os.remove(f / "territories.parquet"))),
     TamperedPlanError, [r"territories\.parquet is missing from the saved plan", r"restore it or save the plan again"]),
    ("load: parquet edited and its sha256 updated",
     lambda ws: partial(load_plan, ws.tampered(rewrite_assignments_and_their_hash)),
     TamperedPlanError, [r"content of .*tampered does not match the content hash in .*manifest\.json",
                         r"assignments\.parquet, territories\.parquet or manifest\.json was edited"]),
    ("load: manifest content hash edited",
     lambda ws: partial(load_plan, ws.tampered(edit_manifest(content_hash="0" * 64))),
     TamperedPlanError, [r"does not match the content hash in .*manifest\.json", r"expected 0{64}",
                         r"was edited"]),
    ("load: draft relabelled approved in the manifest",
     lambda ws: partial(load_plan, ws.tampered(edit_manifest(status="approved", approved_by="Eve"))),
     TamperedPlanError, [r"tampered/manifest\.json was edited", r"no longer matches its record hash"]),
    ("load: manifest not JSON",
     lambda ws: partial(load_plan, ws.tampered(lambda f: (f / "manifest.json").write_text("{oops"))),
     TamperedPlanError, [r"manifest\.json is not valid JSON", r"the plan was damaged or edited"]),
    ("load: manifest of another format",
     lambda ws: partial(load_plan, ws.tampered(edit_manifest(format="something-else/9"))),
     PlanError, [r"manifest\.json is not a plan manifest of format 'territory-workbench-plan/1'"]),
    # ---- approving and saving
    ("approve: an approved plan",
     lambda ws: partial(review_and_approve, approved_plan(), by="Dana"),
     PlanError, [r"plan 'q3' is already approved \(by Dana at .*, hash [0-9a-f]{64}\)",
                 r"edit it to start a new draft"]),
    ("approve: no approver",
     lambda ws: partial(review_and_approve, draft_plan(), by="   "),
     PlanError, [r"approve needs the approver's name", r"pass by='Name' \(CLI: --by NAME\)"]),
    ("save: over an approved plan, even with overwrite",
     lambda ws: partial(save_plan, draft_plan(), ws.approved(), overwrite=True),
     PlanError, [r"approved holds an approved plan, which is never overwritten",
                 r"save to a new path instead, e\.g\. .*approved-v2"]),
    ("save: over a draft without overwrite",
     lambda ws: partial(save_plan, draft_plan(), ws.saved()),
     PlanError, [r"draft already holds a plan", r"pass overwrite=True .* or save to a new path, e\.g\. .*draft-v2"]),
    ("save: into a folder that is not a plan",
     lambda ws: partial(save_plan, draft_plan(), ws.text("notes.txt", "x").parent),
     PlanError, [r"exists and is not a saved plan folder", r"choose a new path, e\.g\."]),
    # ---- edits
    ("reassign: unknown territory",
     lambda ws: lambda: draft_plan().reassign(["A1"], "T9"),
     InputError, [r"territory 'T9' is not in plan 'q3' \(territories: \['T1', 'T2'\]\)",
                  r"use split_territory to create one"]),
    ("reassign: unknown account",
     lambda ws: lambda: draft_plan().reassign(["A1", "A9"], "T2"),
     InputError, [r"cannot reassign: account ids \['A9'\] are not in the plan", r"check the ids"]),
    ("reassign: locked account",
     lambda ws: lambda: draft_plan().lock(["A2"]).reassign(["A1", "A2"], "T2"),
     PlanError, [r"cannot reassign locked accounts \['A2'\]", r"unlock them first"]),
    ("merge: unknown territory",
     lambda ws: lambda: draft_plan().merge_territories(["T1", "T9"], into="T1"),
     InputError, [r"territory 'T9' is not in plan 'q3' \(territories: \['T1', 'T2'\]\)"]),
    ("split: into an existing territory",
     lambda ws: lambda: draft_plan().split_territory("T1", ["A1"], "T2"),
     InputError, [r"new territory id 'T2' is empty or already exists", r"choose another id"]),
    ("split: accounts of another territory",
     lambda ws: lambda: draft_plan().split_territory("T1", ["A3"], "T3"),
     InputError, [r"accounts \['A3'\] are not in territory 'T1'", r"split only moves accounts of 'T1'"]),
    ("plan: labels of the wrong length",
     lambda ws: partial(Plan.from_labels, ACCOUNTS, ["T1", "T2"]),
     InputError, [r"labels has 2 entries but accounts has 4 rows", r"pass one territory id per account row"]),
    ("plan: duplicate account ids",
     lambda ws: partial(Plan.from_labels, pd.concat([ACCOUNTS, ACCOUNTS.iloc[:1]]), ["T1"] * 5),
     InputError, [r"duplicate 'account_id' values \['A1'\]", r"keep one row per account"]),
    ("plan: hierarchy names an unknown territory",
     lambda ws: lambda: draft_plan().with_hierarchy(pd.DataFrame({"territory_id": ["T1", "T2", "T9"],
                                                                   "region": ["E", "E", "W"]})),
     InputError, [r"hierarchy mapping names territories \['T9'\] that are not in plan 'q3'", r"remove those rows"]),
    # ---- alignment estimators
    ("align: tolerance 0",
     lambda ws: lambda: BalancedTerritories(2, tolerance=0).fit(ACCOUNTS),
     InputError, [r"tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got 0"]),
    ("align: balance on a missing column",
     lambda ws: lambda: BalancedTerritories(2, balance_on=["revenue"]).fit(ACCOUNTS),
     InputError, [r"accounts have no column 'revenue' to balance \(columns: \['account_id'",
                  r"pass balance_on= \(CLI: --balance-on\) naming existing numeric columns"]),
    ("align: negative workload",
     lambda ws: lambda: BalancedTerritories(2).fit(ACCOUNTS.assign(workload=[1.0, -2.0, 3.0, 4.0])),
     InputError, [r"column 'workload' has 1 missing, non-numeric or negative values \(rows \[1\]\)",
                  r"balanced metrics must be numbers >= 0"]),
    ("align: latitude out of range",
     lambda ws: lambda: KMeansTerritories(2).fit(ACCOUNTS.assign(latitude=[40.0, 40.1, 95.0, 41.0])),
     InputError, [r"column 'latitude' has 1 missing or out-of-range values \(rows \[2\]\)", r"fix or drop those rows"]),
    ("align: realignment without a current territory for some accounts",
     lambda ws: lambda: Realignment().fit(ACCOUNTS.assign(current_territory=["T1", "T1", "T2", None])),
     InputError, [r"column 'current_territory' is empty in 1 rows \(rows \[3\]\)",
                  r"every account needs its current territory"]),
    ("align: lock column that is not True/False",
     lambda ws: lambda: Realignment(lock_col="locked").fit(ACCOUNTS.assign(locked=["yes", "no", "maybe", "1"])),
     InputError, [r"lock column 'locked' has values that are not True/False \(rows \[2\]: \['maybe'\]\)",
                  r"use True/False"]),
    ("align: locked territory that does not exist",
     lambda ws: lambda: Realignment(locked_territories=["T9"]).fit(ACCOUNTS),
     InputError, [r"locked_territories \['T9'\] are not territories \(known: \['T1', 'T2'\]"]),
    ("align: rep-anchored without reps",
     lambda ws: lambda: RepAnchoredTerritories().fit(ACCOUNTS),
     InputError, [r"RepAnchoredTerritories\.fit needs reps= \(rep_id, latitude, longitude"]),
    ("align: more reps than accounts",
     lambda ws: lambda: RepAnchoredTerritories().fit(ACCOUNTS.iloc[:1], reps=REPS),
     InputError, [r"there are 2 reps but only 1 accounts", r"every rep needs at least one account"]),
    ("align: distance matrix of the wrong shape",
     lambda ws: lambda: RepAnchoredTerritories(distance=np.ones((3, 2))).fit(ACCOUNTS, reps=REPS),
     InputError, [r"distance matrix must have one row per account \(4\), got shape \(3, 2\)",
                  r"pass accounts x sites distances"]),
    ("align: contiguous without blocks",
     lambda ws: lambda: ContiguousTerritories(2).fit(ACCOUNTS),
     InputError, [r"pass blocks= \(a GeoDataFrame of block polygons", r"or adjacency="]),
    ("align: empty accounts",
     lambda ws: lambda: KMeansTerritories(2).fit(ACCOUNTS.iloc[:0]),
     InputError, [r"accounts are empty: there is nothing to align"]),
    # ---- export
    ("export: a draft without allow_draft",
     lambda ws: partial(export_plan, draft_plan(), ws.path("out")),
     PlanError, [r"plan 'q3' \(hash [0-9a-f]{12}\) is a draft",
                 r"approve it first \(workbench approve PLAN --by NAME\), or pass allow_draft=True"]),
    ("export: to a path that is a file",
     lambda ws: partial(export_plan, approved_plan(), ws.accounts),
     InputError, [r"export target .*accounts\.csv is a file", r"pass a folder path"]),
    ("export: over another plan's export without force",
     lambda ws: partial(export_plan, review_and_approve(draft_plan().reassign(["A1"], "T2"), by="Dana",
                                                        accept_warnings=True),
                                    ws.export(approved_plan()), formats="csv"),
     PlanError, [r"export target .*export holds an export of another plan \('q3', hash [0-9a-f]{12}\)",
                 r"pass force=True \(--force\) to replace it, or choose another folder"]),
    ("export: into a folder of other files",
     lambda ws: partial(export_plan, approved_plan(), ws.text("notes.txt", "x").parent, formats="csv"),
     PlanError, [r"is a folder that is not empty and holds no export manifest",
                 r"choose a new or empty folder \(it is never replaced, even with force\)"]),
    ("export: unknown format",
     lambda ws: partial(export_plan, approved_plan(), ws.path("out"), formats="csv,pdf"),
     InputError, [r"unknown export format 'pdf'", r"choose from csv, excel, gis, salesforce, report"]),
    ("export: unassigned accounts",
     lambda ws: partial(export_plan, review_and_approve(Plan.from_labels(ACCOUNTS, ["T1", None, "T2", "T2"],
                                                                         name="gap"),
                                            by="Dana", accept_warnings=True), ws.path("out"), formats="csv"),
     PlanError, [r"plan 'gap' leaves 1 accounts unassigned \(first: \['A2'\]\)",
                 r"assign them \(plan\.reassign\) before exporting"]),
    ("export: tampered saved plan",
     lambda ws: partial(export_plan, ws.tampered(lambda f: (f / "territories.parquet").write_bytes(b"x")),
                                    ws.path("out"), allow_draft=True),
     TamperedPlanError, [r"tampered/territories\.parquet changed since the plan was saved",
                         r"restore the original file or save the plan again"]),
]


@pytest.mark.parametrize("name, build, error, patterns", API, ids=[entry[0] for entry in API])
def test_bad_api_input_message(tmp_path, name, build, error, patterns):
    assert_refused_call(tmp_path, build, error, patterns, exact_type=error is not FileNotFoundError)


def files_in(folder: Path) -> list:
    return sorted(p.relative_to(folder) for p in folder.rglob("*"))


def assert_refused_call(tmp_path, build, error, patterns, *, exact_type=True):
    """``build(ws)()`` raises ``error`` (exactly that class unless ``exact_type`` is False), its message matches
    every pattern, and nothing is left in ``tmp_path``. Shared with ``test_bad_inputs_hardening.py``."""
    call = build(Workspace(tmp_path))
    before = files_in(tmp_path)
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error if exact_type else isinstance(info.value, error), type(info.value)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    assert files_in(tmp_path) == before, "a refused operation must not leave files behind"


def assert_refused_command(tmp_path, capsys, build, patterns):
    """``workbench ARGV`` exits 2 with one ``error: ...`` line matching every pattern, no traceback, no file left.
    Shared with ``test_bad_inputs_hardening.py``."""
    argv = build(Workspace(tmp_path))
    capsys.readouterr()
    before = files_in(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err + out
    for pattern in patterns:
        assert re.search(pattern, err), f"{pattern!r} not in {err!r}"
    assert files_in(tmp_path) == before, "a refused command must not leave files behind"


# ----------------------------------------------------------------------------------------------------------------
# Command line: (name, build(ws) -> argv, [patterns])  -- exit code 2, one line "error: ...", no traceback
# ----------------------------------------------------------------------------------------------------------------
def align(*extra, out="out.csv"):
    return lambda ws: ["align", str(ws.accounts), *extra, "--out", str(ws.path(out))]


def compare(proposed_csv: str | None = None, *extra, proposed=None):
    def build(ws):
        target = proposed(ws) if proposed else ws.text("proposed.csv", proposed_csv)
        return ["compare", str(ws.accounts), "--current", "current_territory", "--proposed", str(target), *extra]
    return build


CLI = [
    # ---- align
    ("align --territories 0", align("--territories", "0"),
     [r"--territories must be a positive number, got 0"]),
    ("align --territories more than accounts", align("--territories", "9"),
     [r"--territories 9 is more than the 4 accounts in .*accounts\.csv", r"ask for at most one territory per account"]),
    ("align --territories missing", align(),
     [r"--territories N is required unless --reps or --current gives the territories"]),
    ("align --balance-on unknown column", align("--territories", "2", "--balance-on", "revenu"),
     [r"accounts\.csv: missing the metric column 'revenu'", r"columns found: 'account_id'", r"Fix: rename the column"]),
    ("align --balance-on empty", align("--territories", "2", "--balance-on", ","),
     [r"--balance-on needs column names separated by commas, got ','"]),
    ("align --tolerance negative", align("--territories", "2", "--tolerance", "-0.1"),
     [r"--tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got -0\.1"]),
    ("align --tolerance 1", align("--territories", "2", "--tolerance", "1"),
     [r"--tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got 1\.0"]),
    ("align --tolerance 5 (percent, not share)", align("--territories", "2", "--tolerance", "5"),
     [r"--tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got 5\.0 \(did you mean 0\.05\?\)"]),
    ("align --blocks without --block-col", align("--territories", "2", "--blocks", "counties.gpkg"),
     [r"--blocks counties\.gpkg needs --block-col naming the block id column", r"or name a bundled set: counties, zip-areas"]),
    ("align --block-col without --blocks", align("--territories", "2", "--block-col", "county_fips"),
     [r"--block-col COL names the block column of --blocks: give --blocks FILE \(or counties, zip-areas\) too"]),
    ("align --reps missing columns",
     lambda ws: align("--reps", str(ws.text("reps.csv", "rep_id,name\nR1,Ann\n")))(ws),
     [r"reps\.csv: missing the reps column 'latitude' \(columns found: 'rep_id', 'name'\)", r"Fix: rename"]),
    ("align --reps duplicate ids",
     lambda ws: align("--reps", str(ws.text("reps.csv", "rep_id,latitude,longitude\nR1,40,-74\nR1,41,-73\n")))(ws),
     [r"reps\.csv: column 'rep_id': 1 duplicate rep id: 'R1' \(lines 2, 3\)", r"Fix: make the ids unique"]),
    ("align --reps file missing", lambda ws: align("--reps", str(ws.path("nope.csv")))(ws),
     [r"reps file not found: .*nope\.csv"]),
    ("align accounts file missing", lambda ws: ["align", str(ws.path("nope.csv")), "--territories", "2", "--out",
                                                 str(ws.path("out.csv"))],
     [r"accounts file not found: .*nope\.csv"]),
    ("align --close names no current territory", align("--current", "current_territory", "--close", "ZZ"),
     [r"close=\['ZZ'\] names territories that are not current territories", r"give current territory ids"]),
    ("align --lock-col unknown column", align("--territories", "2", "--lock-col", "locked"),
     [r"accounts\.csv: no column 'locked' \(columns: \['account_id'", r"check the spelling or the option"]),
    ("align --lock-col without --current", align("--territories", "2", "--lock-col", "workload"),
     [r"--lock-col workload needs --current COL: a locked account keeps its current territory"]),
    ("align --out over an approved plan", lambda ws: ws.approved() and align("--territories", "2", out="approved")(ws),
     [r"approved holds an approved plan, which is never overwritten", r"save to a new path instead, e\.g\."]),
    ("align --out over a folder that is not a plan", lambda ws: align("--territories", "2", out=".")(ws),
     [r"exists and is not a saved plan folder; choose a new path"]),
    # ---- compare
    ("compare: proposed file missing an account", compare("account_id,territory_id\nA1,T1\nA2,T1\nA3,T2\n"),
     [r"proposed\.csv: no row for 1 account of accounts\.csv: \['A4'\]", r"add one row per account"]),
    ("compare: proposed file lists an account twice",
     compare("account_id,territory_id\nA1,T1\nA2,T1\nA3,T2\nA4,T2\nA4,T1\n"),
     [r"proposed\.csv: 1 account is listed more than once: 'A4' \(lines 5, 6\)", r"keep one row per account"]),
    ("compare: proposed file names an unknown account",
     compare("account_id,territory_id\nA1,T1\nA2,T1\nA3,T2\nA4,T2\nA9,T2\n"),
     [r"proposed\.csv: 1 account is not in accounts\.csv: \['A9'\]", r"remove those rows or add the accounts"]),
    ("compare: proposed file without the columns", compare("id,terr\nA1,T1\n"),
     [r"proposed\.csv has no column\(s\) \['account_id', 'territory_id'\]", r"it needs the columns account_id,territory_id"]),
    ("compare: proposed neither file nor column", compare(None, proposed=lambda ws: ws.path("nope.csv")),
     [r"--proposed .*nope\.csv: no such file or plan folder, and not a column of .*accounts\.csv",
      r"pass a CSV with account_id,territory_id or a saved plan folder"]),
    ("compare: proposed plan tampered",
     compare(None, proposed=lambda ws: ws.tampered(lambda f: (f / "assignments.parquet").write_bytes(b"x"))),
     [r"assignments\.parquet changed since the plan was saved", r"restore the original file"]),
    ("compare --blocks without --block-col", compare("account_id,territory_id\nA1,T1\nA2,T1\nA3,T2\nA4,T2\n",
                                                     "--blocks", "counties.gpkg"),
     [r"--blocks counties\.gpkg needs --block-col naming the block id column"]),
    # ---- approve / plans
    ("approve an approved plan", lambda ws: ["approve", str(ws.approved()), "--by", "Eve"],
     [r"approved is already approved \(by Dana at .*content hash [0-9a-f]{64}\)",
      r"edit it and save a new draft instead"]),
    ("approve a tampered plan", lambda ws: ["approve", str(ws.tampered(edit_manifest(created_by="Mallory"))),
                                            "--by", "Eve"],
     [r"tampered/manifest\.json was edited", r"no longer matches its record hash"]),
    ("plans of a missing folder", lambda ws: ["plans", str(ws.path("nowhere"))],
     [r"no folder .*nowhere to list plans from"]),
    # ---- export
    ("export a draft without --allow-draft", lambda ws: ["export", str(ws.saved()), "--to", str(ws.path("out"))],
     [r"plan 'q3' \(hash [0-9a-f]{12}\) is a draft", r"--allow-draft"]),
    ("export to a path that is a file", lambda ws: ["export", str(ws.approved()), "--to", str(ws.accounts)],
     [r"export target .*accounts\.csv is a file; pass a folder path"]),
    ("export over another plan's export without --force",
     lambda ws: ["export", str(ws.approved()), "--to", str(ws.export(draft_plan().reassign(["A1"], "T2"))),
                 "--format", "csv"],
     [r"export target .*export holds an export of another plan", r"pass force=True \(--force\)"]),
    ("export --format unknown", lambda ws: ["export", str(ws.approved()), "--to", str(ws.path("out")),
                                            "--format", "pdf"],
     [r"unknown export format 'pdf'; choose from csv, excel"]),
    ("export --blocks without --block-col", lambda ws: ["export", str(ws.approved()), "--to", str(ws.path("out")),
                                                        "--blocks", "counties.gpkg"],
     [r"--blocks counties\.gpkg needs --block-col"]),
    ("export a folder that is not a plan", lambda ws: ["export", str(ws.text("n.txt", "x").parent), "--to",
                                                       str(ws.path("out"))],
     [r"is not a saved plan folder \(no manifest\.json\); save plans with save_plan"]),
    ("export a missing plan", lambda ws: ["export", str(ws.path("nowhere")), "--to", str(ws.path("out"))],
     [r"no saved plan at .*nowhere"]),
]


@pytest.mark.parametrize("name, build, patterns", CLI, ids=[entry[0] for entry in CLI])
def test_bad_cli_argument_message(tmp_path, capsys, name, build, patterns):
    assert_refused_command(tmp_path, capsys, build, patterns)


def test_catalogues_are_large_enough():
    assert len(API) + len(CLI) >= 60
    assert len({name for name, *_ in API + CLI}) == len(API) + len(CLI)


# ----------------------------------------------------------------------------------------------------------------
# The installed command, in a real process
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["align --territories more than accounts",
                                  "export over another plan's export without --force"])
def test_installed_command_prints_one_error_line(tmp_path, name):
    _, build, patterns = {entry[0]: entry for entry in CLI}[name]
    argv = build(Workspace(tmp_path))
    result = subprocess.run([str(WORKBENCH), *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for pattern in patterns:
        assert re.search(pattern, result.stderr), f"{pattern!r} not in {result.stderr!r}"


def test_an_unparsable_option_value_is_argparse_usage_not_a_traceback(tmp_path):
    """Type errors in option values are caught by argparse: usage line + one error line naming the option."""
    result = subprocess.run([str(WORKBENCH), "align", "accounts.csv", "--territories", "five", "--out", "o.csv"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "workbench align: error: argument --territories: invalid int value: 'five'"


def test_align_out_into_a_new_folder_creates_it(tmp_path, capsys):
    """Not an error: ``--out`` into folders that do not exist yet creates them (atomically)."""
    ws = Workspace(tmp_path)
    out = tmp_path / "new" / "deeper" / "out.csv"
    assert main(["align", str(ws.accounts), "--territories", "2", "--seed", "0", "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str)
    assert table["account_id"].tolist() == ACCOUNTS["account_id"].tolist()
    assert table["territory_id"].notna().all()
    assert [p.name for p in out.parent.iterdir()] == ["out.csv"]


# ----------------------------------------------------------------------------------------------------------------
# Messages that point at the wrong fix (found while writing this catalogue)
# ----------------------------------------------------------------------------------------------------------------
def test_align_unknown_metric_suggests_an_option_align_has(tmp_path, capsys):
    assert main(align("--territories", "2", "--balance-on", "revenu")(Workspace(tmp_path))) == 2
    err = capsys.readouterr().err
    assert "workbench align/compare: --balance-on YOUR_COLUMN" in err, err


def test_align_unknown_current_column_suggests_the_right_option(tmp_path, capsys):
    assert main(align("--territories", "2", "--current", "curent_territory")(Workspace(tmp_path))) == 2
    err = capsys.readouterr().err
    assert "columns={'current_territory': 'current_territory'}" not in err, err
    assert "--current current_territory" in err, err


def test_rep_capacity_message_shows_plain_values():
    with pytest.raises(InputError) as info:
        RepAnchoredTerritories().fit(ACCOUNTS, reps=REPS.assign(capacity_hours=[1600, 0]))
    assert re.search(r"reps column 'capacity_hours' must be positive numbers; reps \['R2'\] have \[0\]",
                     str(info.value)), str(info.value)


# ----------------------------------------------------------------------------------------------------------------
# Loading with on_invalid="exclude": every row is loaded or reported, never dropped silently
# ----------------------------------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workbench.io import load_accounts  # noqa: E402
from workbench.signoff import review_and_approve

CELLS = {
    "account_id": st.sampled_from(["A1", "A2", "A3", "007", "NA", "", " ", "A1 "]),
    "latitude": st.sampled_from(["40.7", "-33.9", "95", "x", "", "4,5", "1e1", "NaN"]),
    "longitude": st.sampled_from(["-74.0", "151.2", "-181", "", "east", "0"]),
    "workload": st.sampled_from(["1", "0", "2.5", "", "-1", "lots"]),
}


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=12))
def test_excluded_rows_are_reported_and_the_rest_loaded(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("load") / "accounts.csv"
    pd.DataFrame(rows, columns=list(CELLS)).to_csv(path, index=False)
    try:
        accounts, report = load_accounts(path, on_invalid="exclude", return_report=True)
    except InputError as error:  # nothing usable at all: must say so, naming the file
        assert "accounts.csv" in str(error)
        return
    assert report.n_rows_read == len(rows)
    lines = set(report.excluded["line"]) if len(report.excluded) else set()
    assert report.n_loaded == len(accounts) == len(rows) - len(lines), report.excluded
    assert accounts["account_id"].is_unique
    assert accounts[["latitude", "longitude"]].notna().all().all()
    loaded = set(accounts["account_id"])
    given_ids = {str(r["account_id"]).strip() for r in rows} - {""}
    reported = set(report.excluded["account_id"].dropna().astype(str).str.strip()) if len(report.excluded) else set()
    assert given_ids <= loaded | reported, "an account id vanished without a report"
