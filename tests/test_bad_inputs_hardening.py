"""Hostile inputs found by trying the workbench as an attacker would (issue #15).

Same shape as ``tests/test_bad_inputs_more.py``: each entry builds a bad situation in
``tmp_path`` and states what the one-line error must say. Command-line entries must exit
with code 2 and print exactly one stderr line starting ``error:``, never a traceback, and
leave no file behind.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from test_bad_inputs_more import (ACCOUNTS, Workspace, align, assert_refused_call, assert_refused_command,
                                  draft_plan)

from workbench.cli import main
from workbench.compare import compare_plans
from workbench.errors import InputError, PlanError, TamperedPlanError
from workbench.export import export_plan, read_manifest
from workbench.plan import Plan, list_plans, load_plan
from workbench.signoff import review_and_approve


def with_manifest(edit, name: str = "draft"):
    """A saved draft whose manifest.json is rewritten by ``edit(dict) -> dict | str``."""
    def build(ws: Workspace) -> Path:
        folder = ws.saved(name)
        manifest = json.loads((folder / "manifest.json").read_text())
        changed = edit(manifest)
        (folder / "manifest.json").write_text(changed if isinstance(changed, str) else json.dumps(changed))
        return folder
    return build


def replace(**fields):
    return lambda m: {**m, **fields}


DEEP = "[" * 100_000 + "]" * 100_000


def metric_file(value: str):
    """accounts.csv whose last workload is ``value``."""
    def build(ws: Workspace) -> Path:
        frame = ACCOUNTS.astype(str)
        frame.loc[3, "workload"] = value
        path = ws.path("metric.csv")
        frame.to_csv(path, index=False)
        return path
    return build


def export_with_manifest(edit):
    def build(ws: Workspace) -> Path:
        folder = ws.export(draft_plan())
        manifest = json.loads((folder / "manifest.json").read_text())
        (folder / "manifest.json").write_text(json.dumps(edit(manifest)))
        return folder
    return build


def without(key):
    return lambda m: {k: v for k, v in m.items() if k != key}


# ----------------------------------------------------------------------------------------------------------------
# Python API: (name, build(ws) -> callable, error class, [patterns])
# ----------------------------------------------------------------------------------------------------------------
API = [
    ("manifest: nested 100,000 deep", lambda ws: partial(load_plan, with_manifest(lambda m: DEEP)(ws)),
     TamperedPlanError, [r"draft/manifest\.json is nested too deeply to be a plan manifest",
                         r"restore the folder or save the plan again"]),
    ("manifest: files is a list", lambda ws: partial(load_plan, with_manifest(replace(files=[1, 2]))(ws)),
     TamperedPlanError, [r"draft/manifest\.json is damaged: 'files' is list",
                         r"restore the folder or save the plan again"]),
    ("manifest: a file entry is a string",
     lambda ws: partial(load_plan, with_manifest(lambda m: {**m, "files": {**m["files"], "accounts.parquet": "x"}})(ws)),
     TamperedPlanError, [r"'files' entry 'accounts\.parquet' is str"]),
    ("manifest: name is an object and parameters a list",
     lambda ws: partial(load_plan, with_manifest(replace(name={"x": 1}, parameters=[1]))(ws)),
     TamperedPlanError, [r"damaged: 'name' is dict; 'parameters' is list"]),
    ("manifest: counts is a list", lambda ws: partial(load_plan, with_manifest(replace(counts=[1, 2]))(ws)),
     TamperedPlanError, [r"damaged: 'counts' is list"]),
    ("export manifest without 'plan'",
     lambda ws: partial(read_manifest, export_with_manifest(without("plan"))(ws)),
     PlanError, [r"export/manifest\.json is a damaged export manifest \(its 'plan' entry is missing",
                 r"pass force=True \(--force\) to replace this one"]),
    ("export over a damaged export manifest without force",
     lambda ws: partial(export_plan, draft_plan(), export_with_manifest(replace(files={"a": 1}))(ws),
                        formats="csv", allow_draft=True),
     PlanError, [r"damaged export manifest \(its 'files' entry is not a list"]),
    ("plan: labels T1, 'T1 ' and tab-T1",
     lambda ws: partial(Plan.from_labels, ACCOUNTS, ["T1", "T1 ", "\tT1", "T2"]),
     InputError, [r"labels spell one territory id in 3 ways: 'T1' / 'T1 ' / '\\tT1'",
                  r"differ only in surrounding whitespace or Unicode form \(NFC/NFD\)", r"write each one way"]),
    ("plan: territory ids in two Unicode forms",
     lambda ws: partial(Plan.from_labels, ACCOUNTS, ["Caf\u00e9", "Cafe\u0301", "T2", "T2"]),
     InputError, [r"labels spell one territory id in 2 ways: 'Caf\\xe9' / 'Cafe\\u0301'"]),
    ("plan: account ids in two Unicode forms",
     lambda ws: partial(Plan.from_labels, pd.DataFrame({"account_id": ["Z\u00fcrich", "Zu\u0308rich"]}), ["T1", "T1"]),
     InputError, [r"'account_id' values spell one account id in 2 ways: 'Z\\xfcrich' / 'Zu\\u0308rich'"]),
    ("plan: float account ids above 2**53",
     lambda ws: partial(Plan.from_labels, pd.DataFrame({"account_id": [1e20, 3.0]}), ["T1", "T1"]),
     InputError, [r"ids stored as floating-point numbers above 2\*\*53 have lost digits \(account_id 1e\+20 in rows 0\)",
                  r"store the ids as text"]),
    ("approve: approver name with a newline", lambda ws: partial(review_and_approve, draft_plan(), by="Dana\nroot"),
     PlanError, [r"approver name \(--by\) 'Dana\\nroot' holds 1 control character \('\\n' at position 4\)",
                 r"type it as plain text"]),
    ("approve: approver name with ANSI escapes", lambda ws: partial(review_and_approve, draft_plan(), by="\x1b[2J\x1b[31mDana"),
     PlanError, [r"holds 2 control characters \('\\x1b' at position 0\)"]),
    ("approve: note with a right-to-left override", lambda ws: partial(review_and_approve, draft_plan(), by="Dana",
                                                                       note="ok \u202etxt.exe"),
     PlanError, [r"approval note \(--note\) 'ok \\u202etxt\.exe' holds 1 control character"]),
    ("compare: tolerance -1",
     lambda ws: partial(compare_plans, draft_plan(), draft_plan(), tolerance=-1),
     InputError, [r"tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got -1 \(CLI: --tolerance\)"]),
    ("compare: tolerance inf",
     lambda ws: partial(compare_plans, draft_plan(), draft_plan(), tolerance=float("inf")),
     InputError, [r"tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got inf"]),
]


@pytest.mark.parametrize("name, build, error, patterns", API, ids=[entry[0] for entry in API])
def test_hostile_api_input_message(tmp_path, name, build, error, patterns):
    assert_refused_call(tmp_path, build, error, patterns, exact_type=False)


# ----------------------------------------------------------------------------------------------------------------
# Command line: (name, build(ws) -> argv, [patterns])
# ----------------------------------------------------------------------------------------------------------------
def compare_file(build_accounts, *extra):
    return lambda ws: ["compare", str(build_accounts(ws)), "--current", "current_territory", "--proposed",
                       "current_territory", *extra]


CLI = [
    ("align --seed -1", align("--territories", "2", "--seed", "-1"),
     [r"--seed must be a whole number from 0 to 4294967295 \(2\*\*32 - 1\), got -1"]),
    ("align --seed 2**32", align("--territories", "2", "--seed", str(2**32)),
     [r"--seed must be a whole number from 0 to 4294967295 \(2\*\*32 - 1\), got 4294967296"]),
    ("align --out ''", lambda ws: ["align", str(ws.accounts), "--territories", "2", "--out", ""],
     [r"--out is empty; give a file name ending in \.csv"]),
    ("align --out . (relative)", lambda ws: ["align", str(ws.accounts), "--territories", "2", "--out", "."],
     [r"--out \. is a folder that exists \(it names no new file or plan folder\)", r"e\.g\. proposal\.csv"]),
    ("align --out ..", lambda ws: ["align", str(ws.accounts), "--territories", "2", "--out", ".."],
     [r"--out \.\. is a folder that exists", r"e\.g\. \.\./proposal\.csv"]),
    ("align: workload 1e308 (balanced)",
     lambda ws: ["align", str(metric_file("1e308")(ws)), "--territories", "2", "--balance-on", "workload",
                 "--out", str(ws.path("o.csv"))],
     [r"metric\.csv: column 'workload': workload is above 1e\+15", r"line 5 \(1e\+308\)",
      r"use a larger unit \(e\.g\. thousands\)"]),
    ("align: workload 1e308 (k-means)",
     lambda ws: ["align", str(metric_file("1e308")(ws)), "--territories", "2", "--out", str(ws.path("o.csv"))],
     [r"column 'workload': workload is above 1e\+15"]),
    ("compare --json: workload 1e308", compare_file(metric_file("1e308"), "--json"),
     [r"column 'workload': workload is above 1e\+15"]),
    ("compare --tolerance inf --json", compare_file(lambda ws: ws.accounts, "--tolerance", "inf", "--json"),
     [r"tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got inf"]),
    ("compare --tolerance -1", compare_file(lambda ws: ws.accounts, "--tolerance", "-1"),
     [r"tolerance must be a share between 0 and 1 \(0\.05 = 5%\), got -1\.0 \(CLI: --tolerance\)"]),
    ("compare --tolerance nan", compare_file(lambda ws: ws.accounts, "--tolerance", "nan"),
     [r"tolerance must be a share between 0 and 1"]),
    ("approve: manifest nested too deeply", lambda ws: ["approve", str(with_manifest(lambda m: DEEP)(ws)), "--by", "E"],
     [r"manifest\.json is nested too deeply"]),
    ("export: manifest with a list for files",
     lambda ws: ["export", str(with_manifest(replace(files=[]))(ws)), "--to", str(ws.path("out")), "--allow-draft"],
     [r"manifest\.json is damaged: 'files' is list"]),
    ("export over an export manifest without 'plan'",
     lambda ws: ["export", str(ws.saved()), "--to", str(export_with_manifest(without("plan"))(ws)), "--allow-draft",
                 "--format", "csv"],
     [r"export/manifest\.json is a damaged export manifest", r"--force"]),
]


def link(name: str, to):
    """A symbolic link ``name`` in the workspace pointing at ``to(ws)``."""
    def build(ws: Workspace) -> Path:
        path = ws.path(name)
        path.symlink_to(to(ws), target_is_directory=True)
        return path
    return build


def outside(ws: Workspace) -> Path:
    folder = ws.path("outside")
    folder.mkdir(exist_ok=True)
    return folder


def nfd_accounts(ws: Workspace) -> Path:
    frame = ACCOUNTS.copy()
    frame["account_id"] = ["Caf\u00e9", "Cafe\u0301", "A3", "A4"]
    path = ws.path("nfd.csv")
    frame.to_csv(path, index=False)
    return path


def dated_accounts(ws: Workspace) -> Path:
    path = ws.path("dated.parquet")
    ACCOUNTS.assign(workload=pd.to_datetime(["2024-01-05"] * 4)).to_parquet(path)
    return path


CLI += [
    ("align --out the accounts file itself", lambda ws: ["align", str(ws.accounts), "--territories", "2", "--out",
                                                        str(ws.accounts)],
     [r"--out .*accounts\.csv is the input ACCOUNTS \(.*accounts\.csv\); writing it would destroy what it was made "
      r"from: give another path"]),
    ("export --to inside the plan it exports", lambda ws: ["export", str(ws.saved()), "--to",
                                                          str(ws.saved() / "export"), "--allow-draft"],
     [r"--to .*draft/export is inside the input PLAN \(.*draft\); writing there would change it"]),
    ("compare --moved onto the proposed file",
     lambda ws: ["compare", str(ws.accounts), "--current", "current_territory", "--proposed",
                 str(ws.text("p.csv", "account_id,territory_id\nA1,T1\nA2,T1\nA3,T2\nA4,T2\n")), "--moved",
                 str(ws.path("p.csv"))],
     [r"--moved .*p\.csv is the input --proposed"]),
    ("align --balance-on a date column",
     lambda ws: ["align", str(dated_accounts(ws)), "--territories", "2", "--balance-on", "workload", "--out",
                 str(ws.path("o.csv"))],
     [r"dated\.parquet: column 'workload': workload is not a number on 4 rows", r"Fix: use plain numbers"]),
    ("align: account ids that look the same (NFC and NFD)",
     lambda ws: ["align", str(nfd_accounts(ws)), "--territories", "2", "--out", str(ws.path("o.csv"))],
     [r"nfd\.csv: column 'account_id': 1 duplicate account id: 'Caf\u00e9' \(lines 2, 3\)",
      r"same text written with different Unicode characters, NFC vs NFD", r"Fix: make the ids unique"]),
    ("approve --by with a newline", lambda ws: ["approve", str(ws.saved()), "--by", "Dana\nApproved by: CEO"],
     [r"approver name \(--by\) 'Dana\\nApproved by: CEO' holds 1 control character"]),

    ("export --to a symlink to a folder outside",
     lambda ws: ["export", str(ws.saved()), "--to", str(link("out", outside)(ws)), "--allow-draft"],
     [r"out is a symbolic link \(to .*outside\); pass the real folder .*outside or a new path",
      r"workbench never writes through a link"]),
    ("export --to a symlink to an earlier export of the same plan",
     lambda ws: ["export", str(ws.saved()), "--to", str(link("out", lambda w: w.export(draft_plan()))(ws)),
                 "--allow-draft", "--format", "csv"],
     [r"out is a symbolic link \(to .*export\)"]),
    ("align --out a symlink to a plan folder",
     lambda ws: ["align", str(ws.accounts), "--territories", "2", "--out", str(link("plan", lambda w: w.saved())(ws))],
     [r"plan is a symbolic link \(to .*draft\); pass the real folder"]),
    ("approve a plan through a symlink",
     lambda ws: ["approve", str(link("plan", lambda w: w.saved())(ws)), "--by", "Eve"],
     [r"plan is a symbolic link \(to .*draft\); pass the real folder .*draft or a new path"]),
]


@pytest.mark.parametrize("name, build, patterns", CLI, ids=[entry[0] for entry in CLI])
def test_hostile_cli_argument_message(tmp_path, capsys, monkeypatch, name, build, patterns):
    monkeypatch.chdir(tmp_path)
    assert_refused_command(tmp_path, capsys, build, patterns)


# ----------------------------------------------------------------------------------------------------------------
# Not errors: what must keep working with hostile folders around
# ----------------------------------------------------------------------------------------------------------------
def test_plans_lists_damaged_and_foreign_manifests_instead_of_crashing(tmp_path, capsys):
    ws = Workspace(tmp_path)
    ws.saved("good")
    with_manifest(replace(counts=[1, 2]), "counts-list")(ws)
    with_manifest(lambda m: DEEP, "deep")(ws)
    with_manifest(lambda m: {"format": "something-else", "counts": "x"}, "foreign")(ws)
    with_manifest(lambda m: [1, 2, 3], "a-list")(ws)
    table = list_plans(tmp_path)
    by_folder = table.set_index(table["path"].map(lambda p: Path(p).name))
    assert by_folder.loc["good", "status"] == "draft" and pd.isna(by_folder.loc["good", "problem"])
    for folder in ("counts-list", "deep", "foreign", "a-list"):
        assert by_folder.loc[folder, "status"] == "unreadable", folder
        assert f"{folder}/manifest.json" in by_folder.loc[folder, "problem"]
    assert main(["plans", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "unreadable" in out and "nested too deeply" in out
    assert main(["plans", str(tmp_path), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {Path(r["path"]).name for r in records} == {"good", "counts-list", "deep", "foreign", "a-list"}


def test_compare_json_has_no_nan_or_infinity(tmp_path, capsys):
    """A zero-workload territory makes deviations infinite: --json still parses (null, never Infinity)."""
    ws = Workspace(tmp_path)
    frame = ACCOUNTS.assign(workload=[0.0, 0.0, 3.0, 4.0])
    frame.to_csv(ws.path("zero.csv"), index=False)
    assert main(["compare", str(ws.path("zero.csv")), "--current", "current_territory", "--proposed",
                 "current_territory", "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


def test_float_ids_from_parquet_are_read_as_the_whole_numbers_they_hold(tmp_path, capsys):
    """Ids such as 1e20 stored as floats (Parquet, Excel) crashed align; they are read as exact whole numbers."""
    frame = ACCOUNTS.assign(account_id=[1e20, 2e20, 3.0, 4.5])
    frame.to_parquet(tmp_path / "accounts.parquet")
    out = tmp_path / "out.csv"
    assert main(["align", str(tmp_path / "accounts.parquet"), "--territories", "2", "--out", str(out)]) == 0
    ids = pd.read_csv(out, dtype=str)["account_id"].tolist()
    assert ids == ["100000000000000000000", "200000000000000000000", "3", "4.5"]
