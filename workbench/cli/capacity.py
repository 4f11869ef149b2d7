"""``workbench capacity ACCOUNTS --current COL --reps REPS.csv``: utilisation, reps needed and where to hire.

Each rep's territory workload (``--balance-on``, hours per year) against the
rep's ``capacity_hours``; the team's utilisation; how many reps the workload
needs at ``--utilisation`` (default 0.85); and, for the difference, suggested
home locations for new reps where the workload per rep is highest, each with
the workload it would take over and from which territories. ``--json`` prints
one object (``reps_needed``, ``utilisation``, ``reps``, ``hires``, ...).
"""

from __future__ import annotations

import argparse
import json
import math

from workbench.errors import InputError
from workbench.schema import ACCOUNT_ID, CURRENT_TERRITORY, WORKLOAD


def register(subparsers) -> None:
    """Add the ``capacity`` sub-command."""
    parser = subparsers.add_parser(
        "capacity", help="rep utilisation against capacity, reps needed at a target utilisation, where to hire",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("accounts", metavar="ACCOUNTS", help="accounts file (CSV, Excel, Parquet, GeoPackage, ...)")
    parser.add_argument("--current", required=True, metavar="COL", help="column holding each account's territory")
    parser.add_argument("--reps", required=True, metavar="REPS.csv",
                        help="reps file: rep_id, latitude, longitude, territory_id, capacity_hours")
    parser.add_argument("--balance-on", default=WORKLOAD, metavar="COL",
                        help="workload column, in hours per year like capacity_hours (default: %(default)s)")
    parser.add_argument("--utilisation", type=float, default=0.85, metavar="SHARE",
                        help="target utilisation, a share of the reps' hours (default: 0.85 = 85%%)")
    parser.add_argument("--new-rep-capacity", type=float, default=None, metavar="HOURS",
                        help="hours per year of a new rep (default: the current reps' mean)")
    parser.add_argument("--id-col", default=ACCOUNT_ID)
    parser.add_argument("--lat-col", default="latitude")
    parser.add_argument("--lon-col", default="longitude")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Load, assess, print; return 0."""
    from workbench.capacity import assess_capacity, nearest_places
    from workbench.io import load_accounts, load_reps

    target = args.utilisation
    if not math.isfinite(target) or not 0 < target <= 1:
        hint = f" (did you mean {target / 100:g}?)" if 1 < target <= 100 else ""
        raise InputError(f"--utilisation must be a share of the reps' hours in (0, 1], e.g. 0.85 for 85%; "
                         f"got {target:g}{hint}")
    if args.new_rep_capacity is not None and not (math.isfinite(args.new_rep_capacity) and args.new_rep_capacity > 0):
        raise InputError(f"--new-rep-capacity must be a positive number of hours per year, got {args.new_rep_capacity:g}")
    workload_col = args.balance_on.strip()
    if not workload_col or "," in workload_col:
        raise InputError(f"--balance-on names one workload column (hours per year), got {args.balance_on!r}")
    accounts = load_accounts(args.accounts, id_col=args.id_col, lat_col=args.lat_col, lon_col=args.lon_col,
                             territory_col=args.current, metrics=[workload_col])
    if workload_col not in accounts.columns:
        raise InputError(f"{args.accounts}: no column {workload_col!r} (columns: {list(accounts.columns)}); "
                         "name the workload column with --balance-on COL")
    reps = load_reps(args.reps)
    result = assess_capacity(accounts, reps, current_col=CURRENT_TERRITORY, workload_col=workload_col,
                             target=target, new_rep_capacity=args.new_rep_capacity)
    hires = result.hires
    if len(hires):
        hires = hires.assign(near=nearest_places(hires["latitude"], hires["longitude"]))
        result = type(result)(result.reps, result.team, result.reps_needed, hires, result.surplus_territories,
                              result.target, result.new_rep_capacity)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_assessment(result, workload_col))
    return 0


def format_assessment(result, workload_col: str = WORKLOAD) -> str:
    """The tables ``workbench capacity`` prints, for people."""
    from workbench.capacity import TARGET_UTILISATION

    data = result.to_dict()
    target = data["target_utilisation"] if data["target_utilisation"] else TARGET_UTILISATION
    lines = [f"Utilisation of {data['current_reps']:,} reps: {workload_col!r} hours against capacity_hours "
             f"(target {_pct(target)}; over / under = more than 10 points above / below it)", ""]
    rows = [["rep", "name", "territory", "accounts", "workload h", "capacity h", "utilisation", "status"]]
    for rep in data["reps"]:
        rows.append([rep["rep_id"], rep["name"], rep["territory_id"] or "(none)", f"{rep['accounts']:,}",
                     _hours(rep["workload"]), _hours(rep["capacity_hours"]), _pct(rep["utilisation"]), rep["status"]])
    lines += _table(rows, left=3, last_left=True)
    orphans = data["territories_without_rep"]
    if orphans:
        lines.append(f"territories with accounts but no rep in the reps file: {', '.join(orphans[:10])}"
                     + (f" and {len(orphans) - 10} more" if len(orphans) > 10 else ""))
    lines.append("")
    lines.append(f"team: {_hours(data['workload'])} h of work on {_hours(data['capacity_hours'])} h of capacity = "
                 f"{_pct(data['utilisation'])} utilised; {data['over']} over, {data['on_target']} on target, "
                 f"{data['under']} under")
    change = data["change"]
    verdict = (f"hire {change}" if change > 0 else "no change" if change == 0
               else f"{-change} more than the workload needs")
    lines.append(f"reps needed at {_pct(target)}: {data['reps_needed']:,} ({data['current_reps']:,} today: {verdict})")
    if data["hires"]:
        lines.append("")
        lines.append(f"suggested hires ({_hours(data['new_rep_capacity_hours'])} h each), where the workload per rep "
                     "is highest:")
        rows = [["hire", "near", "latitude", "longitude", "workload h", "utilisation", "takes over from"]]
        for hire in data["hires"]:
            sources = list(hire["from_territories"].items())
            taken = ", ".join(f"{t} {_hours(h)} h" for t, h in sources[:4])
            if len(sources) > 4:
                taken += f" and {len(sources) - 4} more"
            rows.append([hire["rep_id"], hire.get("near") or "-", f"{hire['latitude']:.4f}",
                         f"{hire['longitude']:.4f}", _hours(hire["workload"]), _pct(hire["utilisation"]), taken])
        lines += _table(rows, left=2, last_left=True)
    elif data["surplus_territories"]:
        lines.append("least utilised territories (candidates to close or merge): "
                     + ", ".join(data["surplus_territories"]))
    return "\n".join(lines)


def _pct(share) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def _hours(value) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _table(rows, left: int = 1, last_left: bool = False) -> list[str]:
    """First ``left`` columns (and the last, if asked) left-aligned, the rest right-aligned."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths)):
            flush_left = i < left or (last_left and i == len(row) - 1)
            cells.append(str(cell).ljust(width) if flush_left else str(cell).rjust(width))
        out.append("  ".join(cells).rstrip())
    return out
