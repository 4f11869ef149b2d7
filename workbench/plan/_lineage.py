"""Lineage of saved plans: named scenarios, recorded ancestors, and the history tree of a plans folder.

Every edit of a plan (``reassign``, ``lock``, a click on the map) makes a new
draft whose ``parent_hash`` is the content hash of the plan it came from.
Those intermediate steps are rarely saved, so a saved scenario's parent would
not resolve. :func:`save_plan` therefore records the in-memory ancestors of
the plan it saves (``lineage`` in ``manifest.json``: hash, parent, name and
edit of each step), and :func:`plan_tree` links every saved plan to its parent
through saved plans *or* recorded steps, so the history always resolves back
to a saved plan or to an original proposal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from workbench.errors import PlanError

MANIFEST = "manifest.json"


def lineage_records(plan) -> list[dict]:
    """The in-memory ancestors of ``plan``, oldest first, as JSON-ready records (not the plan itself).

    Examples
    --------
    >>> from workbench.plan import Plan
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"], name="p")
    >>> edited = plan.reassign(["a"], "T2").lock(["b"])
    >>> [r["edit"] for r in lineage_records(edited)]
    [None, 'Moved 1 account from T1 to T2']
    >>> lineage_records(edited)[1]["parent_hash"] == plan.content_hash
    True
    """
    return [{"content_hash": p.content_hash, "parent_hash": p.metadata.parent_hash, "name": p.metadata.name,
             "edit": p.metadata.edit, "method": p.metadata.method, "created_at": p.metadata.created_at}
            for p in plan.history()[:-1]]


def slug(name: str) -> str:
    """A folder name for a scenario name: ``"West, rebalanced!"`` -> ``"west-rebalanced"``.

    Examples
    --------
    >>> slug("West, rebalanced!"), slug("  Q3  plan v2 ")
    ('west-rebalanced', 'q3-plan-v2')
    """
    text = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    return text or "scenario"


def _manifests(folder: Path) -> list[tuple[Path, dict]]:
    out = []
    if not folder.is_dir():
        return out
    for child in sorted(p for p in folder.iterdir() if (p / MANIFEST).is_file() and not p.name.startswith(".")):
        try:
            manifest = json.loads((child / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict):
            out.append((child, manifest))
    return out


def check_name_free(folder, name: str, content_hash: str | None = None) -> None:
    """Refuse a scenario name that another plan in ``folder`` already uses (for different content).

    Raises
    ------
    PlanError
        The name is empty, or a saved plan of another content has it (the message names its folder).
    """
    if not isinstance(name, str) or not name.strip():
        raise PlanError("a scenario needs a name (e.g. 'west-rebalanced'): names tell drafts apart in review "
                        "and approval")
    for child, manifest in _manifests(Path(folder)):
        if str(manifest.get("name", "")).strip().lower() == name.strip().lower() \
                and manifest.get("content_hash") != content_hash:
            raise PlanError(f"plan name {name.strip()!r} is already used by the plan saved in {child} "
                            f"(hash {str(manifest.get('content_hash'))[:12]}); choose a distinct name")


def save_scenario(plan, folder, name: str) -> Path:
    """Save ``plan`` as the scenario ``name`` in ``folder/<slug(name)>``, its lineage recorded.

    The name is required and must be distinct from the names of the other plans
    in ``folder``. Saving the same scenario (same name and content) again finds
    the folder already there and returns it.

    Returns
    -------
    pathlib.Path
        The scenario's folder.

    Raises
    ------
    PlanError
        No name, a name another plan in ``folder`` uses, or a folder holding another plan.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.plan import Plan, load_plan
    >>> root = Path(tempfile.mkdtemp())
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"], name="proposal")
    >>> path = save_scenario(plan.reassign(["a"], "T2"), root, "West rebalanced")
    >>> path.name, load_plan(path).name
    ('west-rebalanced', 'West rebalanced')
    >>> save_scenario(plan, root, "west rebalanced")
    Traceback (most recent call last):
    ...
    workbench.errors.PlanError: plan name 'west rebalanced' is already used by the plan saved in ...
    """
    from workbench.plan._store import load_plan, save_plan

    if not isinstance(name, str) or not name.strip():
        check_name_free(folder, "")
    name = name.strip()
    named = plan if plan.name == name else plan._relabel_name(name) if plan.parent is None else \
        plan.with_name(name)
    folder = Path(folder)
    check_name_free(folder, name, named.content_hash)
    target = folder / slug(name)
    if target.exists():
        try:
            if load_plan(target).content_hash == named.content_hash:
                return target
        except (PlanError, OSError):
            pass
        raise PlanError(f"{target} already holds another plan; choose a distinct scenario name")
    folder.mkdir(parents=True, exist_ok=True)
    return save_plan(named, target)


def plan_tree(folder) -> pd.DataFrame:
    """The history of the plans saved in ``folder`` as a tree, one row per node, parents before children.

    A node is a saved plan folder, or a recorded unsaved step (``saved`` False) that links
    a saved plan to its saved ancestor. A draft and its approved copy (same content hash)
    are separate nodes: the approved one is shown as the draft's child, approval being
    the last step of its history.

    Returns
    -------
    pandas.DataFrame
        Columns depth, name, status, saved, path, content_hash, parent_hash, edit, method,
        created_at, approved_by, approved_at, parent_found (False when the parent is neither
        saved nor recorded: a plan made elsewhere).

    Examples
    --------
    >>> import tempfile
    >>> from workbench.plan import Plan, save_plan
    >>> root = Path(tempfile.mkdtemp())
    >>> base = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"], name="proposal")
    >>> _ = save_plan(base, root / "proposal")
    >>> _ = save_scenario(base.reassign(["a"], "T2").lock(["b"]), root, "adjusted")
    >>> plan_tree(root)[["depth", "name", "saved", "edit"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[0, 'proposal', True, None], [1, 'proposal', False, 'Moved 1 account from T1 to T2'],
     [2, 'proposal', False, 'Locked 1 account in their territory'], [3, 'adjusted', True, 'Named the plan "adjusted"']]
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder} to show the plans of")
    nodes: dict[str, dict] = {}
    by_hash: dict[str, list[str]] = {}
    for child, m in _manifests(folder):
        key = f"saved:{child}"
        nodes[key] = {"name": m.get("name"), "status": m.get("status"), "saved": True, "path": str(child),
                      "content_hash": m.get("content_hash"), "parent_hash": m.get("parent_hash"),
                      "edit": m.get("edit"), "method": m.get("method"), "created_at": m.get("created_at"),
                      "approved_by": m.get("approved_by"), "approved_at": m.get("approved_at")}
        by_hash.setdefault(m.get("content_hash"), []).append(key)
    recorded: dict[str, dict] = {}
    for _, m in _manifests(folder):
        for step in m.get("lineage") or []:
            if isinstance(step, dict) and step.get("content_hash") and step["content_hash"] not in by_hash:
                recorded.setdefault(step["content_hash"], step)
    for content_hash, step in recorded.items():
        key = f"step:{content_hash}"
        nodes[key] = {"name": step.get("name"), "status": "draft", "saved": False, "path": None,
                      "content_hash": content_hash, "parent_hash": step.get("parent_hash"), "edit": step.get("edit"),
                      "method": step.get("method"), "created_at": step.get("created_at"), "approved_by": None,
                      "approved_at": None}
        by_hash.setdefault(content_hash, []).append(key)

    def parent_of(key: str) -> str | None:
        node = nodes[key]
        same = [k for k in by_hash.get(node["content_hash"], []) if k != key]
        if node["status"] == "approved":  # the approved copy hangs under the draft it approved
            drafts = [k for k in same if nodes[k]["status"] != "approved"]
            if drafts:
                return sorted(drafts, key=lambda k: str(nodes[k]["created_at"]))[0]
        parents = by_hash.get(node["parent_hash"]) if node["parent_hash"] else None
        if not parents:
            return None
        drafts = [k for k in parents if nodes[k]["status"] != "approved"] or parents
        return sorted(drafts, key=lambda k: (not nodes[k]["saved"], str(nodes[k]["created_at"])))[0]

    parents = {key: parent_of(key) for key in nodes}
    children: dict[str | None, list[str]] = {}
    for key, parent in parents.items():
        children.setdefault(parent, []).append(key)
    rows, seen = [], set()

    def walk(key: str, depth: int) -> None:
        if key in seen:  # a cycle cannot come from hashes, but a hand-edited manifest could fake one
            return
        seen.add(key)
        node = nodes[key]
        rows.append({"depth": depth, **node,
                     "parent_found": parents[key] is not None or not node["parent_hash"]})
        for child in sorted(children.get(key, []), key=lambda k: (str(nodes[k]["created_at"]), str(nodes[k]["path"]))):
            walk(child, depth + 1)

    for root in sorted(children.get(None, []), key=lambda k: (str(nodes[k]["created_at"]), str(nodes[k]["path"]))):
        walk(root, 0)
    for key in nodes:  # anything left (a faked cycle) is listed flat rather than lost
        if key not in seen:
            walk(key, 0)
    columns = ["depth", "name", "status", "saved", "path", "content_hash", "parent_hash", "edit", "method",
               "created_at", "approved_by", "approved_at", "parent_found"]
    tree = pd.DataFrame(rows, columns=columns)
    for column in columns[1:]:
        if column not in ("saved", "parent_found"):
            tree[column] = tree[column].astype(object).where(tree[column].notna(), None)
    return tree


