"""Two people at once on one plan folder or export target: exactly one wins, the folder stays intact.

Real processes (``sys.executable``) against one folder. In the *held* tests the first process
stops inside its critical section (``workbench.safeio._checkpoint`` patched to wait for a file),
so the second one meets the lock for certain and must fail naming the holder; the first then
finishes. In the *race* tests all processes start together with nothing patched, and whatever
the timing exactly one must report success.
"""

from __future__ import annotations

import getpass
import json
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import FolderLockedError
from workbench.export import export_plan, verify_export
from workbench.locking import folder_lock, holder, lock_path
from workbench.plan import Plan, load_plan, save_plan

CHILD = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from workbench import safeio

    mode, folder, target, who, hold, go = sys.argv[1:7]
    if hold != "-":  # stop inside the critical section until the parent creates HOLD.release
        hold = Path(hold)

        def wait(step):
            if step == "built":
                hold.write_text("holding")
                deadline = time.monotonic() + 120
                while not hold.with_suffix(".release").exists() and time.monotonic() < deadline:
                    time.sleep(0.01)

        safeio._checkpoint = wait
    from workbench.cli import main
    from workbench.plan import load_plan, save_plan
    from workbench.export import export_plan
    from workbench.errors import WorkbenchError

    if go != "-":  # start together with the others: say ready, wait for the start signal
        Path(go).with_name(f"ready-{who}").write_text("ready")
        while not Path(go).exists():
            time.sleep(0.002)
    try:
        if mode == "approve":
            code = main(["approve", folder, "--by", who, "--accept-warnings"])
            result = {"ok": code == 0}
        elif mode == "save":
            plan = load_plan(folder)
            save_plan(plan.reassign([plan.assignments.index[0]], "T2").with_name(who), folder, overwrite=True)
            result = {"ok": True}
        else:
            export_plan(folder, target, formats="csv", allow_draft=True)
            result = {"ok": True}
    except WorkbenchError as exc:
        result = {"ok": False, "error": str(exc)}
    print(json.dumps(result))
