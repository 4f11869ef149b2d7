"""The ``workbench`` command line: the package's operations, headless.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code.

Bad input never ends in a traceback: a :class:`~workbench.errors.WorkbenchError`
(or a missing file) is printed as one line, ``error: ...``, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from workbench import __version__
from workbench.cli._common import add_reading_options, fill_standard_help, reads_accounts, start_warnings
from workbench.errors import WorkbenchError

#: Sub-command modules, in the order ``workbench --help`` lists them.
COMMAND_MODULES = ("info", "align", "choose", "export", "plans", "diff", "capacity", "gaps", "quota", "notebooks")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Territory Workbench: align, compare, approve and export sales territories.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"workbench.cli.{name}").register(subparsers)
    for subparser in subparsers.choices.values():
        if reads_accounts(subparser):  # every command that reads accounts takes --encoding and --sheet
            add_reading_options(subparser)
        fill_standard_help(subparser)
        if not any("--quiet" in action.option_strings for action in subparser._actions):
            subparser.add_argument("--quiet", action="store_true",
                                   help="no progress bar on stderr (bars are shown only on a terminal)")
    return parser



def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from workbench import progress

    progress.configure(False if getattr(args, "quiet", False) else None)  # else: bars on a terminal only
    printer = start_warnings()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # the printer shows each distinct message once
            warnings.showwarning = printer.showwarning
            return int(args.func(args) or 0)
    except WorkbenchError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        # Missing files, permissions, a full disk: the operating system's words, on one line.
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line (WORKBENCH_DEBUG=1 shows the traceback)
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (this is a bug in workbench: please "
              "report it with the command; WORKBENCH_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