def format_tree(tree: pd.DataFrame) -> str:
    """The tree as text, one line per node with box-drawing branches.

    Examples
    --------
    >>> tree = pd.DataFrame({"depth": [0, 1], "name": ["proposal", "adjusted"], "status": ["draft", "approved"],
    ...     "saved": [True, True], "path": ["plans/proposal", "plans/adjusted"], "content_hash": ["a" * 64, "b" * 64],
    ...     "parent_hash": [None, "a" * 64], "edit": [None, "Moved 2 accounts from T2 to T1"], "method": ["balanced", None],
    ...     "created_at": ["2026-12-01T08:00:00Z", "2026-12-01T09:00:00Z"], "approved_by": [None, "Dana"],
    ...     "approved_at": [None, "2026-12-01T09:30:00Z"], "parent_found": [True, True]})
    >>> print(format_tree(tree))
    proposal  draft  aaaaaaaaaaaa  2026-12-01 08:00  balanced  [proposal]
    └─ adjusted  approved by Dana 2026-12-01 09:30  bbbbbbbbbbbb  2026-12-01 09:00  Moved 2 accounts from T2 to T1  [adjusted]
    """
    if tree.empty:
        return ""
    lines = []
    depths = tree["depth"].tolist()
    for i, row in enumerate(tree.itertuples(index=False)):
        # does a later sibling follow at this depth (before the parent's level ends)?
        later = next((d for d in depths[i + 1:] if d <= row.depth), None)
        branch = "" if row.depth == 0 else ("   " * (row.depth - 1)) + ("├─ " if later == row.depth else "└─ ")
        status = (f"approved by {_text(row.approved_by)} {_time(row.approved_at)}" if row.status == "approved"
                  else _text(row.status))
        where = f"[{Path(row.path).name}]" if row.saved else "(unsaved step, recorded)"
        parts = [_text(row.name), status, _text(row.content_hash)[:12], _time(row.created_at),
                 _text(row.edit) or _text(row.method), where]
        if not row.parent_found:
            parts.append(f"(parent {_text(row.parent_hash)[:12]} is not in this folder)")
        lines.append(branch + "  ".join(p for p in parts if p))
    return "\n".join(lines)


def _text(value) -> str:
    """Text of a cell; missing (None, NaN) is empty."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _time(value) -> str:
    """``2026-12-01T08:00:00Z`` -> ``2026-12-01 08:00`` (UTC)."""
    text = _text(value)
    return text.replace("T", " ")[:16] if text else ""


__all__ = ["save_scenario", "plan_tree", "format_tree", "check_name_free", "lineage_records", "slug"]
