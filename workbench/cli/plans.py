"""``workbench compare``, ``workbench approve`` and ``workbench plans``: review, sign off and list plans."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.cli._common import add_accounts, add_command, add_json, reading_options, resolve_blocks
from workbench.errors import InputError, PlanError
from workbench.schema import DEFAULT_TOLERANCE, CURRENT_TERRITORY


def register(subparsers) -> None:
    """Add the ``compare``, ``approve`` and ``plans`` sub-commands."""
    compare = add_command(
        subparsers, "compare", run_compare,
        help="compare a proposed alignment with the current one: balance, moves, disruption",
        description="Compare a proposed alignment with the current one. Prints the scorecards side by side "
        "(balance, compactness, contiguity, distance to the reps' homes) and what moves; --json prints one "
        "JSON object instead (keys documented in the README).",
    )
    add_accounts(compare)
    compare.add_argument("--current", required=True, metavar="COL",
                         help="column of ACCOUNTS holding each account's current territory, or a saved plan folder")
    compare.add_argument("--proposed", required=True, metavar="OUT.csv|PLAN",
                         help="CSV with account_id,territory_id (one row per account), a saved plan folder, "
                         "or another column of ACCOUNTS")
    compare.add_argument("--balance-on", default=None, metavar="COL,...",
                         help="metrics to compare, first one quoted in explanations "
                         "(default: workload, revenue, potential when present)")
    compare.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, metavar="SHARE",
                         help="balance tolerance as a share of the mean (default 0.05 = 5%%)")
    compare.add_argument("--reps", default=None, metavar="FILE",
                         help="reps file (rep_id, name, latitude, longitude, territory_id) for distances to their homes")
    compare.add_argument("--blocks", default=None, metavar="FILE",
                         help="block polygons for contiguity and Polsby-Popper: a file with --block-col, or "
                         "'counties' / 'zip-areas' (the bundled ones)")
    compare.add_argument("--block-col", default=None, metavar="COL",
                         help="column naming the block in ACCOUNTS and --blocks (e.g. county_fips)")
    compare.add_argument("--moved", default=None, metavar="FILE.csv",
                         help="also write the moved accounts with their explanations to this CSV")
    add_json(compare)

    approve = add_command(
        subparsers, "approve", run_approve,
        help="review and approve a saved draft plan in place (its files become read-only)",
        description="Approve a saved draft plan: verify its hashes and print its review first (scorecard "
        "against the current alignment, who is affected, largest transfers, warnings: out of tolerance, "
        "non-contiguous, far moves, edits after the last optimisation). A plan with warnings is approved only "
        "with --accept-warnings, and the acknowledged warnings are recorded in the approval. Then record the "
        "approver, time and note, replace the draft folder atomically with the approved version and make it "
        "read-only. Prints the content hash (unchanged by approval: it is the hash of what was reviewed).",
    )
    approve.add_argument("plan", metavar="PLAN", help="saved plan folder")
    approve.add_argument("--by", required=True, metavar="NAME", help="who approves")
    approve.add_argument("--note", default="", metavar="TEXT", help="approval note")
    approve.add_argument("--allow-unassigned", action="store_true",
                         help="approve even though some accounts have no territory (they are listed in the plan)")
    approve.add_argument("--accept-warnings", action="store_true",
                         help="approve although the review lists warnings (read them first; they are recorded "
                         "in the approval)")
    approve.add_argument("--current", default=None, metavar="PLAN|COL",
                         help="current alignment to review against: a saved plan folder or a column of the plan's "
                         "accounts (default: their current_territory column, when present)")
    add_json(approve, "print one JSON object (plan, folder, approver, time, note, hashes, unassigned, "
             "accepted_warnings, review) instead of the review and lines of text")

    plans = add_command(
        subparsers, "plans", run_plans,
        help="list the plans saved in a folder",
        description="List the plans saved in the sub-folders of DIR (oldest first); --tree shows their history: "
        "each plan under the plan it was edited from, through saved plans and the unsaved steps recorded when "
        "they were saved.")
    plans.add_argument("folder", metavar="DIR", help="folder holding saved plan folders")
    add_json(plans, "print a JSON array instead of a table")
    plans.add_argument("--tree", action="store_true",
                       help="show the history as a tree (with --json: one record per node with its depth)")


# ---------------------------------------------------------------------------- compare
def run_compare(args) -> int:
    """Load the accounts and both plans, compare them, print the result."""
    from workbench.safeio import refuse_output_over_inputs

    refuse_output_over_inputs(args.moved, {"ACCOUNTS": args.accounts, "--proposed": args.proposed,
                                           "--current": args.current, "--reps": args.reps,
                                           "--blocks": args.blocks}, "--moved")
    from workbench import present
    from workbench.compare import compare_plans, format_scorecards
    from workbench.io import load_accounts

    metrics = _split(args.balance_on)
    columns = {"id_col": args.id_col, "lat_col": args.lat_col, "lon_col": args.lon_col, "metrics": metrics}
    current_is_plan = _is_plan_folder(args.current)
    current_col = None if current_is_plan else args.current
    if current_col in (None, CURRENT_TERRITORY):
        accounts = load_accounts(args.accounts, **reading_options(args), **columns)
    else:
        accounts = load_accounts(args.accounts, **reading_options(args), **columns)
        _check_column(accounts, current_col, args.accounts)
        if CURRENT_TERRITORY not in accounts.columns:  # let the loader check and clean the column
            accounts = load_accounts(args.accounts, **reading_options(args), territory_col=current_col, **columns)
            current_col = CURRENT_TERRITORY
    reps = _load_reps(args.reps)
    current = _current_plan(args, accounts, reps, current_col)
    proposed = _proposed_plan(args, accounts, reps)
    blocks, block_col = resolve_blocks(args.blocks, args.block_col)
    result = compare_plans(current, proposed, metrics=metrics, tolerance=args.tolerance, reps=reps, blocks=blocks,
                           block_col=block_col)
    if args.moved:
        _write_moved(result.moved_accounts, args.moved)
    if args.json:
        print(json.dumps(result.to_dict(), allow_nan=False, ensure_ascii=False))
        return 0
    print(f"current:  {current.name!r} ({current.content_hash[:12]}, {current.metadata.status})")
    print(f"proposed: {proposed.name!r} ({proposed.content_hash[:12]}, {proposed.metadata.status})")
    print()
    print(format_scorecards(result.scorecards))
    print()
    print("moved: " + result.moved_text())
    keep = result.retention
    if len(keep):
        worst = keep["accounts_kept_pct"].idxmin()
        print(f"books kept: median {present.percent(keep['accounts_kept_pct'].median())} of accounts; least "
              f"{present.percent(keep.loc[worst, 'accounts_kept_pct'])} ({worst})")
    for warning in result.warnings:
        print(f"warning: {warning}")
    if args.moved:
        print(f"moved accounts written to {args.moved}")
    return 0


def _current_plan(args, accounts, reps, column):
    from workbench.plan import Plan, load_plan

    if column is None:
        return load_plan(args.current)
    return Plan.from_column(accounts, column, name="current", reps=reps)


def _proposed_plan(args, accounts, reps):
    from workbench.plan import Plan, load_plan, plan_from_assignments

    source = Path(args.proposed)
    if source.is_dir():
        return load_plan(source)  # reps, if given, are passed to compare_plans: the saved plan stays as it is
    if source.is_file():
        return plan_from_assignments(accounts, source, name="proposed", reps=reps, what=Path(args.accounts).name)
    if args.proposed in accounts.columns:
        return Plan.from_column(accounts, args.proposed, name="proposed", reps=reps)
    raise FileNotFoundError(f"--proposed {args.proposed}: no such file or plan folder, and not a column of "
                            f"{args.accounts}; pass a CSV with account_id,territory_id or a saved plan folder")


def _check_column(accounts: pd.DataFrame, column: str, source) -> None:
    # load_accounts(territory_col=X) does not notice a missing X when the file also has
    # current_territory (and refuses X when it has both), so the CLI checks the name itself.
    if column not in accounts.columns:
        raise InputError(f"--current {column}: {source} has no column {column!r} and it is not a saved plan folder "
                         f"(columns: {list(accounts.columns)}); pass the column holding the current territory")


def _is_plan_folder(value: str) -> bool:
    return Path(value).is_dir() and (Path(value) / "manifest.json").is_file()


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise InputError(f"--balance-on {text!r} names no column; pass e.g. --balance-on workload,revenue")
    return items


def _load_reps(path):
    if path is None:
        return None
    from workbench.io import load_reps

    return load_reps(path)


def _write_moved(moved: pd.DataFrame, path) -> None:
    from workbench.safeio import write_csv

    write_csv(moved, path)


# ---------------------------------------------------------------------------- approve
def run_approve(args) -> int:
    """Verify the saved draft, print its review, approve it (warnings only when accepted), save, print the hash."""
    from workbench.locking import folder_lock

    # Hold the plan's lock from the check (is it still a draft?) to the last rename: two approvals of one
    # draft at once must not both succeed, one silently replacing the other.
    with folder_lock(args.plan, action="approving"):
        return _approve_locked(args)


def _approve_locked(args) -> int:
    from workbench.plan import approve, check_approver, check_save_path, load_plan, save_plan
    from workbench.present import count
    from workbench.safeio import refuse_symlink
    from workbench.signoff import read_lineage, review_plan

    check_approver(args.by, args.note)  # before the review: a forged name is refused, not reviewed
    plan = load_plan(args.plan)
    if plan.is_approved:
        m = plan.metadata
        raise PlanError(f"{args.plan} is already approved (by {m.approved_by} at {m.approved_at}, content hash "
                        f"{plan.content_hash}); approved plans never change: edit it and save a new draft instead")
    unassigned = plan.unassigned
    if len(unassigned) and not args.allow_unassigned:
        raise PlanError(f"{args.plan} leaves {count(len(unassigned), 'account')} without a territory "
                        f"(e.g. {', '.join(map(repr, unassigned[:5]))}); assign them and save the plan again, "
                        "or pass --allow-unassigned to approve it as it is")
    check_save_path(args.plan, overwrite=True)  # refuse a folder it cannot be saved back to before the review
    refuse_symlink(Path(args.plan))
    review = review_plan(plan, _approval_current(args, plan), lineage=read_lineage(args.plan))
    as_json = getattr(args, "json", False)
    if not as_json:  # with --json stdout holds one JSON object; the refusal below still lists the warnings
        print(review.summary())
        print()
    if review.warnings and not args.accept_warnings:
        raise PlanError(f"{args.plan} has {count(len(review.warnings), 'warning')} (listed above): "
                        + "; ".join(review.warnings) + "; read them, then pass --accept-warnings to approve it "
                        "anyway (the acknowledgement is recorded in the approval)")
    approved = approve(plan, by=args.by, note=args.note, review=review, accept_warnings=args.accept_warnings)
    folder = save_plan(approved, args.plan, overwrite=True)
    if as_json:
        m = approved.metadata
        print(json.dumps({"plan": approved.name, "folder": str(folder), "status": m.status, "approved_by": m.approved_by,
                          "approved_at": m.approved_at, "note": m.approval_note, "content_hash": approved.content_hash,
                          "record_hash": approved.record_hash, "accounts": int(len(approved.assignments)),
                          "territories": int(approved.assignments.nunique()),
                          "unassigned": [str(a) for a in unassigned],
                          "accepted_warnings": list(m.accepted_warnings), "review": review.to_dict()},
                         indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    print(f"approved plan {approved.name!r} in {folder} by {approved.metadata.approved_by} "
          f"at {approved.metadata.approved_at}")
    if approved.metadata.accepted_warnings:
        print(f"accepted warnings (recorded): {len(approved.metadata.accepted_warnings)}")
    if len(unassigned):
        print(f"note: {count(len(unassigned), 'account')} {'is' if len(unassigned) == 1 else 'are'} unassigned in the approved plan")
    print(f"content hash: {approved.content_hash}")
    print(f"record hash:  {approved.record_hash}")
    return 0


def _approval_current(args, plan):
    """The current alignment to review against (None: the accounts' current_territory column, if any)."""
    from workbench.plan import Plan, load_plan

    if args.current is None:
        return None
    if _is_plan_folder(args.current):
        return load_plan(args.current)
    if args.current in plan.accounts.columns:
        return Plan.from_column(plan.accounts, args.current, name="current")
    raise InputError(f"--current {args.current}: not a saved plan folder nor a column of the plan's accounts "
                     f"(columns: {list(plan.accounts.columns)}); pass a plan folder or a column name")


# ---------------------------------------------------------------------------- plans
def run_plans(args) -> int:
    """Print the table of saved plans."""
    from workbench.plan import format_tree, list_plans, plan_tree

    if args.tree:
        tree = plan_tree(args.folder)
        if args.json:
            print(json.dumps(tree.astype(object).where(tree.notna(), None).to_dict("records"), ensure_ascii=False))
        elif tree.empty:
            print(f"no saved plans in {args.folder}")
        else:
            print(format_tree(tree))
        return 0
    table = list_plans(args.folder)
    if args.json:
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        print(json.dumps(records, ensure_ascii=False))
        return 0
    if table.empty:
        print(f"no saved plans in {args.folder}")
        return 0
    from workbench.labels import printable

    def short(value):
        return value[:12] if isinstance(value, str) else None

    shown = table.assign(path=table["path"].map(lambda p: Path(p).name),
                         content_hash=table["content_hash"].map(short), parent_hash=table["parent_hash"].map(short))
    columns = ["path", "name", "status", "created_at", "territories", "accounts", "content_hash", "parent_hash",
               "approved_by"]
    if shown["problem"].notna().any():
        columns.append("problem")
    table = shown[columns].astype(object)
    table = table.where(table.notna(), "-").map(printable)  # names with ESC or bidi overrides print as escapes
    print(table.to_string(index=False))
    return 0
