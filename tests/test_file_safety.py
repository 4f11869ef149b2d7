"""Safe files: writes are atomic, a killed export or save leaves nothing half-written, approved
plans are read-only, spreadsheet cells never carry a formula, and no name can write outside the
export folder.

The kill tests run ``export_plan`` / ``save_plan`` in a child process (``sys.executable -c``) with
one step patched to announce itself and then hang, so the parent can ``SIGKILL`` it at a known
point inside the write (deterministic, no sleeps to tune); one more test kills a large export at
several moments chosen by time alone.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from workbench.errors import InputError, PlanError
from workbench.export import export_plan, read_assignments, read_assignments_table, verify_export
from workbench.plan import Plan, list_plans, load_plan, save_plan
from workbench.safeio import atomic_directory, atomic_path, atomic_write_text
from workbench.signoff import review_and_approve

EVIL_NAMES = ['=HYPERLINK("http://evil")', "@SUM(A1)", "+1-555", "-2 Corp", "=1+1", "\tTAB", "'quoted", "Acme"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def make_accounts(n: int, seed: int = 0, ids=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "account_id": ids if ids is not None else [f"A{i:06d}" for i in range(n)],
        "name": [EVIL_NAMES[i % len(EVIL_NAMES)] for i in range(n)],
        "latitude": rng.uniform(39.0, 42.0, n),
        "longitude": rng.uniform(-100.0, -95.0, n),
        "workload": rng.uniform(1.0, 3.0, n).round(2),
        "current_territory": [f"T{i % 4 + 1}" for i in range(n)],
    })


def make_plan(n: int = 12, *, shift: int = 0, approved: bool = True, name: str = "q3") -> Plan:
    accounts = make_accounts(n)
    labels = [f"T{(i + shift) % 4 + 1}" for i in range(n)]
    plan = Plan.from_labels(accounts, labels, name=name)
    return review_and_approve(plan, by="Dana", accept_warnings=True) if approved else plan


def tree(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def hidden_temp(path: Path) -> bool:
    """A staging name of :mod:`workbench.safeio` (``.NAME.XXXX.partial`` / ``.old`` / ``.tmp``) or a lock file
    of :mod:`workbench.locking` (``.NAME.lock``, left unlocked by a killed process)."""
    return path.name.startswith(".") and path.name.endswith((".partial", ".old", ".tmp", ".lock"))


# --------------------------------------------------------------------------- atomic primitives
def test_atomic_path_leaves_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_write_replaces_in_one_step(tmp_path):
    target = tmp_path / "note.txt"
    target.write_text("old")
    inode = target.stat().st_ino
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and target.stat().st_ino != inode  # a new file renamed over, not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt"]


def test_atomic_directory_keeps_the_old_folder_when_the_build_fails(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "a.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(target, replace=True) as folder:
            (folder / "a.csv").write_text("new, half")
            raise RuntimeError("boom")
    assert (target / "a.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_a_failing_export_leaves_the_previous_export_untouched(tmp_path, monkeypatch):
    out = export_plan(make_plan(), tmp_path / "export", formats="csv,excel")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("workbench.export.excel.write_workbook", broken)
    with pytest.raises(OSError, match="disk full"):
        export_plan(make_plan(shift=1), out, formats="csv,excel", force=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    assert verify_export(out)["plan"]["content_hash"] == make_plan().content_hash


def test_a_failing_save_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("workbench.plan._store.atomic_write_text", broken)  # the manifest, written last
    with pytest.raises(OSError, match="disk full"):
        save_plan(make_plan(approved=False), tmp_path / "plan")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- killed mid-way (SIGKILL)
CHILD = textwrap.dedent("""
    import sys, time, importlib
    from pathlib import Path
    from workbench.plan import load_plan

    plan_dir, target, marker, patch, mode = sys.argv[1:6]
    marker = Path(marker)
    plan = load_plan(plan_dir)  # before patching: loading verifies hashes with the functions patched below
    if patch != "-":  # "module:function": run it, announce where we are, then hang until killed
        module_name, attribute = patch.split(":")
        module = importlib.import_module(module_name)
        real = getattr(module, attribute)

        def hang(*args, **kwargs):
            result = real(*args, **kwargs)
            marker.write_text("inside")
            time.sleep(600)
            return result

        setattr(module, attribute, hang)
    if mode == "export":
        from workbench.export import export_plan
        marker.with_suffix(".started").write_text("go")
        export_plan(plan, target, formats="csv,excel,salesforce", force=True)
    else:
        from workbench.plan import save_plan
        marker.with_suffix(".started").write_text("go")
        save_plan(plan.with_name("second"), target, overwrite=True)
    marker.write_text("done")
