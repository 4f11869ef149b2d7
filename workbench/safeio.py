"""Safe file writing: atomic replacement, read-only approved files, formula-safe cells.

Every file the package writes goes through here, so that a crash or a kill
mid-way never leaves a half-written file, and a spreadsheet cell can never
smuggle in a formula.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno as _errno
import functools
import hashlib
import os


import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from workbench.siblings import remove_tree, sibling_stem

#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it into place.

    On an exception the temporary file is removed and ``path`` is untouched.
    The temporary name is hidden and never longer than the file system allows,
    whatever the length of ``path``'s name.

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
    fd, name = tempfile.mkstemp(prefix=f".{sibling_stem(path)}.", suffix=".tmp", dir=path.parent)
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
def atomic_directory(target: str | os.PathLike, *, replace: bool = False, finish=None) -> Iterator[Path]:
    """Build a folder in a temporary sibling, then put it at ``target`` in one step.

    Whatever happens (an exception, a full disk, ``SIGKILL`` at any moment),
    ``target`` holds either the previous complete folder or the new complete
    one. On Linux the two folders are swapped by one ``renameat2(RENAME_EXCHANGE)``
    call; elsewhere the old folder is renamed aside first and, if the second
    rename fails, renamed back. Leftovers of a killed run (hidden
    ``.NAME.XXXXXXXX.partial`` / ``.old`` siblings) are removed, or an old
    folder that is all that survived is put back, by the next run on the same
    target (see :func:`workbench.siblings.clean_leftovers`). The whole operation holds the
    target's lock (:func:`workbench.locking.folder_lock`).

    Parameters
    ----------
    target : path
        The folder to create. A symbolic link is refused (renaming over it
        would replace the link, not the folder it points to).
    replace : bool, default False
        Replace an existing ``target`` (removed only after the new folder is
        in place). Without it an existing target raises ``FileExistsError``.
    finish : callable, optional
        Called with the staging folder after the build, before it is put in
        place (e.g. :func:`make_read_only`), so the target never exists
        half-finished.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "export"
    >>> with atomic_directory(target) as folder:
    ...     _ = (folder / "a.csv").write_text("x\\n1\\n")
    >>> sorted(p.name for p in target.iterdir())
    ['a.csv']
    """
    from workbench.locking import folder_lock

    target = Path(target)
    refuse_symlink(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(target, action="writing"):
        if target.exists() and not replace:
            raise FileExistsError(f"{target} already exists")
        staging = Path(tempfile.mkdtemp(prefix=f".{sibling_stem(target)}.", suffix=".partial", dir=target.parent))
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private (0700); the folder gets the usual mode
        try:
            yield staging
            if finish is not None:
                finish(staging)
            _checkpoint("built")
            if target.exists():
                _swap_into_place(staging, target)
            else:
                os.replace(staging, target)
                _checkpoint("placed")
        finally:
            if staging.exists():
                remove_tree(staging)  # the failed build, or the previous folder after a swap
                _checkpoint("cleaned")


def _checkpoint(step: str) -> None:
    """Called between the steps of :func:`atomic_directory`; the fault-injection tests patch it."""


def _swap_into_place(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target`` and the previous ``target`` at ``staging``, never leaving ``target`` empty."""
    if _exchange(staging, target):
        _checkpoint("swapped")
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{sibling_stem(target)}.", suffix=".old", dir=target.parent))
    os.rmdir(aside)
    os.replace(target, aside)
    try:
        _checkpoint("aside")
        os.replace(staging, target)
        _checkpoint("placed")
    except BaseException:
        if not os.path.lexists(target):
            os.replace(aside, target)  # put the previous folder back before reporting the failure
        raise
    os.replace(aside, staging)  # the caller removes the previous folder with the staging folder


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False where unsupported."""
    func = _renameat2()
    if func is None:
        return False
    if func(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
        return True
    errno = ctypes.get_errno()
    if errno in (_errno.ENOSYS, _errno.EINVAL, _errno.ENOTSUP, _errno.EOPNOTSUPP):
        return False  # kernel or file system without it: rename aside instead
    raise OSError(errno, os.strerror(errno), str(b))


@functools.cache
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):  # pragma: no cover - glibc before 2.28, musl
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


def refuse_symlink(target: str | os.PathLike) -> None:
    """Raise :class:`~workbench.errors.InputError` if ``target`` is a symbolic link.

    Writing a folder in one rename replaces the link itself, not the folder it
    points to (and changing modes would follow it outside), so a link is
    refused with the real path to use instead.
    """
    target = Path(target)
    if target.is_symlink():
        from workbench.errors import InputError

        real = os.path.realpath(target)
        raise InputError(f"{target} is a symbolic link (to {real}); pass the real folder {real} or a new path: "
                         "workbench never writes through a link")


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

    Text starting with ``= + - @``, a tab, a carriage return or a line feed gets a leading
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


def _map_text(frame, cell):
    """Copy of ``frame`` with ``cell`` applied to every text cell and every header.

    Only the cells that start with a quote or a formula character can change (both :func:`escape_cell` and
    :func:`unescape_cell` leave every other value as it is), so only those are passed to ``cell``: a
    Python call per cell took 0.2 s on 100,000 rows.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if _is_text(values):
            try:
                starts = values.str.startswith((_QUOTE, *FORMULA_PREFIXES), na=False).to_numpy(dtype=bool)
            except AttributeError:  # an object column without text (.str refuses it): nothing to escape
                continue
            if starts.any():
                mapped = values.astype(object)
                mapped[starts] = values[starts].map(cell)
                out[column] = mapped.astype(values.dtype) if values.dtype != object else mapped
    out.columns = [cell(str(c)) for c in out.columns]
    return out


