"""Pieces every sub-command shares: its parser, the options that read an accounts file, warnings, JSON."""

from __future__ import annotations

import argparse
import sys

from workbench.schema import ACCOUNT_ID, LATITUDE, LONGITUDE


def add_command(subparsers, name: str, run, *, help: str, description: str, raw: bool = False):
    """Add sub-command ``name`` whose ``func`` is ``run``; ``raw`` keeps the description's line breaks."""
    parser = subparsers.add_parser(name, help=help, description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter if raw
                                   else argparse.HelpFormatter)
    parser.set_defaults(func=run)
    return parser


def add_accounts(parser, *, help: str = "accounts file (CSV, Excel, Parquet, GeoPackage, ...)") -> None:
    """The ``ACCOUNTS`` file argument and the options naming its id and coordinate columns.

    ``--encoding`` and ``--sheet`` are added to every such parser by :func:`workbench.cli.build_parser`;
    :func:`account_options` turns them all into :func:`workbench.io.load_accounts` keywords.
    """
    parser.add_argument("accounts", metavar="ACCOUNTS", help=help)
    parser.add_argument("--id-col", default=ACCOUNT_ID, metavar="COL")
    parser.add_argument("--lat-col", default=LATITUDE, metavar="COL")
    parser.add_argument("--lon-col", default=LONGITUDE, metavar="COL")


def add_json(parser, help: str = "print one JSON object instead of tables") -> None:
    """The ``--json`` switch."""
    parser.add_argument("--json", action="store_true", help=help)


def account_options(args) -> dict:
    """:func:`workbench.io.load_accounts` keywords from the options of :func:`add_accounts` and the reading options.

    Examples
    --------
    >>> account_options(argparse.Namespace(id_col="id", lat_col="lat", lon_col="lon", encoding=None, sheet="A"))
    {'encoding': None, 'sheet': 'A', 'id_col': 'id', 'lat_col': 'lat', 'lon_col': 'lon'}
    """
    return {**reading_options(args), "id_col": args.id_col, "lat_col": args.lat_col, "lon_col": args.lon_col}

#: Options added to every sub-command that reads an ACCOUNTS file (see :func:`add_reading_options`).
READING_OPTIONS = ("--encoding", "--sheet")


def add_reading_options(parser) -> None:
    """Add ``--encoding`` and ``--sheet`` to a parser that reads an accounts file (unless it has them)."""
    present = {option for action in parser._actions for option in action.option_strings}
    if "--encoding" not in present:
        parser.add_argument("--encoding", default=None, metavar="CODEC",
                            help="text encoding of a CSV accounts file, e.g. cp1252 (default: UTF-8; a file that is "
                            "not UTF-8 is read as cp1252 or latin-1 with a warning naming the one used)")
    if "--sheet" not in present:
        parser.add_argument("--sheet", default=None, metavar="NAME",
                            help="Excel sheet holding the accounts (default: the first sheet)")


#: Help for the column options many commands share, used where a command gave none.
STANDARD_HELP = {
    "id_col": "column holding the account id (default: %(default)s)",
    "lat_col": "latitude column of the accounts (default: %(default)s)",
    "lon_col": "longitude column of the accounts (default: %(default)s)",
    "zip_col": "ZIP column, used where coordinates are missing (default: %(default)s)",
}


def fill_standard_help(parser) -> None:
    """Give the shared column options (``--id-col``, ``--lat-col``, ...) their help text where it is missing."""
    for action in parser._actions:
        if not action.help and action.dest in STANDARD_HELP:
            action.help = STANDARD_HELP[action.dest]
            action.metavar = action.metavar or "COL"


def reads_accounts(parser) -> bool:
    """True if the parser takes an ``ACCOUNTS`` file as its first positional argument."""
    return any(action.dest == "accounts" and not action.option_strings for action in parser._actions)


def reading_options(args) -> dict:
    """``load_accounts`` keywords from the reading options: ``{"encoding": ..., "sheet": ...}``.

    Examples
    --------
    >>> import argparse
    >>> reading_options(argparse.Namespace(encoding="cp1252", sheet=None))
    {'encoding': 'cp1252', 'sheet': None}
    """
    return {"encoding": getattr(args, "encoding", None), "sheet": getattr(args, "sheet", None)}


class WarningPrinter:
    """Print each distinct warning once, on stderr, as one ``warning: ...`` line.

    Installed as ``warnings.showwarning`` by :func:`workbench.cli.main`, so a
    warning raised anywhere (a file read with a fallback encoding, a missed
    tolerance) reaches the terminal once and without a source line.

    Examples
    --------
    >>> import io
    >>> printer, out = WarningPrinter(), io.StringIO()
    >>> printer.emit("tolerance 5%\\n not met", file=out); printer.emit("tolerance 5% not met", file=out)
    >>> out.getvalue()
    'warning: tolerance 5% not met\\n'
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def emit(self, message, file=None) -> None:
        """Print ``message`` unless an equal one was printed already."""
        text = " ".join(str(message).split())
        if text in self.seen:
            return
        self.seen.add(text)
        print(f"warning: {text}", file=file or sys.stderr)

    def showwarning(self, message, category, filename, lineno, file=None, line=None) -> None:
        """``warnings.showwarning`` signature."""
        self.emit(message)


#: The printer of the command running now (set by :func:`workbench.cli.main`).
_printer = WarningPrinter()


def start_warnings() -> WarningPrinter:
    """A fresh printer for a new command run (what :func:`workbench.cli.main` installs)."""
    global _printer
    _printer = WarningPrinter()
    return _printer


def warn(message) -> None:
    """Print ``warning: message`` on stderr unless this run printed it already."""
    _printer.emit(message)


#: What ``--blocks`` accepts besides a file (see :func:`resolve_blocks`).
BLOCKS_HELP = ("building-block polygons: a file (GeoPackage, GeoJSON, shapefile, ...) with --block-col, or a bundled "
               "set: 'counties' (block column county_fips) or 'zip-areas' (approximate ZIP areas, block column zip)")


def resolve_blocks(blocks, block_col):
    """``(blocks GeoDataFrame or None, block_col)`` from ``--blocks``/``--block-col``.

    ``--blocks counties`` and ``--blocks zip-areas`` name the bundled blocks
    (their block column is implied); anything else is a file that needs
    ``--block-col``. A file that exists under one of those names wins.
    """
    if blocks is None:
        return None, block_col
    from pathlib import Path

    from workbench.bundled import BUNDLED_BLOCKS, bundled_blocks
    from workbench.errors import InputError
    from workbench.io import load_blocks

    bundled = None if Path(blocks).exists() else bundled_blocks(blocks)
    if bundled is not None:
        frame, implied = bundled
        block_col = block_col or implied
        return load_blocks(frame, implied), block_col
    if not block_col:
        names = ", ".join(BUNDLED_BLOCKS)
        raise InputError(f"--blocks {blocks} needs --block-col naming the block id column (in the blocks and the "
                         f"accounts), or name a bundled set: {names}")
    return load_blocks(blocks, block_col), block_col