""")


def run_child(plan_dir: Path, target: Path, work: Path, patch: str, mode: str, kill_after: float | None = None):
    """Start the child; kill it when it announces the patched step (or ``kill_after`` s after starting)."""
    marker = work / "marker.txt"
    for stale in (marker, marker.with_suffix(".started")):
        stale.unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(plan_dir), str(target), str(marker), patch, mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if kill_after is None and marker.exists() and marker.read_text() == "inside":
                break
            started = marker.with_suffix(".started")
            if kill_after is not None and started.exists():
                time.sleep(kill_after)
                break
            time.sleep(0.02)
        finished = child.poll() is not None
        if not finished:
            os.kill(child.pid, signal.SIGKILL)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if kill_after is None:
        assert not finished, err.decode()[-2000:]
        assert child.returncode == -signal.SIGKILL
    return child.returncode, marker.read_text() if marker.exists() else ""


def assert_only_hidden_leftovers(parent: Path, allowed: set[str]):
    for path in parent.iterdir():
        assert path.name in allowed or hidden_temp(path), f"left behind: {path}"


@pytest.fixture(scope="module")
def saved_plans(tmp_path_factory):
    root = tmp_path_factory.mktemp("plans")
    first = make_plan(400)
    second = make_plan(400, shift=1)
    return {"first": first, "second": second,
            "first_dir": save_plan(first, root / "first"), "second_dir": save_plan(second, root / "second")}


@pytest.mark.parametrize("patch", ["workbench.export.tables:write_assignments",
                                   "workbench.export.excel:write_workbook",
                                   "workbench.export.manifest:write_manifest"])
def test_a_killed_first_export_leaves_no_target_and_a_rerun_succeeds(tmp_path, saved_plans, patch):
    out = tmp_path / "export"
    run_child(saved_plans["second_dir"], out, tmp_path, patch, "export")
    assert not out.exists(), "a killed first export must leave no target folder"
    assert_only_hidden_leftovers(tmp_path, {"marker.txt", "marker.started"})
    stale = [p for p in tmp_path.iterdir() if hidden_temp(p)]
    assert stale, "the child was killed inside the staging folder, so one should remain (hidden)"
    # Re-running ignores the stale staging folder and writes a complete export.
    export_plan(saved_plans["second"], out, formats="csv,excel,salesforce")
    assert verify_export(out)["plan"]["content_hash"] == saved_plans["second"].content_hash
    pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), saved_plans["second"].assignments)


@pytest.mark.parametrize("patch", ["workbench.export.excel:write_workbook",
                                   "workbench.export.manifest:write_manifest"])
def test_a_killed_re_export_keeps_the_previous_complete_export(tmp_path, saved_plans, patch):
    out = export_plan(saved_plans["first"], tmp_path / "export", formats="csv,excel,salesforce")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    run_child(saved_plans["second_dir"], out, tmp_path, patch, "export")
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert verify_export(out)["plan"]["content_hash"] == saved_plans["first"].content_hash
    assert_only_hidden_leftovers(tmp_path, {"export", "marker.txt", "marker.started"})


@pytest.fixture(scope="module")
def big_plan(tmp_path_factory):
    """A saved 20,000-account plan and how long exporting it takes here (seconds)."""
    folder = save_plan(make_plan(20_000), tmp_path_factory.mktemp("big") / "plan")
    start = time.perf_counter()
    export_plan(load_plan(folder), tmp_path_factory.mktemp("timing") / "export", formats="csv,excel,salesforce")
    return folder, time.perf_counter() - start


@pytest.mark.parametrize("fraction", [0.2, 0.6, 0.9])
def test_an_export_killed_at_any_moment_is_absent_or_complete(tmp_path, big_plan, fraction):
    """Killed ``fraction`` of the way through (by time alone): the target is absent, or complete and verified."""
    folder, seconds = big_plan
    out = tmp_path / "export"
    run_child(folder, out, tmp_path, "-", "export", kill_after=fraction * seconds)
    if out.exists():
        assert verify_export(out)["plan"]["content_hash"] == load_plan(folder).content_hash
        pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), load_plan(folder).assignments)
    assert_only_hidden_leftovers(tmp_path, {"export", "marker.txt", "marker.started"})


@pytest.mark.parametrize("patch", ["workbench.plan._store:sha256_file", "workbench.plan._store:atomic_write_text"])
def test_a_killed_save_keeps_the_previous_plan(tmp_path, saved_plans, patch):
    target = tmp_path / "plan"
    save_plan(saved_plans["first"].with_name("first draft"), target)
    first = load_plan(target)
    run_child(saved_plans["first_dir"], target, tmp_path, patch, "save")
    assert load_plan(target) == first
    assert_only_hidden_leftovers(tmp_path, {"plan", "marker.txt", "marker.started"})
    # A re-run succeeds next to the stale staging folder.
    save_plan(first.with_name("again"), target, overwrite=True)
    assert load_plan(target).name == "again"


def test_list_plans_ignores_the_staging_folder_of_a_killed_save(tmp_path, saved_plans):
    save_plan(saved_plans["first"].with_name("first draft"), tmp_path / "plan")
    run_child(saved_plans["first_dir"], tmp_path / "plan", tmp_path, "workbench.plan._store:atomic_write_text", "save")
    table = list_plans(tmp_path)
    assert table["path"].map(lambda p: Path(p).name).tolist() == ["plan"], table[["path", "name"]]


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_written_files_get_the_usual_permissions(tmp_path):
    mask = 0o022
    old = os.umask(mask)
    try:
        note = atomic_write_text(tmp_path / "note.txt", "x")
        export = export_plan(make_plan(), tmp_path / "export", formats="csv")
        draft = save_plan(make_plan(approved=False), tmp_path / "draft")
        approved = save_plan(make_plan(), tmp_path / "approved")
    finally:
        os.umask(old)
    for path in [note, *export.rglob("*"), *draft.rglob("*")]:
        expected = (0o777 if path.is_dir() else 0o666) & ~mask
        assert stat.S_IMODE(path.stat().st_mode) == expected, f"{path}: {oct(path.stat().st_mode)}"
    for path in [export, draft]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, f"{path}: {oct(path.stat().st_mode)}"
    for path in approved.iterdir():  # read-only, but readable like any other file
        assert stat.S_IMODE(path.stat().st_mode) == 0o444, f"{path}: {oct(path.stat().st_mode)}"


@pytest.mark.parametrize("to", [".", "..", "{cwd}"])
def test_export_to_the_working_folder_is_a_clear_error(tmp_path, monkeypatch, to):
    """The export folder is replaced by one rename, so it cannot be (or hold) the working folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    to = to.format(cwd=work)
    with pytest.raises(InputError, match=r"export target .* is the working folder or holds it; pass a new folder "
                                         r"inside it instead, e\.g\. .*export"):
        export_plan(make_plan(), to, formats="csv")
    assert list(tmp_path.rglob("*")) == [work]


