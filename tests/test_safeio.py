"""Crash-safe folder replacement: a failure or a kill at any step leaves the previous complete folder or the new one.

``atomic_directory`` calls ``workbench.safeio._checkpoint(step)`` between its steps. The tests make
that hook raise ``OSError`` (in this process) or ``SIGKILL`` its own process (in a child running
``save_plan``), at every step, on both ways of putting the new folder in place: the one-call swap
(``renameat2(RENAME_EXCHANGE)``) and the two renames used where the swap is not available.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from workbench import safeio
from workbench.errors import InputError
from workbench.locking import lock_path
from workbench.plan import Plan, list_plans, load_plan, save_plan
from workbench.safeio import atomic_directory, atomic_path
from workbench.siblings import clean_leftovers, leftovers, sibling_stem
from workbench.signoff import review_and_approve

#: Steps of a replace, per way of swapping (the first folder write has "built", "placed", "cleaned").
STEPS = {"exchange": ["built", "swapped", "cleaned"], "renames": ["built", "aside", "placed", "cleaned"]}
#: Steps after which the new folder is in place.
NEW_IN_PLACE = {"swapped", "placed", "cleaned"}


def no_exchange(monkeypatch):
    monkeypatch.setattr(safeio, "_exchange", lambda a, b: False)


def write_folder(target: Path, text: str, **kwargs) -> None:
    with atomic_directory(target, **kwargs) as folder:
        (folder / "a.txt").write_text(text)
        (folder / "b.txt").write_text(text * 2)


def content(target: Path) -> dict:
    return {p.name: p.read_text() for p in sorted(target.iterdir())}


def test_the_swap_is_available_here():
    """The Linux CI machine swaps in one call; if this fails, only the two-rename path is being exercised."""
    assert safeio._renameat2() is not None


@pytest.mark.parametrize("mode, step", [(m, s) for m, steps in STEPS.items() for s in steps])
def test_an_oserror_at_any_step_leaves_the_old_or_the_new_folder(tmp_path, monkeypatch, mode, step):
    if mode == "renames":
        no_exchange(monkeypatch)
    target = tmp_path / "plan"
    write_folder(target, "old")

    def fail(at):
        if at == step:
            raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(safeio, "_checkpoint", fail)
    with pytest.raises(OSError, match="injected"):
        write_folder(target, "new", replace=True)
    expected = {"a.txt": "new", "b.txt": "newnew"} if step in NEW_IN_PLACE else {"a.txt": "old", "b.txt": "oldold"}
    assert content(target) == expected
    monkeypatch.setattr(safeio, "_checkpoint", lambda at: None)
    clean_leftovers(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"], "leftovers are cleaned by the next run"


def test_an_oserror_in_the_second_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    no_exchange(monkeypatch)
    target = tmp_path / "plan"
    write_folder(target, "old")
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # the first moves the old folder aside, the second would put the new one in place
            raise OSError(5, "Input/output error (injected)")
        return real(src, dst)

    monkeypatch.setattr(safeio.os, "replace", replace)
    with pytest.raises(OSError, match="injected"):
        write_folder(target, "new", replace=True)
    assert content(target) == {"a.txt": "old", "b.txt": "oldold"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


KILLER = textwrap.dedent("""
    import os, signal, sys
    import pandas as pd
    from workbench import safeio
    from workbench.plan import Plan, save_plan

    target, step, mode = sys.argv[1:4]
    if mode == "renames":
        safeio._exchange = lambda a, b: False

    def kill(at):
        if at == step:
            os.kill(os.getpid(), signal.SIGKILL)

    safeio._checkpoint = kill
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    save_plan(Plan.from_labels(accounts, ["T1", "T2", "T2"], name="new"), target, overwrite=True)
""")


def old_plan() -> Plan:
    return Plan.from_labels(pd.DataFrame({"account_id": ["a", "b", "c"]}), ["T1", "T1", "T2"], name="old")


@pytest.mark.parametrize("mode, step", [(m, s) for m, steps in STEPS.items() for s in steps])
def test_a_save_killed_at_any_step_keeps_a_complete_plan_and_the_next_run_cleans_up(tmp_path, mode, step):
    target = tmp_path / "plan"
    save_plan(old_plan(), target)
    child = subprocess.run([sys.executable, "-c", KILLER, str(target), step, mode], capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    if mode == "renames" and step == "aside":
        # Killed between the two renames: the previous plan survived aside, and is not hidden by `plans`.
        assert not target.exists()
        assert sorted(p.suffix for p in leftovers(target)) == [".old", ".partial"]
        table = list_plans(tmp_path)  # puts it back
        assert table["name"].tolist() == ["old"] and table["problem"].isna().all(), table
    assert load_plan(target).name == ("new" if step in NEW_IN_PLACE else "old")  # verified complete (every hash checks)
    assert {p.name for p in tmp_path.iterdir()} - {"plan"} <= {p.name for p in leftovers(target)} | {
        lock_path(target).name}
    # The next run on the same target removes what the killed one left.
    save_plan(old_plan().with_name("again"), target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]
    assert load_plan(target).name == "again"


def test_load_plan_puts_back_a_plan_that_survived_only_aside(tmp_path):
    target = tmp_path / "plan"
    save_plan(old_plan(), target)
    aside = tmp_path / f".plan.abcd1234.old"
    os.replace(target, aside)  # what a kill between the two renames leaves
    assert load_plan(target).name == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_plans_lists_a_plan_it_cannot_put_back(tmp_path, monkeypatch):
    """If the aside copy cannot be restored (here: its lock is held), `plans` lists it with the reason."""
    import workbench.plan._store as store

    target = tmp_path / "plan"
    save_plan(old_plan(), target)
    os.replace(target, tmp_path / ".plan.abcd1234.old")
    monkeypatch.setattr(store, "recover", lambda t: [])
    table = list_plans(tmp_path)
    assert table["path"].tolist() == [str(target)] and table["status"].tolist() == ["interrupted"]
    assert "only the hidden copy .plan.abcd1234.old survived an interrupted replace" in table["problem"][0]


def test_leftovers_of_one_folder_are_never_taken_for_another(tmp_path):
    (tmp_path / ".q3.abcd1234.partial").mkdir()
    (tmp_path / ".q3.v2.abcd1234.partial").mkdir()
    (tmp_path / ".q3.abcd1234.old").mkdir()
    assert [p.name for p in leftovers(tmp_path / "q3.v2")] == [".q3.v2.abcd1234.partial"]
    clean_leftovers(tmp_path / "q3")  # q3 is missing: the .old copy is put back, the staging folder removed
    assert sorted(p.name for p in tmp_path.iterdir()) == [".q3.v2.abcd1234.partial", "q3"]


@pytest.mark.parametrize("length", [200, 235, 250, 255])
def test_names_up_to_255_bytes_save_and_export(tmp_path, length):
    """The staging, aside and lock names of a 255-byte name must still fit in 255 bytes."""
    from workbench.export import export_plan

    name = ("é" * length)[: length // 2] + "x" * (length - 2 * (length // 2))  # multi-byte UTF-8
    assert len(name.encode()) == length
    plan = review_and_approve(old_plan(), by="Dana")
    save_plan(plan, tmp_path / name)
    assert load_plan(tmp_path / name) == plan
    out = export_plan(plan, tmp_path / ("x" * length), formats="csv")
    assert (out / "assignments.csv").is_file()
    with atomic_path(tmp_path / ("y" * length)) as tmp:
        tmp.write_text("ok")
    assert len(sibling_stem(tmp_path / name).encode()) <= 235
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "x" * length, "y" * length])


def test_a_symlink_target_is_refused_before_anything_is_written(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(InputError, match=r"link is a symbolic link \(to .*real\); pass the real folder"):
        write_folder(tmp_path / "link", "x", replace=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"] and not any(real.iterdir())
