"""``workbench export PLAN --to DIR``: the files a plan needs to reach the CRM, the reps and leadership."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.cli._common import add_command, add_json
from workbench.errors import PlanError
from workbench.export.formats import FORMATS


def register(subparsers) -> None:
    """Add the ``export`` sub-command."""
    parser = add_command(
        subparsers, "export", run,
        help="export an approved plan: assignments CSV, Excel summary, GIS layers, Salesforce loads, HTML report",
        description="Write an approved plan's files into a folder, atomically: assignments.csv, summary.xlsx, "
        "territories.gpkg/.geojson, salesforce/ (Data Loader CSVs for Enterprise Territory Management), "
        "report.html (opens offline), README.txt and manifest.json (sha256 of every file). A draft plan is "
        "refused unless --allow-draft; an export of another plan is replaced only with --force.",
    )
    parser.add_argument("plan", metavar="PLAN", help="saved plan folder (its hash is verified)")
    parser.add_argument("--to", required=True, metavar="DIR", help="folder to write (new, empty, or an earlier export)")
    parser.add_argument("--format", dest="formats", default=None, metavar="LIST",
                        help=f"comma-separated subset of {','.join(FORMATS)} (default: all of these), plus shp "
                        "(an ESRI shapefile in shapefile/, only when asked for)")
    parser.add_argument("--allow-draft", action="store_true",
                        help="export a draft plan as a review copy marked DRAFT in every file")
    parser.add_argument("--force", action="store_true", help="replace an earlier export of a different plan")
    parser.add_argument("--current", default=None, metavar="PLAN",
                        help="saved plan holding the current alignment (default: the accounts' current_territory)")
    parser.add_argument("--blocks", default=None, metavar="FILE",
                        help="building blocks to dissolve into territory shapes: a polygon file (with --block-col), "
                        "or 'counties' / 'zip-areas' (the bundled ones)")
    parser.add_argument("--block-col", default=None, metavar="COL",
                        help="column naming the block in both the accounts and --blocks (default: county_fips "
                        "with the bundled counties when the accounts have it)")
    parser.add_argument("--quotas", default=None, metavar="FILE",
                        help="territory quotas (from workbench quota PLAN --target AMOUNT --out FILE): adds quotas.csv, "
                        "a Quotas sheet, quota rows in the scorecard and salesforce/ForecastingQuota.csv")
    parser.add_argument("--quota-start", default=None, metavar="YYYY-MM-DD",
                        help="first day of the quota period (default: the first day of next month)")
    add_json(parser, "print the export's manifest (plan, formats, files with bytes and sha256) as JSON")


def run(args) -> int:
    """Export the plan; print the folder and its files; return the exit code."""
    from workbench.errors import InputError
    from workbench.export import export_plan, read_manifest

    from workbench.cli._common import resolve_blocks

    from workbench.safeio import refuse_output_over_inputs

    # PLAN is checked only when it is a plan folder: otherwise loading it says what is wrong with it.
    plan_folder = args.plan if (Path(args.plan) / "manifest.json").is_file() else None
    refuse_output_over_inputs(args.to, {"PLAN": plan_folder, "--current": args.current, "--blocks": args.blocks,
                                        "--quotas": getattr(args, "quotas", None)}, "--to")
    blocks, args.block_col = resolve_blocks(args.blocks, args.block_col)
    current = None
    if args.current is not None:
        from workbench.plan import load_plan

        current = load_plan(args.current)
    if args.quota_start is not None and args.quotas is None:
        raise InputError("--quota-start needs --quotas FILE (the quotas whose period it starts)")
    try:
        before = read_manifest(args.to) if Path(args.to).is_dir() else None
    except PlanError:
        before = None  # damaged: export_plan refuses it, or replaces it with --force
    folder = export_plan(args.plan, args.to, formats=args.formats, allow_draft=args.allow_draft, force=args.force,
                         blocks=blocks, block_col=args.block_col, current=current, quotas=args.quotas,
                         quota_start=args.quota_start)
    manifest = read_manifest(folder)
    if args.json:
        print(json.dumps({"folder": str(folder), **manifest}, indent=2, ensure_ascii=False))
        return 0
    plan = manifest["plan"]
    draft = " (DRAFT review copy)" if plan["status"] != "approved" else ""
    verb = "refreshed the export of" if before and before["plan"]["content_hash"] == plan["content_hash"] else "exported"
    print(f"{verb} plan {plan['name']!r} {plan['content_hash'][:12]}{draft} to {folder}")
    for entry in manifest["files"]:
        print(f"  {entry['path']:<44} {entry['bytes']:>12,} bytes")
    print(f"  {'manifest.json':<44} {(folder / 'manifest.json').stat().st_size:>12,} bytes")
    return 0
