"""``workbench capacity ACCOUNTS --current COL --reps REPS.csv``: utilisation, reps needed and where to hire.

Each rep's territory workload (``--balance-on``, hours per year) against the
rep's ``capacity_hours``; the team's utilisation; how many reps the workload
needs at ``--utilisation`` (default 0.85); and, for the difference, suggested
home locations for new reps where the workload per rep is highest, each with
the workload it would take over and from which territories. ``--json`` prints
one object (``reps_needed``, ``utilisation``, ``reps``, ``hires``, ...).
"""

from __future__ import annotations


import json

from pathlib import Path

from workbench.cli._common import account_options, add_accounts, add_command, add_json
from workbench.errors import InputError
from workbench.schema import CURRENT_TERRITORY, WORKLOAD


def register(subparsers) -> None:
    """Add the ``capacity`` sub-command."""
    parser = add_command(
        subparsers, "capacity", run,
        help="rep utilisation against capacity, reps needed at a target utilisation, where to hire",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1],
        raw=True)
    add_accounts(parser)
    parser.add_argument("--current", required=True, metavar="COL", help="column holding each account's territory")
    parser.add_argument("--reps", required=True, metavar="REPS.csv",
                        help="reps file: rep_id, latitude, longitude, territory_id, capacity_hours")
    parser.add_argument("--balance-on", default=WORKLOAD, metavar="COL",
                        help="workload column, in hours per year like capacity_hours (default: %(default)s)")
    parser.add_argument("--utilisation", type=float, default=0.85, metavar="SHARE",
                        help="target utilisation, a share of the reps' hours (default: 0.85 = 85%%)")
    parser.add_argument("--new-rep-capacity", type=float, default=None, metavar="HOURS",
                        help="hours per year of a new rep (default: the current reps' mean)")
    parser.add_argument("--reps-out", default=None, metavar="FILE",
                        help="write the reps of the headcount needed (today's plus the hires, less surplus) for "
                        "workbench align ACCOUNTS --current COL --reps FILE")
    add_json(parser)


def run(args) -> int:
    """Load, assess, print; return 0."""
    from workbench.capacity import assess_capacity, nearest_places
    from workbench.io import load_accounts, load_reps

    if args.reps_out is not None and Path(args.reps_out).is_dir():
        raise InputError(f"--reps-out {args.reps_out} is a folder; give a file name ending in .csv")
    workload_col = args.balance_on.strip()
    if not workload_col or "," in workload_col:
        raise InputError(f"--balance-on names one workload column (hours per year), got {args.balance_on!r}")
    accounts = load_accounts(args.accounts, **account_options(args),
                             territory_col=args.current, metrics=[workload_col])
    reps = load_reps(args.reps)
    result = assess_capacity(accounts, reps, current_col=CURRENT_TERRITORY, workload_col=workload_col,
                             target=args.utilisation, new_rep_capacity=args.new_rep_capacity)
    hires = result.hires
    if len(hires):
        hires = hires.assign(near=nearest_places(hires["latitude"], hires["longitude"]))
        result = type(result)(result.reps, result.team, result.reps_needed, hires, result.surplus_territories,
                              result.target, result.new_rep_capacity)
    if args.reps_out is not None:
        from workbench.capacity import headcount_reps
        from workbench.safeio import write_csv

        write_csv(headcount_reps(reps, result), args.reps_out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_assessment(result, workload_col))
        if args.reps_out is not None:
            print(f"wrote the {result.reps_needed:,} reps of the headcount needed to {args.reps_out}; realign with: "
                  f"workbench align {args.accounts} --current {args.current} --reps {args.reps_out} --out PLAN")
    return 0


def format_assessment(result, workload_col: str = WORKLOAD) -> str:
    """The tables ``workbench capacity`` prints, for people."""
    from workbench.capacity import format_hires, format_utilisation
    from workbench.present import hours, percent, text_table

    data = result.to_dict()
    target = data["target_utilisation"]
    lines = [f"Utilisation of {data['current_reps']:,} reps: {workload_col!r} hours against capacity_hours "
             f"(target {percent(target, fraction=True)}; over / under = more than 10 points above / below it)", ""]
    staffed = result.reps[result.reps["rep_id"].notna()]
    table = format_utilisation(staffed)
    lines.append(text_table(table, index=False))
    orphans = data["territories_without_rep"]
    if orphans:
        lines.append(f"territories with accounts but no rep in the reps file: {', '.join(orphans[:10])}"
                     + (f" and {len(orphans) - 10} more" if len(orphans) > 10 else ""))
    lines.append("")
    lines.append(f"team: {hours(data['workload'])} of work on {hours(data['capacity_hours'])} of capacity = "
                 f"{percent(data['utilisation'], fraction=True)} utilised; {data['over']} over, "
                 f"{data['on_target']} on target, {data['under']} under")
    change = data["change"]
    verdict = (f"hire {change}" if change > 0 else "no change" if change == 0
               else f"{-change} more than the workload needs")
    lines.append(f"reps needed at {percent(target, fraction=True)}: {data['reps_needed']:,} "
                 f"({data['current_reps']:,} today: {verdict})")
    if data["hires"]:
        lines.append("")
        lines.append(f"suggested hires ({hours(data['new_rep_capacity_hours'])} each), where the workload per rep "
                     "is highest:")
        lines.append(text_table(format_hires(result.hires), index=False))
    elif data["surplus_territories"]:
        lines.append("least utilised territories (candidates to close or merge): "
                     + ", ".join(data["surplus_territories"]))
    return "\n".join(lines)
