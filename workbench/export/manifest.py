"""``manifest.json``: what an export holds and how to check it has not changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.errors import PlanError
from workbench.safeio import sha256_file

MANIFEST = "manifest.json"
#: Tag identifying a folder written by :func:`workbench.export.export_plan`.
FORMAT = "territory-workbench-export/1"
#: Distributions whose versions every manifest records.
PACKAGES = ("territory-workbench", "pandas", "numpy", "geopandas", "shapely", "pyogrio", "openpyxl",
            "matplotlib", "scikit-learn", "scipy")


def package_versions() -> dict[str, str]:
    """Python and package versions, for the manifest.

    Examples
    --------
    >>> "python" in package_versions() and "pandas" in package_versions()
    True
    """
    from workbench.provenance import package_versions as versions_of

    return versions_of(PACKAGES)


def file_entries(folder: Path) -> list[dict]:
    """``{"path", "sha256", "bytes"}`` for every file under ``folder`` but the manifest, sorted by path."""
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative == MANIFEST:
            continue
        entries.append({"path": relative, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return entries


def write_manifest(folder: Path, plan_info: dict, created_at: str, formats: list[str]) -> Path:
    """Write ``manifest.json`` listing every file already in ``folder``."""
    manifest = {
        "format": FORMAT,
        "created_at": created_at,
        "plan": plan_info,
        "formats": formats,
        "package_versions": package_versions(),
        "files": file_entries(folder),
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The manifest of an export folder, or None when the folder holds none (or not ours).

    Raises
    ------
    PlanError
        The manifest is ours (its format tag) but damaged: no ``plan`` object or
        no list of ``files``.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: absurdly deep nesting ([[[[...]]]])
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None
    plan, files = manifest.get("plan"), manifest.get("files")
    problem = None
    if not isinstance(plan, dict) or not all(isinstance(plan.get(k), str) for k in ("name", "status", "content_hash")):
        problem = "its 'plan' entry is missing or lacks name, status and content_hash"
    elif not isinstance(files, list) or not all(
            isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("sha256"), str)
            and isinstance(e.get("bytes"), int) for e in files):
        problem = "its 'files' entry is not a list of {path, sha256, bytes}"
    if problem:
        raise PlanError(f"{path} is a damaged export manifest ({problem}); export the plan again into a new "
                        "folder, or pass force=True (--force) to replace this one")
    return manifest


def verify_export(folder: str | os.PathLike) -> dict:
    """Check every file of an export against its manifest; return the manifest.

    Raises
    ------
    PlanError
        When the manifest is missing, a listed file is missing or changed,
        or a file is there that the manifest does not list.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from workbench.plan import Plan
    >>> from workbench.signoff import review_and_approve
    >>> from workbench.export import export_plan
    >>> plan = review_and_approve(Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"]), by="Ana")
    >>> out = export_plan(plan, pathlib.Path(tempfile.mkdtemp()) / "out", formats="csv")
    >>> [entry["path"] for entry in verify_export(out)["files"]]
    ['README.txt', 'assignments.csv']
    >>> _ = (out / "assignments.csv").write_text("edited")
    >>> verify_export(out)
    Traceback (most recent call last):
    ...
    workbench.errors.PlanError: export ... does not match its manifest: changed files ['assignments.csv']; export the plan again
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        raise PlanError(f"{folder} holds no export manifest ({MANIFEST}); is it a folder written by workbench export?")
    listed = {entry["path"]: entry for entry in manifest["files"]}
    actual = {entry["path"]: entry for entry in file_entries(folder)}
    problems = []
    missing = sorted(set(listed) - set(actual))
    extra = sorted(set(actual) - set(listed))
    changed = sorted(p for p in set(listed) & set(actual) if listed[p]["sha256"] != actual[p]["sha256"])
    if missing:
        problems.append(f"missing files {missing[:5]}")
    if changed:
        problems.append(f"changed files {changed[:5]}")
    if extra:
        problems.append(f"files not in the manifest {extra[:5]}")
    if problems:
        raise PlanError(f"export {folder} does not match its manifest: {'; '.join(problems)}; export the plan again")
    return manifest
