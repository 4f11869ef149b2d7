"""``workbench diff PLAN_A PLAN_B [--json]``: which accounts change territory between two saved plans."""

from __future__ import annotations

import json

from workbench.cli._common import add_command, add_json

#: Moves listed on screen (all of them with --out or --json).
SHOWN = 20


def register(subparsers) -> None:
    """Add the ``diff`` sub-command."""
    parser = add_command(
        subparsers, "diff", run,
        help="list the accounts whose territory differs between two saved plans",
        description="Compare two saved plans account by account: how many accounts moved, were assigned or "
        "unassigned, added or removed; the flows between territories; and the first moves. Both plans' hashes "
        "are verified on loading.",
    )
    parser.add_argument("plan_a", metavar="PLAN_A", help="saved plan folder: the 'before' side")
    parser.add_argument("plan_b", metavar="PLAN_B", help="saved plan folder: the 'after' side")
    parser.add_argument("--out", default=None, metavar="FILE.csv",
                        help="also write every changed account (account_id, from_territory, to_territory, change)")
    add_json(parser, "print one JSON object (both plans, counts, flows, every change) instead of text")


def _describe(plan) -> dict:
    m = plan.metadata
    return {"name": plan.name, "status": m.status, "method": m.method, "content_hash": plan.content_hash,
            "accounts": int(len(plan.assignments)), "territories": int(plan.assignments.nunique())}


def run(args) -> int:
    """Load both plans, diff them, print; return the exit code."""
    from workbench import present
    from workbench.plan import diff_plans, load_plan
    from workbench.safeio import write_csv

    a, b = load_plan(args.plan_a), load_plan(args.plan_b)
    changes = diff_plans(a, b)
    counts = {kind: int((changes["change"] == kind).sum())
              for kind in ("moved", "assigned", "unassigned", "added", "removed")}
    moved = changes[changes["change"] == "moved"]
    flows = (moved.groupby(["from_territory", "to_territory"]).size().rename("accounts").reset_index()
             .sort_values(["accounts", "from_territory", "to_territory"], ascending=[False, True, True],
                          kind="stable"))
    if args.out:
        write_csv(changes, args.out)
    if args.json:
        print(json.dumps({"a": _describe(a), "b": _describe(b), "counts": counts,
                          "changed_accounts": int(len(changes)), "flows": flows.to_dict("records"),
                          "changes": json.loads(changes.to_json(orient="records"))}, indent=2, ensure_ascii=False))
        return 0
    print(f"a: {a.name!r} ({a.content_hash[:12]}, {a.metadata.status}), "
          f"{present.integer(len(a.assignments))} accounts")
    print(f"b: {b.name!r} ({b.content_hash[:12]}, {b.metadata.status}), "
          f"{present.integer(len(b.assignments))} accounts")
    if changes.empty:
        print("no account changes territory: the plans assign every account alike")
        return 0
    share = present.percent(len(changes) / max(len(a.assignments), 1), fraction=True)
    print(f"{present.integer(len(changes))} accounts differ ({share} of a's accounts): "
          + ", ".join(f"{present.integer(n)} {kind}" for kind, n in counts.items() if n))
    if len(flows):
        print("\nlargest flows between territories:")
        print(present.text_table(flows.head(SHOWN), index=False))
    print(f"\nfirst {min(SHOWN, len(changes))} of {present.integer(len(changes))} changed accounts"
          f"{'' if args.out else ' (all of them: --out FILE.csv or --json)'}:")
    print(present.text_table(changes.head(SHOWN), index=False))
    if args.out:
        print(f"wrote {present.integer(len(changes))} changed accounts to {args.out}")
    return 0
