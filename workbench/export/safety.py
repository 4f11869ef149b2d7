"""What an export refuses: a plan that is not a plan, a draft without ``allow_draft``, unassigned
accounts, and a target folder it must not replace."""

from __future__ import annotations

import os
from pathlib import Path

from workbench.errors import InputError, PlanError
from workbench.export import manifest
from workbench.safeio import refuse_symlink


def resolve_plan(plan_or_path):
    """A Plan from a Plan or a saved plan's path (loading verifies its hash)."""
    from workbench.plan import Plan, load_plan

    if isinstance(plan_or_path, Plan):
        return plan_or_path
    if isinstance(plan_or_path, (str, os.PathLike)):
        return load_plan(plan_or_path)
    raise TypeError(f"plan must be a Plan or the path of a saved plan, got {type(plan_or_path).__name__}")


def check_target(target: Path, plan, force: bool) -> bool:
    """Refuse unsafe targets; return whether an existing folder is to be replaced."""
    refuse_symlink(target)
    resolved, cwd = target.resolve(), Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        # The export replaces its folder in one rename; the working folder (or one holding it) cannot move.
        raise InputError(f"export target {target} is the working folder or holds it; pass a new folder inside "
                         f"it instead, e.g. {target / 'export'}")
    if target.exists() and not target.is_dir():
        raise InputError(f"export target {target} is a file; pass a folder path (new, empty or an earlier export)")
    if not target.exists():
        return False
    if not any(target.iterdir()):
        return True
    try:
        previous = manifest.read_manifest(target)
    except PlanError:
        if force:
            return True
        raise
    if previous is None:
        raise PlanError(f"export target {target} is a folder that is not empty and holds no export manifest; "
                        "choose a new or empty folder (it is never replaced, even with force)")
    old_hash = (previous.get("plan") or {}).get("content_hash")
    if old_hash == plan.content_hash or force:
        return True
    old_name = (previous.get("plan") or {}).get("name")
    raise PlanError(f"export target {target} holds an export of another plan ({old_name!r}, hash {str(old_hash)[:12]}); "
                    "pass force=True (--force) to replace it, or choose another folder")


def check_exportable(plan, allow_draft: bool) -> None:
    """Refuse a draft (unless ``allow_draft``) and a plan that leaves accounts unassigned."""
    if not plan.is_approved and not allow_draft:
        raise PlanError(f"plan {plan.metadata.name!r} (hash {plan.content_hash[:12]}) is a draft; approve it first "
                        "(workbench approve PLAN --by NAME), or pass allow_draft=True (--allow-draft) for a "
                        "review copy marked DRAFT")
    unassigned = plan.unassigned
    if len(unassigned):
        raise PlanError(f"plan {plan.metadata.name!r} leaves {len(unassigned)} accounts unassigned "
                        f"(first: {list(unassigned[:5])}); assign them (plan.reassign) before exporting")
