"""Safe file writing: atomic replacement, read-only approved files, formula-safe cells.

Every file the package writes goes through here, so that a crash or a kill
mid-way never leaves a half-written file, and a spreadsheet cell can never
smuggle in a formula.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it into place.

    On an exception the temporary file is removed and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600); the file gets the usual mode
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (newlines kept as given); return the path."""
    return atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike, *, replace: bool = False) -> Iterator[Path]:
    """Build a folder in a temporary sibling, then rename it to ``target`` in one step.

    Parameters
    ----------
    target : path
        The folder to create.
    replace : bool, default False
        Replace an existing ``target`` (it is moved aside first and removed
        only after the new folder is in place). Without it an existing
        target raises ``FileExistsError``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "export"
    >>> with atomic_directory(target) as folder:
    ...     _ = (folder / "a.csv").write_text("x\\n1\\n")
    >>> sorted(p.name for p in target.iterdir())
    ['a.csv']
    """
    target = Path(target)
    if target.exists() and not replace:
        raise FileExistsError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private (0700); the folder gets the usual mode
    try:
        yield staging
        if target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.rmdir(aside)
            os.replace(target, aside)
            os.replace(staging, target)
            _remove_tree(aside)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            _remove_tree(staging)


def _umask() -> int:
    """The process umask (read from /proc where possible, so it is never changed, even briefly)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_tree(path: Path) -> None:
    def _make_writable(func, p, _exc):
        os.chmod(p, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        func(p)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_make_writable)
    else:  # pragma: no cover - Python 3.11
        shutil.rmtree(path, onerror=_make_writable)


def make_read_only(path: str | os.PathLike) -> None:
    """Remove every write permission bit from a file (or from a folder and all it holds)."""
    path = Path(path)
    paths = [path] if path.is_file() else sorted(path.rglob("*"), reverse=True) + [path]
    for p in paths:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


_QUOTE = "'"


def escape_cell(value):
    """Make a cell value safe for CSV and Excel, reversibly: the one formula escaper of the package.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading
    quote, so a spreadsheet shows it as text and never runs it; text that
    already starts with a quote gets one more, so that :func:`unescape_cell`
    can always tell the two apart. Numbers (negative ones too) and missing
    values are returned unchanged.

    Examples
    --------
    >>> escape_cell('=HYPERLINK("x")')
    '\\'=HYPERLINK("x")'
    >>> escape_cell("-5 Corp"), escape_cell(-5), escape_cell("Acme"), escape_cell("'quoted")
    ("'-5 Corp", -5, 'Acme', "''quoted")
    >>> all(unescape_cell(escape_cell(v)) == v for v in ["=1+1", "'quoted", "'", "'=x", "Acme"])
    True
    """
    if isinstance(value, str) and value.startswith((_QUOTE, *FORMULA_PREFIXES)):
        return _QUOTE + value
    return value


def unescape_cell(value):
    """Undo :func:`escape_cell` (a leading quote before a formula character or a quote).

    Examples
    --------
    >>> unescape_cell("'=SUM(A1)"), unescape_cell("''x"), unescape_cell("'x"), unescape_cell("x")
    ('=SUM(A1)', "'x", "'x", 'x')
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == _QUOTE and value[1] in (_QUOTE, *FORMULA_PREFIXES):
        return value[1:]
    return value


def _is_text(series) -> bool:
    import pandas as pd

    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def escape_frame(frame):
    """Copy of a DataFrame with every text cell and every header passed through :func:`escape_cell`.

    Examples
    --------
    >>> import pandas as pd
    >>> escape_frame(pd.DataFrame({"=id": ["=1+1", "a"], "n": [-1, 2]})).to_dict("list")
    {"'=id": ["'=1+1", 'a'], 'n': [-1, 2]}
    """
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].map(escape_cell, na_action="ignore")
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def unescape_frame(frame):
    """Copy of a DataFrame read from a file written with :func:`escape_frame`, with the escaping undone.

    Examples
    --------
    >>> import pandas as pd
    >>> unescape_frame(escape_frame(pd.DataFrame({"=id": ["=1+1", "'a"]}))).to_dict("list")
    {'=id': ['=1+1', "'a"]}
    """
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].map(unescape_cell, na_action="ignore")
    out.columns = [unescape_cell(str(c)) for c in out.columns]
    return out


#: Older names of :func:`escape_cell` and :func:`escape_frame`, kept for callers that use them.
escape_formula = escape_cell
escape_formulas = escape_frame
