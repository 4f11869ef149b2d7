"""Approve, save, load, list and diff plans.

A saved plan is a folder an analyst can open with pandas::

    PATH/
      accounts.parquet      the accounts the plan was made from
      assignments.parquet   account_id, territory_id (null = unassigned), locked
      territories.parquet   territory_id, territory_name, rep_id, rep_name, rep_latitude,
                            rep_longitude, capacity_hours, region, area
      manifest.json         metadata, hashes (content, record, input, parent), package
                            versions and the sha256 of each file
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import PlanError, TamperedPlanError
from workbench.plan._frames import normalise_territories
from workbench.present import count
from workbench.plan._hash import FORMAT_TAG, HASH_COVERAGE
from workbench.plan._hash import input_hash as _input_hash
from workbench.plan._meta import APPROVED, PlanMetadata
from workbench.provenance import utc_now
from workbench.plan._lineage import lineage_records
from workbench.plan._model import Plan
from workbench.safeio import atomic_directory, atomic_write_text, make_read_only, refuse_symlink, sha256_file
from workbench.siblings import leftovers
from workbench.schema import ACCOUNT_ID, TERRITORY_ID

MANIFEST = "manifest.json"
#: Metadata fields that manifests written before they existed do not hold, with their defaults.
_OPTIONAL_FIELDS = {"accepted_warnings": (), "report": {}}
ACCOUNTS_FILE = "accounts.parquet"
ASSIGNMENTS_FILE = "assignments.parquet"
TERRITORIES_FILE = "territories.parquet"
DATA_FILES = (ACCOUNTS_FILE, ASSIGNMENTS_FILE, TERRITORIES_FILE)


def approve(plan: Plan, by: str, note: str = "", *, review, accept_warnings: bool = False) -> Plan:
    """Return the approved version of a reviewed draft plan.

    ``review`` is the plan's review as the approver saw it
    (:func:`workbench.signoff.review_plan`: scorecard against the current
    alignment, who is affected, warnings; :func:`workbench.signoff.review_and_approve`
    makes it and approves in one call). A plan whose review has warnings (out
    of tolerance, non-contiguous, far moves, edits after the last optimisation)
    is approved only with ``accept_warnings=True``; the warnings acknowledged
    are recorded in ``metadata.accepted_warnings`` (covered by the record hash).

    The content hash does not change (the approver signs off exactly the
    content reviewed); the approval fields are recorded and covered by the
    record hash. Save it with :func:`save_plan`: its files are then read-only
    and never overwritten. Editing it later gives a new draft whose
    ``parent_hash`` is this plan's content hash.

    Parameters
    ----------
    plan : Plan
        A draft plan.
    by : str
        Who approves (a name or email; not empty).
    note : str, optional
    review : ApprovalReview
        The review shown to the approver (its ``plan_hash`` must be this plan's content hash).
    accept_warnings : bool, default False
        The approver has read the review's warnings and approves anyway.

    Raises
    ------
    PlanError
        The plan is already approved, ``by`` is empty, the review is of another plan, or it has
        warnings and ``accept_warnings`` is False (the message lists them).

    Examples
    --------
    >>> from workbench.signoff import review_plan
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"])
    >>> approved = approve(plan, by="Dana Sales VP", note="Q3 realignment", review=review_plan(plan))
    >>> approved.is_approved, approved.metadata.approved_by, approved.content_hash == plan.content_hash
    (True, 'Dana Sales VP', True)
    >>> approved.reassign(["a"], "T1").metadata.status
    'draft'
    >>> edited = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T1"]).reassign(["b"], "T1")
    >>> approve(edited, by="Dana", review=review_plan(edited))
    Traceback (most recent call last):
    ...
    workbench.errors.PlanError: plan 'balanced' has 1 warning to acknowledge before approval: edited after ...
    >>> approve(edited, by="Dana", review=review_plan(edited), accept_warnings=True).metadata.accepted_warnings
    ('edited after the last optimisation (balanced): Reassigned 1 account to T1 (already there)',)
    """
    if not isinstance(plan, Plan):
        raise TypeError(f"approve needs a Plan, got {type(plan).__name__}")
    if not isinstance(by, str) or not isinstance(note, str):
        raise TypeError(f"by and note must be str, got {type(by).__name__} and {type(note).__name__}")
    check_approver(by, note)
    if plan.is_approved:
        m = plan.metadata
        raise PlanError(f"plan {plan.name!r} is already approved (by {m.approved_by} at {m.approved_at}, "
                        f"hash {plan.content_hash}); edit it to start a new draft")
    if not hasattr(review, "warnings"):
        raise TypeError(f"approve needs the plan's review (workbench.signoff.review_plan(plan)), got "
                        f"{type(review).__name__}; workbench.signoff.review_and_approve reviews and approves in one call")
    if getattr(review, "plan_hash", plan.content_hash) != plan.content_hash:
        raise PlanError(f"the review given is of another plan (hash {review.plan_hash[:12]}, this plan "
                        f"{plan.content_hash[:12]}); review this plan before approving it")
    warnings = tuple(getattr(review, "warnings", ()))
    if warnings and not accept_warnings:
        raise PlanError(f"plan {plan.name!r} has {count(len(warnings), 'warning')} to acknowledge before approval: "
                        + "; ".join(warnings) + ". Read the review (workbench.signoff.review_plan), then pass "
                        "accept_warnings=True (CLI: --accept-warnings) to approve it anyway; the acknowledgement "
                        "is recorded")
    metadata = plan.metadata.replace(status=APPROVED, approved_by=by.strip(), approved_at=utc_now(),
                                     approval_note=note, accepted_warnings=warnings)
    return Plan(plan._accounts, plan._assignments, plan._territories, plan._locked, metadata, plan._parent)


#: Invisible characters that reorder text on screen (bidi embeddings, overrides, isolates).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_approver(by: str, note: str = "") -> None:
    """Raise :class:`PlanError` unless ``by`` is a plain, non-empty name and ``note`` plain text.

    Newlines, ANSI escapes and other control characters would print raw on terminals (an approver
    name ``"Dana\\nApproved by: CEO"`` forges a second line); bidi overrides reorder text on screen.
    The note may hold newlines and tabs.

    Examples
    --------
    >>> check_approver("Dana Lee", "FY27\\nsigned off in the QBR")
    >>> check_approver("Dana\\x1b[31m")
    Traceback (most recent call last):
    ...
    workbench.errors.PlanError: approver name (--by) 'Dana\\x1b[31m' holds 1 control character ('\\x1b' at position 4); terminals and reports would run or hide them: type it as plain text
    """
    if not isinstance(by, str) or not by.strip():
        raise PlanError("approve needs the approver's name: pass by='Name' (CLI: --by NAME)")
    _check_plain_text(by, "approver name (--by)", allowed="")
    _check_plain_text(note, "approval note (--note)", allowed="\n\t")


def _check_plain_text(text: str, what: str, *, allowed: str) -> None:
    """Refuse control characters (newline, ESC, ...) and bidi overrides in text that people read and sign."""
    import unicodedata

    bad = [(i, c) for i, c in enumerate(text)
           if c not in allowed and (unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS)]
    if bad:
        i, c = bad[0]
        raise PlanError(f"{what} {ascii(text)[:80]} holds {count(len(bad), 'control character')} ({ascii(c)} at position "
                        f"{i}); terminals and reports would run or hide them: type it as plain text")


def save_plan(plan: Plan, path, *, overwrite: bool = False) -> Path:
    """Write a plan to the folder ``path`` atomically; approved plans are made read-only.

    Parameters
    ----------
    plan : Plan
    path : str or path-like
        Folder to create (e.g. ``plans/q3-balanced``).
    overwrite : bool, default False
        Replace an existing *draft* plan folder. An approved plan is never
        replaced, whatever ``overwrite`` says.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    PlanError
        ``path`` holds an approved plan, or exists and ``overwrite`` is False,
        or exists and is not a plan folder.

    Examples
    --------
    >>> import tempfile
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"])
    >>> folder = save_plan(plan, Path(tempfile.mkdtemp()) / "draft")
    >>> sorted(p.name for p in folder.iterdir())
    ['accounts.parquet', 'assignments.parquet', 'manifest.json', 'territories.parquet']
    >>> load_plan(folder) == plan
    True
    """
    if not isinstance(plan, Plan):
        raise TypeError(f"save_plan needs a Plan, got {type(plan).__name__}")
    path = Path(path)
    check_save_path(path, overwrite)
    from workbench.locking import folder_lock  # here: a CSV-only command never takes a lock (filelock)

    with folder_lock(path, action="saving"):
        check_save_path(path, overwrite)  # again, holding the lock: another process may have saved meanwhile
        lineage = lineage_records(plan)
        if not lineage and path.exists():  # re-saving the same content (approval in place) keeps the recorded steps
            lineage = _kept_lineage(path, plan.content_hash)
        with atomic_directory(path, replace=path.exists(),
                              finish=make_read_only if plan.is_approved else None) as folder:
            _write_files(plan, folder, lineage)
    return path


def check_save_path(path, overwrite: bool = False) -> None:
    """Raise :class:`PlanError` if :func:`save_plan` would refuse ``path``; return quietly if it would save.

    Lets a caller refuse a bad destination before doing long work.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_save_path(pathlib.Path(tempfile.mkdtemp()) / "new-plan")  # free: nothing raised
    """
    path = Path(path)
    refuse_symlink(path)
    if path.exists():
        _check_replaceable(path, overwrite)


def _check_replaceable(path: Path, overwrite: bool) -> None:
    manifest = path / MANIFEST
    if path.is_dir() and manifest.is_file():
        try:
            status = json.loads(manifest.read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError, AttributeError, RecursionError):
            status = None
        if status == APPROVED or status is None:
            what = "an approved plan, which is never overwritten" if status == APPROVED else \
                "a plan whose manifest cannot be read"
            raise PlanError(f"{path} holds {what}; save to a new path instead, e.g. {_suggest(path)}")
        if not overwrite:
            raise PlanError(f"{path} already holds a plan; pass overwrite=True to replace this draft "
                            f"or save to a new path, e.g. {_suggest(path)}")
        return
    raise PlanError(f"{path} exists and is not a saved plan folder; choose a new path, e.g. {_suggest(path)}")


def _suggest(path: Path) -> Path:
    if path.name in ("", ".", ".."):
        path = path.resolve()
    n = 2
    while (candidate := path.with_name(f"{path.name}-v{n}")).exists():
        n += 1
    return candidate


def _kept_lineage(path: Path, content_hash: str) -> list:
    try:
        old = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    if isinstance(old, dict) and old.get("content_hash") == content_hash and isinstance(old.get("lineage"), list):
        return old["lineage"]
    return []


def _write_files(plan: Plan, folder: Path, lineage: list | None = None) -> None:
    try:
        plan._accounts.to_parquet(folder / ACCOUNTS_FILE, index=False)
    except (ValueError, TypeError, ImportError) as exc:  # pyarrow errors derive from these
        mixed = [c for c in plan._accounts.columns if plan._accounts[c].dtype == object]
        raise PlanError(f"cannot write the accounts as Parquet ({type(exc).__name__}: {exc}); columns holding "
                        f"mixed values: {mixed[:5]}; convert them to one type (e.g. .astype(str)) and rebuild the "
                        "plan") from exc
    assignments = pd.DataFrame({
        ACCOUNT_ID: plan._assignments.index.astype("str"),
        TERRITORY_ID: plan._assignments.astype("str").to_numpy(),
        "locked": plan._assignments.index.isin(list(plan._locked)),
    })
    assignments.to_parquet(folder / ASSIGNMENTS_FILE, index=False)
    plan._territories.reset_index().to_parquet(folder / TERRITORIES_FILE, index=False)
    manifest = {
        "format": FORMAT_TAG,
        **plan.metadata.to_dict(),
        "content_hash": plan.content_hash,
        "record_hash": plan.record_hash,
        "counts": {"accounts": int(len(plan._assignments)), "territories": int(len(plan._territories)),
                   "unassigned": int(plan._assignments.isna().sum()), "locked": len(plan._locked)},
        "files": {name: {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size}
                  for name in DATA_FILES},
        "hash_covers": HASH_COVERAGE,
        # The unsaved steps between this plan and its nearest saved ancestor (see workbench.plan._lineage).
        "lineage": list(lineage or []),
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def recover(path: Path):
    """:func:`workbench.locking.recover`, imported on first use (a CSV-only command never loads filelock)."""
    from workbench.locking import recover as put_back

    return put_back(path)


def _read_manifest(path: Path) -> dict:
    if not path.exists() and not recover(path):  # a replace killed between its two renames left it aside
        raise FileNotFoundError(f"no saved plan at {path}")
    manifest_path = path / MANIFEST
    if not path.is_dir() or not manifest_path.is_file():
        raise PlanError(f"{path} is not a saved plan folder (no {MANIFEST}); save plans with save_plan")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TamperedPlanError(f"{manifest_path} is not valid JSON ({exc}); the plan was damaged or edited") from exc
    except RecursionError as exc:
        raise TamperedPlanError(f"{manifest_path} is nested too deeply to be a plan manifest; the plan was damaged "
                                "or edited: restore the folder or save the plan again") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_TAG:
        raise PlanError(f"{manifest_path} is not a plan manifest of format {FORMAT_TAG!r}")
    _check_manifest_shape(manifest, manifest_path)
    return manifest


#: Manifest entries and the JSON type each must have (None is allowed where the field is optional).
_MANIFEST_TYPES = {"name": str, "status": str, "created_at": str, "content_hash": str, "record_hash": str,
                   "input_hash": str, "method": (str, type(None)), "parent_hash": (str, type(None)),
                   "approved_by": (str, type(None)), "approved_at": (str, type(None)), "files": dict,
                   "counts": dict, "parameters": dict}


def _check_manifest_shape(manifest: dict, manifest_path: Path) -> None:
    """Refuse a manifest whose entries have the wrong JSON type (a list where an object belongs, ...)."""
    wrong = [f"{key!r} is {type(manifest[key]).__name__}" for key, kind in _MANIFEST_TYPES.items()
             if key in manifest and not isinstance(manifest[key], kind)]
    files = manifest.get("files")
    if isinstance(files, dict):
        wrong += [f"'files' entry {name!r} is {type(entry).__name__}" for name, entry in files.items()
                  if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str)]
    counts = manifest.get("counts")
    if isinstance(counts, dict):
        wrong += [f"'counts' entry {key!r} is {type(v).__name__}" for key, v in counts.items()
                  if isinstance(v, bool) or not isinstance(v, int)]
    if wrong:
        raise TamperedPlanError(f"{manifest_path} is damaged: {'; '.join(wrong[:5])}; the plan was edited or "
                                "written by another program: restore the folder or save the plan again")


def load_plan(path) -> Plan:
    """Load a saved plan, verifying every file's sha256 and the plan's hashes.

    Raises
    ------
    TamperedPlanError
        A file changed since the plan was saved (the message names it).
    PlanError
        ``path`` is not a plan folder.
    """
    path = Path(path)
    manifest = _read_manifest(path)
    manifest_path = path / MANIFEST
    files = manifest.get("files") or {}
    for name in DATA_FILES:
        file = path / name
        if not file.is_file():
            raise TamperedPlanError(f"{file} is missing from the saved plan; restore it or save the plan again")
        expected = (files.get(name) or {}).get("sha256")
        if expected != sha256_file(file):
            raise TamperedPlanError(f"{file} changed since the plan was saved (sha256 differs from {manifest_path}); "
                                    "restore the original file or save the plan again")
    try:
        accounts = pd.read_parquet(path / ACCOUNTS_FILE)
        table = pd.read_parquet(path / ASSIGNMENTS_FILE)
        territories = pd.read_parquet(path / TERRITORIES_FILE).set_index(TERRITORY_ID)
        fields = {name: manifest[name] for name in PlanMetadata.__dataclass_fields__ if name not in _OPTIONAL_FIELDS}
        fields.update({name: manifest.get(name, default) for name, default in _OPTIONAL_FIELDS.items()})
        metadata = PlanMetadata(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise TamperedPlanError(f"{path} cannot be read as a plan ({type(exc).__name__}: {exc}); "
                                f"{manifest_path} or a data file was edited") from exc
    assignments = pd.Series(table[TERRITORY_ID].to_numpy(), index=pd.Index(table[ACCOUNT_ID], name=ACCOUNT_ID),
                            name=TERRITORY_ID, dtype="str")
    locked = frozenset(table.loc[table["locked"].to_numpy(dtype=bool), ACCOUNT_ID])
    if _input_hash(accounts) != metadata.input_hash:
        raise TamperedPlanError(f"{path / ACCOUNTS_FILE} does not match the input hash in {manifest_path}; "
                                "the accounts or the manifest were edited")
    try:
        plan = Plan(accounts, assignments, normalise_territories(territories), locked, metadata)
    except PlanError as exc:
        raise TamperedPlanError(f"{path} is inconsistent ({exc}); a file was edited") from exc
    if plan.content_hash != manifest.get("content_hash"):
        raise TamperedPlanError(f"content of {path} does not match the content hash in {manifest_path} "
                                f"(expected {manifest.get('content_hash')}, got {plan.content_hash}); "
                                f"{ASSIGNMENTS_FILE}, {TERRITORIES_FILE} or {manifest_path.name} was edited")
    if plan.record_hash != manifest.get("record_hash"):
        raise TamperedPlanError(f"{manifest_path} was edited: its metadata (status, approval, creation or "
                                "versions) no longer matches its record hash")
    return plan


def list_plans(folder) -> pd.DataFrame:
    """Table of the plans saved in the sub-folders of ``folder`` (manifests only; not verified).

    Hidden sub-folders (the staging folders of an interrupted save) are left out.

    Returns
    -------
    pandas.DataFrame
        One row per plan folder, oldest first: path, name, status, created_at,
        territories, accounts, content_hash, parent_hash, method, approved_by,
        approved_at, problem (why a folder with a manifest could not be read).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"], name="first")
    >>> _ = save_plan(plan, root / "first")
    >>> list_plans(root)[["name", "status", "territories", "accounts"]].to_dict("records")
    [{'name': 'first', 'status': 'draft', 'territories': 1, 'accounts': 1}]
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder} to list plans from")
    columns = ["path", "name", "status", "created_at", "territories", "accounts", "content_hash", "parent_hash",
               "method", "approved_by", "approved_at", "problem"]
    rows = []
    _restore_orphans(folder)
    # Hidden folders are skipped: ".NAME.XXXX.partial" is where an interrupted save_plan was building.
    children = [p for p in folder.iterdir() if (p / MANIFEST).is_file() and not p.name.startswith(".")]
    # A plan that survived an interrupted replace only aside (".NAME.XXXX.old", NAME missing) and could not be
    # put back (another process holds its lock, or the folder is read-only) is listed, never hidden.
    orphans = [p for p in folder.iterdir() if _orphan_target(p) is not None and (p / MANIFEST).is_file()]
    for child in orphans:
        rows.append({"path": str(_orphan_target(child)), "status": "interrupted",
                     "problem": f"only the hidden copy {child.name} survived an interrupted replace; it is put back "
                                f"when the folder is next used (workbench plans {folder}, or rename it to "
                                f"{_orphan_target(child).name})"})
    for child in sorted(children):
        try:
            m = _read_manifest(child)
            counts = m.get("counts", {})
            rows.append({"path": str(child), "name": m.get("name"), "status": m.get("status"),
                         "created_at": m.get("created_at"), "territories": counts.get("territories"),
                         "accounts": counts.get("accounts"), "content_hash": m.get("content_hash"),
                         "parent_hash": m.get("parent_hash"), "method": m.get("method"),
                         "approved_by": m.get("approved_by"), "approved_at": m.get("approved_at"), "problem": None})
        except (PlanError, OSError) as exc:
            rows.append({"path": str(child), "status": "unreadable", "problem": str(exc)})
    table = pd.DataFrame(rows, columns=columns)
    for column in ("territories", "accounts"):
        table[column] = table[column].astype("Int64")
    return table.sort_values(["created_at", "path"], na_position="last", kind="stable").reset_index(drop=True)


