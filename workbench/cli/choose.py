"""``workbench choose ACCOUNTS --capacity-hours H | --range 30:50``: how many territories?"""

from __future__ import annotations

import argparse
import json
import math

from workbench.cli._common import account_options, add_accounts, add_command, add_json
from workbench.errors import InputError
from workbench.schema import WORKLOAD

#: Numbers of territories shown either side of the capacity answer when no --range is given.
AROUND = 3


def register(subparsers) -> None:
    """Add the ``choose`` sub-command."""
    parser = add_command(
        subparsers, "choose", run,
        help="choose the number of territories: workload / rep capacity, and an elbow table",
        description="Print the table that helps choose the number of territories. --capacity-hours H gives the "
        "territories the workload needs (total workload / H, rounded up) and each row's utilisation (mean "
        "territory workload / H); --range A:B[:STEP] gives the k-means elbow table (spread of the accounts "
        "around their centre, silhouette, workload imbalance of plain k-means) for those numbers. Give either or "
        "both; with only --capacity-hours the table spans the answer +/- 3.",
    )
    add_accounts(parser)
    parser.add_argument("--capacity-hours", type=float, metavar="H",
                        help="hours per year one rep can work (e.g. the reps' median capacity_hours)")
    parser.add_argument("--range", dest="span", type=_span, metavar="A:B[:STEP]",
                        help="numbers of territories to tabulate, e.g. 30:50 or 30:50:5 (inclusive)")
    parser.add_argument("--workload-col", default=WORKLOAD, metavar="COL",
                        help="workload column in hours per year (default: %(default)s)")
    parser.add_argument("--sample-size", type=int, default=5000, metavar="N",
                        help="accounts sampled for the silhouette (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of k-means (default: %(default)s)")
    add_json(parser, "print one JSON object (needed, table) instead of text")


def _span(text: str) -> range:
    parts = text.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3) or numbers[0] < 1 or numbers[1] < numbers[0] or (len(numbers) == 3 and numbers[2] < 1):
        raise argparse.ArgumentTypeError(f"expected A:B or A:B:STEP with 1 <= A <= B and STEP >= 1, e.g. 30:50, "
                                         f"got {text!r}")
    step = numbers[2] if len(numbers) == 3 else 1
    return range(numbers[0], numbers[1] + 1, step)


def choose_table(accounts: pd.DataFrame, ks, *, capacity_hours=None, workload_col=WORKLOAD, sample_size=5000,
                 random_state=0) -> pd.DataFrame:
    """The elbow table for ``ks``, with utilisation per row when ``capacity_hours`` is given.

    Columns: ``n_territories``, ``inertia_km``, ``silhouette``, ``max_workload_deviation``
    (see :func:`workbench.align.elbow_table`), and with a capacity
    ``mean_territory_workload_h`` and ``utilisation`` (mean territory workload / capacity, a share).
    """
    from workbench.align import elbow_table

    table = elbow_table(accounts, list(ks), random_state=random_state, weight_col=workload_col,
                        sample_size=sample_size)
    if capacity_hours is not None:
        total = float(accounts[workload_col].sum())
        table["mean_territory_workload_h"] = total / table["n_territories"]
        table["utilisation"] = table["mean_territory_workload_h"] / capacity_hours
    return table


def run(args) -> int:
    """Load the accounts, print the capacity answer and the table; return the exit code."""
    from workbench.align import choose_n_territories
    from workbench.io import load_accounts

    if args.capacity_hours is None and args.span is None:
        raise InputError("give --capacity-hours H (hours one rep can work per year) and/or --range A:B "
                         "(numbers of territories to compare), e.g. --capacity-hours 1700 or --range 30:50")
    if args.capacity_hours is not None and not (math.isfinite(args.capacity_hours) and args.capacity_hours > 0):
        raise InputError(f"--capacity-hours must be a positive number of hours per rep and year, "
                         f"got {args.capacity_hours:g}")
    if args.sample_size < 2:
        raise InputError(f"--sample-size must be at least 2, got {args.sample_size}")
    metrics = [args.workload_col] if args.capacity_hours is not None or args.workload_col != WORKLOAD else None
    accounts = load_accounts(args.accounts, **account_options(args), metrics=metrics)
    if args.workload_col not in accounts.columns:
        raise InputError(f"{args.accounts}: no column {args.workload_col!r} (columns: {list(accounts.columns)}); "
                         "name the workload column with --workload-col COL")
    needed = None
    if args.capacity_hours is not None:
        needed = choose_n_territories(accounts, capacity_hours=args.capacity_hours, workload_col=args.workload_col)
    ks = args.span if args.span is not None else range(max(1, needed - AROUND), needed + AROUND + 1)
    too_many = [k for k in ks if k > len(accounts)]
    if too_many:
        raise InputError(f"{args.accounts} has {len(accounts):,} accounts: cannot make {too_many[0]} territories; "
                         f"use a --range up to {len(accounts)}")
    table = choose_table(accounts, ks, capacity_hours=args.capacity_hours, workload_col=args.workload_col,
                         sample_size=args.sample_size, random_state=args.seed)
    total = float(accounts[args.workload_col].sum())
    if args.json:
        print(json.dumps({"accounts": int(len(accounts)), "total_workload_h": total,
                          "capacity_hours": args.capacity_hours, "territories_needed": needed,
                          "table": json.loads(table.to_json(orient="records"))}, indent=2))
        return 0
    import pandas as pd

    from workbench import present

    print(f"{present.integer(len(accounts))} accounts, total workload {present.hours(total)}")
    if needed is not None:
        print(f"territories needed at {present.hours(args.capacity_hours)} per rep: {needed} "
              f"(total workload / capacity, rounded up)")
    shown = pd.DataFrame({
        "Territories": table["n_territories"].map(present.integer),
        "Spread around centre": table["inertia_km"].map(present.km),
        "Silhouette": table["silhouette"].map(lambda v: present.number(v, 2)),
        "k-means workload imbalance": table["max_workload_deviation"].map(lambda v: present.percent(v, fraction=True)),
    })
    if args.capacity_hours is not None:
        shown["Mean workload"] = table["mean_territory_workload_h"].map(present.hours)
        shown["Utilisation"] = table["utilisation"].map(lambda v: present.percent(v, fraction=True))
        shown[""] = ["<- needed" if k == needed else "" for k in table["n_territories"]]
    print(present.text_table(shown, index=False))
    print("Spread: root mean squared distance of the accounts to their territory centre (falls as territories are "
          "added; pick where it stops falling fast). Silhouette: higher = better separated.")
    return 0
