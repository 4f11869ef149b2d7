"""``workbench quota PLAN --target AMOUNT``: territory quotas from a company target.

The target is allocated top-down to the plan's territories in proportion to
their potential (``--by potential``, the default), their revenue (``--by
revenue``: history) or half of each (``--by blend``), with an optional floor
and cap (shares of the target), rounded to whole ``--round`` units so that the
quotas add up to the target exactly (see ``workbench.quota``).
``--out FILE`` writes the table as CSV (``.xlsx``: an Excel sheet);
``workbench export PLAN --to DIR --quotas FILE`` puts the quotas into
summary.xlsx, quotas.csv and salesforce/ForecastingQuota.csv.
"""

from __future__ import annotations


import json

from pathlib import Path

from workbench.cli._common import add_command, add_json
from workbench.errors import InputError


def register(subparsers) -> None:
    """Add the ``quota`` sub-command."""
    parser = add_command(
        subparsers, "quota", run,
        help="territory quotas: a company target allocated by potential, revenue or a blend",
        description="\n\n".join(__doc__.split("\n\n")[:2]), raw=True)
    parser.add_argument("plan", metavar="PLAN", help="saved plan folder (its hash is verified)")
    parser.add_argument("--target", required=True, metavar="AMOUNT",
                        help="company target, e.g. 50000000, 50,000,000 or 50M")
    parser.add_argument("--by", choices=("potential", "revenue", "blend"), default="potential",
                        help="allocation basis (default: potential; blend = half potential, half revenue)")
    parser.add_argument("--floor", type=float, default=None, metavar="SHARE",
                        help="each territory gets at least this share of the target (0.02 = 2%%)")
    parser.add_argument("--cap", type=float, default=None, metavar="SHARE",
                        help="each territory gets at most this share of the target")
    parser.add_argument("--blend", type=float, default=0.5, metavar="SHARE",
                        help="with --by blend: weight of potential (default 0.5; the rest is revenue)")
    parser.add_argument("--round", dest="unit", type=float, default=1.0, metavar="UNIT",
                        help="round quotas to whole UNITs (default 1; 1000 = thousands); they still sum to the target")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the quotas (CSV, or .xlsx)")
    add_json(parser, "print the quotas as JSON instead of a table")


def run(args) -> int:
    """Load the plan, allocate, print (and write); return 0."""
    from workbench.plan import load_plan
    from workbench.quota import parse_amount, territory_quotas

    target = parse_amount(args.target)
    if args.out is not None and Path(args.out).is_dir():
        raise InputError(f"--out {args.out} is a folder; give a file name ending in .csv or .xlsx")
    plan = load_plan(args.plan)
    quotas = territory_quotas(plan, target, by=args.by, floor=args.floor, cap=args.cap, unit=args.unit,
                              blend=args.blend)
    if args.out is not None:
        write_quotas(quotas, args.out, about={"plan": plan.metadata.name, "plan hash": plan.content_hash,
                                              "target": target, "by": args.by, "floor": args.floor,
                                              "cap": args.cap, "rounding unit": args.unit})
    if args.json:
        records = json.loads(quotas.to_json(orient="records"))
        print(json.dumps({"plan": plan.metadata.name, "target": target, "by": args.by, "floor": args.floor,
                          "cap": args.cap, "total": float(quotas["quota"].sum()), "quotas": records}, indent=2))
    else:
        print(format_quotas(quotas, target, args.by, plan.metadata.name))
        if args.out is not None:
            print(f"wrote {len(quotas):,} territory quotas to {args.out}")
    return 0


def write_quotas(quotas, path, about: dict | None = None) -> Path:
    """Write the quota table: CSV (formula-like text escaped), or an Excel sheet for ``.xlsx``."""
    from workbench.safeio import atomic_path, write_csv

    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from workbench.export.excel import write_workbook

        with atomic_path(path) as tmp:
            write_workbook(tmp, {k: v for k, v in (about or {}).items() if v is not None},
                           {"Quotas": (quotas, False)})
        return path
    return write_csv(quotas, path)


def format_quotas(quotas, target: float, by: str, plan_name: str = "") -> str:
    """The quota table for people."""
    from workbench.present import money, text_table
    from workbench.quota import format_quotas as people

    table = people(quotas).drop(columns="Name")
    head = (f"quotas for plan {plan_name!r}: target {money(target, compact=False)} allocated by {by} "
            f"to {len(quotas):,} territories")
    total = float(quotas["quota"].sum())
    foot = (f"total {money(total, compact=False)} (= target); largest {money(quotas['quota'].max(), compact=False)}, "
            f"smallest {money(quotas['quota'].min(), compact=False)}")
    return "\n".join([head, "", text_table(table, index=False), "", foot])