def escape_frame(frame):
    """Copy of a DataFrame with every text cell and every header passed through :func:`escape_cell`.

    Examples
    --------
    >>> import pandas as pd
    >>> escape_frame(pd.DataFrame({"=id": ["=1+1", "a"], "n": [-1, 2]})).to_dict("list")
    {"'=id": ["'=1+1", 'a'], 'n': [-1, 2]}
    """
    return _map_text(frame, escape_cell)


def unescape_frame(frame):
    """Copy of a DataFrame read from a file written with :func:`escape_frame`, with the escaping undone.

    Examples
    --------
    >>> import pandas as pd
    >>> unescape_frame(escape_frame(pd.DataFrame({"=id": ["=1+1", "'a"]}))).to_dict("list")
    {'=id': ['=1+1', "'a"]}
    """
    return _map_text(frame, unescape_cell)


#: Older names of :func:`escape_cell` and :func:`escape_frame`, kept for callers that use them.
escape_formula = escape_cell
escape_formulas = escape_frame


def write_csv(frame, path: str | os.PathLike, *, escape: bool = True) -> Path:
    """Write a frame as a CSV that spreadsheets and CSV readers take apart exactly; atomically.

    * UTF-8 with a byte-order mark, so Windows Excel shows non-ASCII names
      (``Zürich``, ``東京``) instead of mojibake; every reader in this package
      accepts the mark (``encoding="utf-8-sig"``).
    * Lines end in CR LF (RFC 4180), which makes the writer quote every field
      holding a CR or an LF: a name with a bare carriage return no longer
      splits its row in two (the part after it began a new row, and could
      begin it with a live formula).
    * With ``escape`` (the default) formula-like text gets the reversible
      leading quote of :func:`escape_frame`.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"name": ["Zürich", "a\\rb", "=1+1"]}), path)
    >>> path.read_bytes()
    b'\\xef\\xbb\\xbfname\\r\\nZ\\xc3\\xbcrich\\r\\n"a\\rb"\\r\\n\\'=1+1\\r\\n'
    """
    if escape:
        frame = escape_frame(frame)
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\r\n", encoding="utf-8-sig")
    return path


def refuse_output_over_inputs(output, inputs: dict, option: str) -> None:
    """Raise :class:`~workbench.errors.InputError` if ``output`` is one of the ``inputs`` or inside one.

    Called before anything is written: ``workbench align accounts.csv --out accounts.csv`` would
    replace the accounts with the assignments, and an export into the plan folder it reads would
    change the plan under its own hashes.

    Parameters
    ----------
    output : path
    inputs : dict
        What each input is called (e.g. ``"ACCOUNTS"``, ``"--reps"``) -> its path (None: not given).
    option : str
        The output's option, for the message (``"--out"``).

    Examples
    --------
    >>> refuse_output_over_inputs("out.csv", {"ACCOUNTS": "accounts.csv"}, "--out")
    >>> refuse_output_over_inputs("accounts.csv", {"ACCOUNTS": "accounts.csv"}, "--out")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: --out accounts.csv is the input ACCOUNTS (accounts.csv); writing it would destroy what it was made from: give another path
    """
    from workbench.errors import InputError

    if output is None or not str(output):
        return
    out = Path(os.path.realpath(output))
    for what, source in inputs.items():
        if source is None or not str(source):
            continue
        src = Path(os.path.realpath(source))
        if out == src:
            raise InputError(f"{option} {output} is the input {what} ({source}); writing it would destroy what "
                             "it was made from: give another path")
        if src.is_dir() and src in out.parents:
            raise InputError(f"{option} {output} is inside the input {what} ({source}); writing there would change "
                             "it: give a path outside it")