def _orphan_target(path: Path) -> Path | None:
    """The folder ``path`` stood in for, if ``path`` is a ``.NAME.XXXXXXXX.old`` left while NAME is missing."""
    name = path.name
    if not (name.startswith(".") and name.endswith(".old")) or len(name) < 15:
        return None
    target = path.with_name(name[1:-13])
    if os.path.lexists(target) or path not in leftovers(target):
        return None
    return target


def _restore_orphans(folder: Path) -> None:
    for child in list(folder.iterdir()):
        target = _orphan_target(child)
        if target is not None:
            recover(target)


def _as_plan(value, what: str) -> Plan:
    if isinstance(value, Plan):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load_plan(value)
    raise TypeError(f"{what} must be a Plan or a plan folder path, got {type(value).__name__}")


def diff_plans(a, b) -> pd.DataFrame:
    """Accounts whose territory differs between two plans (Plan objects or saved folders).

    Returns
    -------
    pandas.DataFrame
        account_id, from_territory (in ``a``), to_territory (in ``b``) and
        change: "moved", "assigned" (unassigned in ``a``), "unassigned" (in
        ``b``), "added" (only in ``b``) or "removed" (only in ``a``); sorted by
        account_id.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    >>> a = Plan.from_labels(accounts, ["T1", "T1", "T2"])
    >>> diff_plans(a, a.reassign(["b"], "T2")).to_dict("records")
    [{'account_id': 'b', 'from_territory': 'T1', 'to_territory': 'T2', 'change': 'moved'}]
    """
    a, b = _as_plan(a, "a"), _as_plan(b, "b")
    left, right = a._assignments, b._assignments
    ids = left.index.union(right.index)
    before = left.reindex(ids).to_numpy(dtype=object, na_value=None)
    after = right.reindex(ids).to_numpy(dtype=object, na_value=None)
    in_a, in_b = ids.isin(left.index), ids.isin(right.index)
    change = np.select(
        [~in_b, ~in_a, pd.isna(before) & ~pd.isna(after), ~pd.isna(before) & pd.isna(after)],
        ["removed", "added", "assigned", "unassigned"], default="moved")
    differs = (before != after) | (in_a != in_b)
    out = pd.DataFrame({ACCOUNT_ID: ids.astype("str"), "from_territory": before, "to_territory": after,
                        "change": change})
    return out[differs].sort_values(ACCOUNT_ID, kind="stable").reset_index(drop=True)


__all__ = ["approve", "save_plan", "load_plan", "list_plans", "diff_plans"]