# --------------------------------------------------------------------------- approved plans are read-only
def write_bits(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_approved_plans_are_saved_read_only_and_drafts_stay_writable(tmp_path):
    approved = save_plan(make_plan(), tmp_path / "approved")
    draft = save_plan(make_plan(approved=False), tmp_path / "draft")
    for path in [approved, *approved.iterdir()]:
        assert write_bits(path) == 0, f"{path} is writable: {oct(path.stat().st_mode)}"
    for path in draft.iterdir():
        assert write_bits(path) != 0
    manifest = json.loads((approved / "manifest.json").read_text())
    assert manifest["status"] == "approved"
    assert load_plan(approved).content_hash == manifest["content_hash"] == make_plan().content_hash


def test_cli_approve_makes_the_saved_plan_read_only(tmp_path, capsys):
    from workbench.cli import main

    folder = save_plan(make_plan(approved=False), tmp_path / "plan")
    assert main(["approve", str(folder), "--by", "Dana", "--note", "ok", "--accept-warnings"]) == 0
    assert f"content hash: {make_plan(approved=False).content_hash}" in capsys.readouterr().out
    assert all(write_bits(p) == 0 for p in [folder, *folder.iterdir()])
    assert load_plan(folder).metadata.approved_by == "Dana"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_an_approved_plan_edited_on_disk_is_refused(tmp_path):
    folder = save_plan(make_plan(), tmp_path / "approved")
    target = folder / "assignments.parquet"
    os.chmod(folder, 0o755)
    os.chmod(target, 0o644)
    table = pd.read_parquet(target)
    table["territory_id"] = "T1"
    table.to_parquet(target, index=False)
    with pytest.raises(PlanError, match=r"assignments\.parquet changed since the plan was saved"):
        load_plan(folder)
    with pytest.raises(PlanError, match=r"assignments\.parquet changed since the plan was saved"):
        export_plan(folder, tmp_path / "export")
    assert not (tmp_path / "export").exists()


# --------------------------------------------------------------------------- formula injection
@pytest.fixture(scope="module")
def evil_export(tmp_path_factory):
    ids = ["=cmd|' /C calc'!A0", "-1", "+A1", "@x", "'q", "00123", "plain", "\rCR"]
    accounts = make_accounts(len(ids), ids=ids)
    accounts["name"] = EVIL_NAMES
    plan = Plan.from_labels(accounts, ["=T1", "-T2", "+T3", "@T4"] * 2, name="=evil plan")
    plan = plan.rename_territory("=T1", "=SUM(A1:A9)").rename_territory("-T2", "@north")
    plan = review_and_approve(plan, by="=Eve", note="+note", accept_warnings=True)
    out = export_plan(plan, tmp_path_factory.mktemp("evil") / "export", formats="csv,excel,salesforce")
    return plan, out


def test_csv_cells_that_could_be_formulas_start_with_a_quote(evil_export):
    plan, out = evil_export
    raw = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    for column in ["account_id", "account_name", "territory_id", "territory_name"]:
        for value in raw[column]:
            assert not value.startswith(FORMULA_START), f"{column}: {value!r}"
    assert "'=HYPERLINK(\"http://evil\")" in raw["account_name"].tolist()
    assert {"'@SUM(A1)", "'+1-555", "'-2 Corp", "''quoted", "Acme"} <= set(raw["account_name"])


def test_csv_reimport_gives_the_original_values_back(evil_export):
    plan, out = evil_export
    pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), plan.assignments)
    table = read_assignments_table(out / "assignments.csv")
    assert table["account_name"].tolist() == EVIL_NAMES
    assert set(table["territory_name"]) == {"=SUM(A1:A9)", "@north", "+T3", "@T4"}