""")

ACCOUNTS = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "workload": [1.0, 2.0, 3.0, 4.0]})


def start(mode: str, folder: Path, *, target: Path | None = None, who: str = "Dana", hold: Path | None = None,
          go: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, mode, str(folder), str(target or "-"), who,
                             str(hold or "-"), str(go or "-")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(child: subprocess.Popen) -> dict:
    out, err = child.communicate(timeout=180)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, (out, err)
    result = json.loads(lines[-1])
    result["stderr"] = err
    return result


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


@pytest.fixture
def draft(tmp_path) -> Path:
    return save_plan(Plan.from_labels(ACCOUNTS, ["T1", "T1", "T2", "T2"], name="q3"), tmp_path / "plans" / "q3")


def holding(tmp_path: Path, mode: str, folder: Path, **kwargs):
    """Start ``mode`` and return once it is inside its critical section (holding the lock)."""
    hold = tmp_path / "hold.txt"
    child = start(mode, folder, hold=hold, **kwargs)
    wait_for(hold)
    return child, hold


def release(hold: Path) -> None:
    hold.with_suffix(".release").write_text("go")


HOLDER = rf"{getpass.getuser()} on {socket.gethostname()} \(pid \d+\) has been (approving|saving|exporting) it since"


def test_approve_while_another_approval_holds_the_folder(tmp_path, draft):
    first, hold = holding(tmp_path, "approve", draft, who="Ana")
    second = finish(start("approve", draft, who="Ben"))
    assert not second["ok"]
    assert second["stderr"].count("\n") == 1 and second["stderr"].startswith("error: ")
    assert f"{draft} is in use: " in second["stderr"]
    assert re.search(HOLDER.replace("(approving|saving|exporting)", "approving"), second["stderr"]), second
    assert "wait until it finishes and try again" in second["stderr"]
    release(hold)
    assert finish(first)["ok"]
    plan = load_plan(draft)  # intact: every hash verifies
    assert plan.is_approved and plan.metadata.approved_by == "Ana"
    assert sorted(p.name for p in draft.parent.iterdir()) == ["q3"], "no lock file or staging folder left"


def test_save_while_an_approval_holds_the_folder_and_after_it(tmp_path, draft):
    first, hold = holding(tmp_path, "approve", draft, who="Ana")
    second = finish(start("save", draft, who="edited"))
    assert not second["ok"] and "is in use: " in second["error"] and "approving" in second["error"]
    release(hold)
    assert finish(first)["ok"]
    # Once approved, a save over it is refused for the state it finds under the lock.
    third = finish(start("save", draft, who="edited"))
    assert not third["ok"] and "holds an approved plan, which is never overwritten" in third["error"]
    assert load_plan(draft).metadata.approved_by == "Ana"


def test_approve_while_a_save_holds_the_folder(tmp_path, draft):
    first, hold = holding(tmp_path, "save", draft, who="edited")
    second = finish(start("approve", draft, who="Ben"))
    assert not second["ok"] and "is in use: " in second["stderr"] and "saving" in second["stderr"]
    release(hold)
    assert finish(first)["ok"]
    plan = load_plan(draft)
    assert plan.name == "edited" and not plan.is_approved


def test_export_while_another_export_holds_the_target(tmp_path, draft):
    other = save_plan(load_plan(draft).reassign(["a"], "T2").with_name("other"), tmp_path / "plans" / "other")
    target = tmp_path / "exports" / "fy27"
    first, hold = holding(tmp_path, "export", draft, target=target)
    second = finish(start("export", other, target=target))
    assert not second["ok"] and f"{target} is in use: " in second["error"] and "exporting" in second["error"]
    release(hold)
    assert finish(first)["ok"]
    assert verify_export(target)["plan"]["name"] == "q3"
    assert sorted(p.name for p in target.parent.iterdir()) == ["fy27"]


def start_together(go: Path, whos: list[str]) -> None:
    """Wait until every child is ready (imports done), then let them all go at once."""
    for who in whos:
        wait_for(go.with_name(f"ready-{who}"))
    go.write_text("go")


def test_simultaneous_approvals_have_exactly_one_winner(tmp_path, draft):
    go = tmp_path / "go"
    whos = ["P0", "P1", "P2"]
    children = [start("approve", draft, who=who, go=go) for who in whos]
    start_together(go, whos)
    results = [finish(c) for c in children]
    winners = [i for i, r in enumerate(results) if r["ok"]]
    assert len(winners) == 1, results
    for i, r in enumerate(results):
        if i not in winners:
            assert r["stderr"].startswith("error: ") and r["stderr"].count("\n") == 1, r
            assert "is in use: " in r["stderr"] or "is already approved" in r["stderr"], r
    assert load_plan(draft).metadata.approved_by == f"P{winners[0]}"
    assert sorted(p.name for p in draft.parent.iterdir()) == ["q3"]


def test_simultaneous_exports_of_different_plans_into_one_new_folder_have_one_winner(tmp_path, draft):
    plans = [draft] + [save_plan(load_plan(draft).reassign(["a"], "T2").with_name(f"v{i}"), tmp_path / "plans" / f"v{i}")
                       for i in range(2)]
    target = tmp_path / "exports" / "new"
    go = tmp_path / "go"
    children = [start("export", p, target=target, who=f"E{i}", go=go) for i, p in enumerate(plans)]
    start_together(go, [f"E{i}" for i in range(len(plans))])
    results = [finish(c) for c in children]
    winners = [i for i, r in enumerate(results) if r["ok"]]
    assert len(winners) == 1, results
    for i, r in enumerate(results):
        if i not in winners:
            assert "is in use: " in r["error"] or "holds an export of another plan" in r["error"], r
    assert verify_export(target)["plan"]["name"] == load_plan(plans[winners[0]]).name


def test_the_lock_names_its_holder_and_is_removed_when_released(tmp_path):
    target = tmp_path / "q3"
    with folder_lock(target, action="approving"):
        info = holder(target)
        assert info["user"] == getpass.getuser() and info["host"] == socket.gethostname()
        assert info["action"] == "approving" and isinstance(info["pid"], int) and info["since"].endswith("Z")
        with folder_lock(target):  # nested in the same process: no deadlock
            pass
        assert lock_path(target).exists()
    assert not lock_path(target).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_lock_held_by_another_process_is_refused_with_its_holder(tmp_path):
    target = tmp_path / "q3"
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from workbench.locking import folder_lock
        with folder_lock(Path({str(target)!r}), action="exporting"):
            print("held", flush=True)
            sys.stdin.read()
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(FolderLockedError, match=rf"q3 is in use: .* \(pid {child.pid}\) has been exporting it"):
            with folder_lock(target):
                pass
    finally:
        child.communicate("", timeout=60)
    with folder_lock(target):  # released when the holder ended
        pass


def test_a_killed_holder_never_leaves_a_stale_lock(tmp_path):
    target = tmp_path / "q3"
    script = f"import os, signal; from workbench.locking import folder_lock\nwith folder_lock({str(target)!r}):\n" \
             "    os.kill(os.getpid(), signal.SIGKILL)\n"
    subprocess.run([sys.executable, "-c", script], timeout=60)
    assert lock_path(target).exists()  # the file stays, the lock does not
    with folder_lock(target):
        pass
    assert not lock_path(target).exists()
