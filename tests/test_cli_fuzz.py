"""Fuzz the command line: any arguments to align, compare, approve, export and plans end in exit 0, or in
exit 2 with one ``error:`` line (argparse's own refusals: a usage line, then one error line), never a
traceback, and a refused command leaves no file and no hidden staging or lock file behind.

Bounded in time: a small workspace built once, ``max_examples`` kept small, no deadline.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.export import export_plan
from workbench.plan import Plan, save_plan
from workbench.signoff import review_and_approve

ACCOUNTS = pd.DataFrame({
    "account_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
    "name": ["Acme", "=cmd", "Bolt\r=x", "Cog", "Dyn", "Eon"],
    "latitude": [40.70, 40.71, 42.36, 42.30, 41.0, 41.2],
    "longitude": [-73.99, -74.01, -71.06, -71.00, -72.0, -72.5],
    "workload": [1.0, 2.0, 3.0, 4.0, 2.0, 1.0],
    "revenue": [10.0, 0.0, 5.0, 1e6, 3.0, 2.0],
    "current_territory": ["T1", "T1", "T2", "T2", "T1", "T2"],
    "when": ["2024-01-01"] * 6,
})

#: Values an argument can take; "@name" is a path in the workspace.
VALUES = ["@accounts.csv", "@draft", "@approved", "@export", "@missing.csv", "@out.csv", "@newplan", "@.",
          "@draft/inside", "@export/x.csv",
          "@notes.txt", "", ".", "..", "-1", "0", "1", "2", "3", "7", str(2**32), "1e308", "nan", "inf", "-inf",
          "0.05", "1.5", "workload", "revenue", "when", "name", "current_territory", "nope", "workload,revenue",
          ",", "T1", "csv", "excel,gis", "pdf", "Dana", "Dana\nEve", "\x1b[31m", "\u202e", "Z\u00fcrich", "A" * 300]
OPTIONS = {
    "align": ["--territories", "--out", "--balance-on", "--tolerance", "--current", "--seed", "--lock-col",
              "--id-col", "--lat-col", "--lon-col", "--blocks", "--block-col", "--reps"],
    "compare": ["--current", "--proposed", "--balance-on", "--tolerance", "--json", "--moved", "--id-col"],
    "approve": ["--by", "--note", "--allow-unassigned", "--accept-warnings"],
    "export": ["--to", "--format", "--allow-draft", "--force", "--current"],
    "plans": ["--json"],
}
FLAGS = {"--json", "--allow-unassigned", "--accept-warnings", "--allow-draft", "--force"}
#: Hidden names a refused or finished command must never leave behind.
HIDDEN = (".partial", ".old", ".tmp", ".lock")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-template")
    ACCOUNTS.to_csv(root / "accounts.csv", index=False)
    (root / "notes.txt").write_text("not a table\n")
    draft = Plan.from_column(ACCOUNTS.drop(columns="when"), name="q3")
    save_plan(draft, root / "draft")
    approved = review_and_approve(draft, by="Dana", accept_warnings=True)
    save_plan(approved, root / "approved")
    export_plan(approved, root / "export", formats="csv")
    return root


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command, draw(st.sampled_from(VALUES))]
    # Mostly with the required options (else argparse refuses them all before any of our code runs).
    required = {"align": ["--out"], "compare": ["--current", "--proposed"], "approve": ["--by"],
                "export": ["--to"], "plans": []}[command]
    if draw(st.integers(0, 4)):
        argv[1] = draw(st.sampled_from(["@accounts.csv", "@draft", "@approved", "@."] + VALUES[:12]))
        for option in required:
            argv += [option, draw(st.sampled_from(VALUES))]
    for option in draw(st.lists(st.sampled_from([o for o in OPTIONS[command] if o not in argv]), max_size=4,
                                unique=True)):
        argv.append(option)
        if option not in FLAGS:
            argv.append(draw(st.sampled_from(VALUES)))
    return argv


def listing(root: Path) -> dict:
    return {p.relative_to(root): (p.stat().st_size if p.is_file() else None) for p in root.rglob("*")}


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(argv=command_lines())
def test_any_command_line_exits_0_or_2_with_one_error_line(tmp_path_factory, template, monkeypatch, argv):
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(template, root, dirs_exist_ok=True, symlinks=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("WORKBENCH_DEBUG", "1")  # a bug must surface as a traceback here, not as main's last-resort line
    argv = [str(root / a[1:]) if a.startswith("@") else a for a in argv]
    before = listing(root)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage line + "workbench X: error: ..."
            code = exc.code
            assert code == 2, (argv, err.getvalue())
            lines = err.getvalue().splitlines()
            assert lines and ": error: " in lines[-1], (argv, err.getvalue())
            assert listing(root) == before
            return
    text = err.getvalue()
    assert "Traceback" not in text + out.getvalue(), argv
    assert code in (0, 2), (argv, code, text)
    if code == 2:
        error_lines = [line for line in text.splitlines() if line.startswith("error: ")]
        assert len(error_lines) == 1 and text.endswith("\n") and text.splitlines()[-1] == error_lines[0], (argv, text)
        assert listing(root) == before, f"a refused command left files: {argv}"
    leftovers = [p for p in root.rglob(".*") if p.name.endswith(HIDDEN)]
    assert not leftovers, (argv, leftovers)