def test_salesforce_csvs_carry_no_formula(evil_export):
    _, out = evil_export
    for path in (out / "salesforce").glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            assert not str(column).startswith(FORMULA_START)
            bad = [v for v in frame[column] if v.startswith(FORMULA_START)]
            assert not bad, f"{path.name}:{column}: {bad[:3]}"


def test_excel_cells_are_text_never_formulas(evil_export):
    _, out = evil_export
    book = openpyxl.load_workbook(out / "summary.xlsx")
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                    seen.add(cell.value)
    assert "'=SUM(A1:A9)" in seen and "'@north" in seen  # escaped, value kept after the quote
    assert "'=evil plan" in seen and "'=Eve" in seen


def test_align_out_csv_escapes_formulas_and_compare_reads_it_back(tmp_path, capsys):
    from workbench.cli import main

    accounts = make_accounts(8, ids=["=1+1", "@A2", "+A3", "-A4", "A5", "'A6", "A7", "A8"])
    accounts["current_territory"] = ["=T1", "=T1", "@T2", "@T2", "=T1", "@T2", "=T1", "@T2"]
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    out = tmp_path / "out.csv"
    assert main(["align", str(tmp_path / "accounts.csv"), "--current", "current_territory", "--out", str(out)]) == 0
    raw = pd.read_csv(out, dtype=str, keep_default_na=False)
    for column in raw.columns:
        assert not any(v.startswith(FORMULA_START) for v in raw[column]), raw[column].tolist()
    assert read_assignments(out).index.tolist() == accounts["account_id"].tolist()
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "accounts.csv"), "--current", "current_territory", "--proposed", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["disruption"]["accounts"] == 8


