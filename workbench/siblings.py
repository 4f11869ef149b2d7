"""The hidden siblings of a file or folder being written: their names, and what a killed write left of them.

A write of ``target`` works in hidden siblings next to it (``.q3.abcd1234.partial`` while a
folder is built, ``.q3.abcd1234.old`` while it is swapped, ``.q3.abcd1234.tmp`` for a file,
``.q3.lock``): :func:`sibling_stem` names them, :func:`leftovers` finds those an interrupted
write left behind, :func:`clean_leftovers` removes them (holding the target's lock). The lowest
layer of file safety: :mod:`workbench.locking` and :mod:`workbench.safeio` both build on it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import sys
from pathlib import Path

#: File names are at most 255 bytes on common file systems.
_NAME_MAX = 255
#: Room left for the ``.`` prefix and a ``.XXXXXXXX.partial`` / ``.lock`` suffix.
_STEM_MAX = _NAME_MAX - 20


def sibling_stem(target: str | os.PathLike) -> str:
    """The part of the hidden sibling names (staging, aside, lock) of ``target`` that names it.

    The target's own name, or, when that would make a sibling name longer than
    255 bytes, a shortened name with a hash of the full one (so two long names
    never share siblings).

    Examples
    --------
    >>> sibling_stem("plans/q3")
    'q3'
    >>> stem = sibling_stem("x" * 250)
    >>> len(stem.encode()), stem.startswith("xxxx"), stem == sibling_stem("x" * 250) != sibling_stem("x" * 249 + "y")
    (212, True, True)
    """
    name = Path(target).name
    if len(name.encode("utf-8", "surrogateescape")) <= _STEM_MAX:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    short = name.encode("utf-8", "surrogateescape")[:_STEM_MAX - 40].decode("utf-8", "ignore")
    while len(short.encode("utf-8", "surrogateescape")) > _STEM_MAX - 40:  # pragma: no cover - surrogates
        short = short[:-1]
    return f"{short}~{digest}"


def _leftover_pattern(target: Path) -> re.Pattern:
    # mkdtemp's random part is 8 characters of [a-z0-9_]: "q3" never matches the siblings of "q3.v2".
    return re.compile(rf"\.{re.escape(sibling_stem(target))}\.[a-z0-9_]{{8}}\.(partial|old|tmp)")


def leftovers(target: str | os.PathLike) -> list[Path]:
    """Hidden siblings that interrupted writes of ``target`` left behind (staging, aside, temp files).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / ".q3.abcd1234.partial").mkdir(); (root / ".q3.v2.abcd1234.partial").mkdir()
    >>> [p.name for p in leftovers(root / "q3")]
    ['.q3.abcd1234.partial']
    """
    target = Path(target)
    pattern = _leftover_pattern(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return sorted((target.parent / n for n in names if pattern.fullmatch(n)), key=lambda p: p.name)


def clean_leftovers(target: str | os.PathLike) -> list[str]:
    """Remove what killed writes of ``target`` left behind; put back a previous folder that only survived aside.

    Call it holding the target's lock (nobody else is then writing it). A
    ``.old`` folder is renamed back to ``target`` when ``target`` is missing
    (the run was killed between the two renames of a replace); every other
    leftover is removed. Returns one note per action, for the user.
    """
    target = Path(target)
    notes = []
    for path in leftovers(target):
        if path.name.endswith(".old") and not os.path.lexists(target) and path.is_dir():
            os.replace(path, target)
            notes.append(f"restored {target} from {path.name}, left by an interrupted replace")
            continue
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        else:
            path.unlink()
        notes.append(f"removed {path.name}, left by an interrupted write of {target.name}")
    return notes


def remove_tree(path: Path) -> None:
    """Remove a folder tree, read-only files and folders included."""
    def _make_writable(func, p, _exc):
        os.chmod(p, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        func(p)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_make_writable)
    else:  # pragma: no cover - Python 3.11
        shutil.rmtree(path, onerror=_make_writable)
