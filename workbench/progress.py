"""Progress bars for long steps (tqdm): in notebooks by default, on the command line on a terminal.

Who sees a bar:

* in a Jupyter kernel, a widget bar (``tqdm.auto``) for steps that take more than a few
  seconds (an export, a render, several fits);
* on the command line, a text bar on **stderr** when stderr is a terminal; ``--quiet`` turns it
  off (stdout, and ``--json`` output, never carry a bar; redirected stderr stays one line per error);
* nowhere else by default (scripts and tests stay quiet); :func:`configure` changes that.

>>> with steps(["read", "write"], desc="demo", enabled=False) as bar:
...     bar.step("read"); bar.step("write")
>>> bar.done
2

Estimators count their rounds with :func:`counter` (their ``progress=True``):

>>> with counter(10, desc="balancing", enabled=False) as bar:
...     bar.update(3); bar.set_postfix_str("max deviation 4.0%")
>>> bar.n
3
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

#: ``None``: decide per run (notebook or terminal); ``True``/``False``: forced by :func:`configure`.
_FORCED: bool | None = None


def configure(enabled: bool | None) -> None:
    """Force bars on (``True``) or off (``False``), or back to automatic (``None``); the CLI's ``--quiet``."""
    global _FORCED
    _FORCED = enabled


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where tqdm draws a widget)."""
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell is not None else None
    except Exception:  # noqa: BLE001 - IPython absent or half-initialised: not a notebook
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def enabled(requested: bool | None = None) -> bool:
    """Whether to show a bar now: ``requested`` if given, else the configured or automatic choice."""
    if requested is not None:
        return bool(requested)
    if _FORCED is not None:
        return _FORCED
    if os.environ.get("WORKBENCH_PROGRESS") in ("0", "1"):
        return os.environ["WORKBENCH_PROGRESS"] == "1"
    return in_notebook() or bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Bar:
    """What both bars share: a tqdm bar or None (not shown), closed on leaving a ``with`` block."""

    _bar = None

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Steps(_Bar):
    """A bar over named steps; :meth:`step` marks one done and names the next."""

    def __init__(self, names: Iterable[str], desc: str, show: bool):
        self.names = list(names)
        self.done = 0
        self._bar = None
        if show:
            self._bar = _tqdm()(total=len(self.names), desc=desc, file=sys.stderr, leave=False, unit="step",
                             bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {postfix} [{elapsed}]")
            if self.names:
                self._bar.set_postfix_str(self.names[0])

    def step(self, name: str | None = None) -> None:
        """One step finished (``name`` is what it was); the bar names the next."""
        self.done += 1
        if self._bar is not None:
            following = self.names[self.done] if self.done < len(self.names) else "done"
            self._bar.set_postfix_str(following, refresh=False)
            self._bar.update(1)


def _tqdm():
    """tqdm's notebook widget in a Jupyter kernel, its text bar elsewhere."""
    if in_notebook():
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


class Counter(_Bar):
    """A bar counting ``total`` units of work (``None``: unknown); no bar at all when ``show`` is false."""

    def __init__(self, total: int | None, desc: str, show: bool):
        self.n = 0
        self._bar = _tqdm()(total=total, desc=desc, file=sys.stderr, leave=False) if show else None

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        """Show ``text`` after the bar (what the work reached)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=refresh)


def counter(total: int | None, *, desc: str, enabled: bool | None = None) -> Counter:
    """A progress bar counting ``total`` units of work (shown per :func:`enabled`)."""
    return Counter(total, desc, globals()["enabled"](enabled))


def steps(names: Iterable[str], *, desc: str, enabled: bool | None = None) -> Steps:
    """A progress bar over named steps (shown per :func:`enabled`)."""
    return Steps(names, desc, globals()["enabled"](enabled))


__all__ = ["configure", "counter", "Counter", "enabled", "in_notebook", "steps", "Steps"]
