"""Locks for plan folders and export targets: one writer at a time, and the loser is told who.

Plans live in shared folders that several analysts use at once. Approving,
saving and exporting each check the folder's state (is it a draft? an export of
which plan?) and then replace the folder; two runs at once would both pass the
check and one would silently undo the other. So each of them holds the target's
lock from the check to the last rename, and re-checks the state once it holds
it; a second run does not wait but stops at once with
:class:`~workbench.errors.FolderLockedError` naming the holder (user, host,
process id, since when, doing what).

Why ``filelock`` (a ``flock(2)`` lock on a hidden sibling file, ``.NAME.lock``)
rather than a lock file created with ``O_EXCL``: the kernel releases a ``flock``
lock when its process ends, however it ends (``SIGKILL``, a crash, a laptop lid
closed), so a killed run never leaves a stale lock that someone must judge and
delete by hand; an ``O_EXCL`` file stays behind and needs guesses (is pid 1234
on that other host still alive?). ``filelock`` also handles the races of
opening a lock file that another process is removing, and it is well kept and
portable (Windows locks work the same way). The holder writes who it is into
the lock file once it holds the lock; the file is removed while still locked,
so a finished run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from workbench.errors import FolderLockedError
from workbench.labels import printable
from workbench.siblings import clean_leftovers, leftovers, sibling_stem

#: Paths (absolute) whose lock this process holds, so nested calls (approve -> save) do not lock twice.
_HELD: dict[str, str] = {}


def lock_path(target: str | os.PathLike) -> Path:
    """The lock file of a folder: a hidden sibling ``.NAME.lock`` (the folder itself is replaced by renames).

    Examples
    --------
    >>> lock_path("plans/q3").as_posix()
    'plans/.q3.lock'
    """
    target = Path(target)
    return target.parent / f".{sibling_stem(target)}.lock"


def holder(target: str | os.PathLike) -> dict | None:
    """Who holds the lock of ``target`` (user, host, pid, since, action, command), or None if unknown."""
    try:
        text = lock_path(target).read_text(encoding="utf-8")
        info = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return None
    return info if isinstance(info, dict) else None


def describe_holder(info: dict | None) -> str:
    """One line about a lock holder, for the error message.

    Examples
    --------
    >>> describe_holder({"user": "dana", "host": "ws-7", "pid": 4242, "since": "2026-12-01T08:40:01Z",
    ...                  "action": "approving"})
    'dana on ws-7 (pid 4242) has been approving it since 2026-12-01T08:40:01Z'
    >>> describe_holder(None)
    'another process holds its lock (it has not written who it is yet)'
    """
    if not info:
        return "another process holds its lock (it has not written who it is yet)"
    def field(key):
        return printable(str(info.get(key, "?")))[:200]
    return (f"{field('user')} on {field('host')} (pid {field('pid')}) has been {field('action')} it "
            f"since {field('since')}")


@contextlib.contextmanager
def folder_lock(target: str | os.PathLike, *, action: str = "writing") -> Iterator[list[str]]:
    """Hold the lock of a plan folder or export target for the duration of the block.

    Taking the lock also cleans up after killed runs on the same target (see
    :func:`workbench.siblings.clean_leftovers`); the block receives the notes
    about what was cleaned. Nested use in one process is a no-op.

    Parameters
    ----------
    target : path
        The folder (it need not exist yet; its parent is created).
    action : str
        What the holder does, for the loser's message ("approving", "exporting").

    Raises
    ------
    FolderLockedError
        Another process holds the lock; the message names it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "q3"
    >>> with folder_lock(target, action="saving"):
    ...     holder(target)["action"]
    'saving'
    >>> lock_path(target).exists()  # removed when released
    False
    """
    target = Path(target)
    key = os.path.abspath(target)
    if key in _HELD:
        yield []
        return
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    opened: list[int] = []

    def announce(fd: int) -> None:
        opened.append(fd)
        info = {"user": _user(), "host": socket.gethostname(), "pid": os.getpid(), "since": _utc_now(),
                "action": action, "command": " ".join(sys.argv)[:500]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info, ensure_ascii=False) + "\n").encode("utf-8"), 0)

    lock = FileLock(str(path), timeout=0, on_acquired=announce, is_singleton=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise FolderLockedError(f"{target} is in use: {describe_holder(holder(target))}; wait until it finishes "
                                f"and try again (the lock {path.name} is released when that process ends, even "
                                "if it is killed)") from None
    _HELD[key] = action
    try:
        yield clean_leftovers(target)
    finally:
        del _HELD[key]
        try:
            # Remove the lock file while still holding it: a process that opened it meanwhile finds an
            # unlinked file once it gets the lock and retries on a fresh one, so two holders never coexist.
            if opened and os.path.samestat(os.stat(path), os.fstat(opened[0])):
                os.unlink(path)
        except OSError:
            pass
        finally:
            lock.release()


def recover(target: str | os.PathLike) -> list[str]:
    """Put back a folder that an interrupted replace left only aside, if nobody is writing ``target`` now.

    Returns the notes of what was done (empty when there was nothing to do or
    another process holds the lock).
    """
    if not leftovers(target):  # nothing to put back: no lock taken, nothing created (loads stay read-only)
        return []
    try:
        with folder_lock(target, action="restoring") as notes:
            return notes
    except (FolderLockedError, OSError):
        return []


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


def _utc_now() -> str:
    from workbench.provenance import utc_now

    return utc_now()


__all__ = ["folder_lock", "lock_path", "holder", "describe_holder", "recover"]