def control_character_plan() -> Plan:
    """Names with control characters, as CRM exports carry them (vertical tab, escape, bell)."""
    accounts = make_accounts(4)
    accounts["name"] = ["Acme\x0bCorp", "Bolt\x1b[31m", "Cog\x07", "=Dyn\x01"]
    plan = Plan.from_labels(accounts, ["T2", "T1", "T1", "T4"])  # two accounts move from their current territory
    return review_and_approve(plan.rename_territory("T1", "North\x02East"), by="Dana", accept_warnings=True)


def test_csv_keeps_control_characters_exactly(tmp_path):
    plan = control_character_plan()
    out = export_plan(plan, tmp_path / "export", formats="csv")
    table = read_assignments_table(out / "assignments.csv")
    assert table["account_name"].tolist() == ["Acme\x0bCorp", "Bolt\x1b[31m", "Cog\x07", "=Dyn\x01"]
    assert set(table["territory_name"]) >= {"North\x02East"}


def test_excel_export_survives_control_characters_in_names(tmp_path):
    plan = control_character_plan()
    out = export_plan(plan, tmp_path / "export", formats="excel")
    book = openpyxl.load_workbook(out / "summary.xlsx")
    values = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(v.startswith("Acme") and v.endswith("Corp") for v in values), values
    assert any(v.startswith("North") and v.endswith("East") for v in values), values
    assert not any(v.startswith(FORMULA_START) for v in values)


# --------------------------------------------------------------------------- nothing outside the target
HOSTILE = ["../../evil", "/etc/passwd", "a/b", "..", ".", "CON", "nul", "T\\x", "Zürich\u202eexe.txt", "~", "$HOME",
           "a" * 300]


def test_export_never_writes_outside_its_folder_whatever_the_names(tmp_path):
    n = 2 * len(HOSTILE)
    accounts = make_accounts(n, ids=[f"../acc{i}" if i % 2 else f"/abs/{i}" for i in range(n)])
    accounts["current_territory"] = [HOSTILE[(i + 1) % len(HOSTILE)] for i in range(n)]
    plan = Plan.from_labels(accounts, [HOSTILE[i % len(HOSTILE)] for i in range(n)], name="../../plan/CON")
    for territory in HOSTILE:
        plan = plan.rename_territory(territory, "../" + territory)
    plan = review_and_approve(plan, by="../../root", note="/etc/shadow", accept_warnings=True)
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    (tmp_path / "outside.txt").write_text("keep")
    before = tree(tmp_path)
    cwd = os.getcwd()
    os.chdir(sandbox)  # relative escapes would land next to the working directory
    try:
        out = export_plan(plan, Path("deep") / "export")
    finally:
        os.chdir(cwd)
    out = sandbox / out
    new = tree(tmp_path) - before
    target = out.relative_to(tmp_path)
    assert new, "the export wrote nothing"
    for path in new:
        assert path == target or target in path.parents or path in target.parents, f"written outside: {path}"
    assert (tmp_path / "outside.txt").read_text() == "keep"
    verify_export(out)
    pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), plan.assignments)
