"""``workbench notebooks DIR``: copy the guided notebooks into a working folder."""

from __future__ import annotations

import json

from workbench.cli._common import add_command, add_json


def register(subparsers) -> None:
    """Add the ``notebooks`` sub-command."""
    parser = add_command(
        subparsers, "notebooks", run,
        help="copy the guided notebooks into a working folder, ready to run on the bundled sample",
        description="Copy the guided notebooks (01_explore_accounts.ipynb, ...) into DIR (created if needed). "
        "They run from there on the bundled sample data shipped with the workbench; plans and exports are "
        "saved next to them (DIR/plans, DIR/exports). Notebooks already in DIR with the same content are left "
        "alone; different ones (your edits) are kept unless --overwrite is given.",
    )
    parser.add_argument("folder", metavar="DIR", help="working folder for the notebooks (created if it does not exist)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace notebooks in DIR that differ from the shipped ones (your edits are lost)")
    add_json(parser, "print the copied paths as a JSON array")


def run(args) -> int:
    """Copy the notebooks and say how to open them; return the exit code."""
    from workbench.bundled import copy_notebooks

    copies = copy_notebooks(args.folder, overwrite=args.overwrite)
    if args.json:
        print(json.dumps([str(path) for path in copies], indent=2))
        return 0
    print(f"{len(copies)} guided notebooks in {copies[0].parent}:")
    for path in copies:
        print(f"  {path.name}")
    print(f"open them with: jupyter lab --notebook-dir {copies[0].parent}")
    return 0
