"""``export_plan``: every file a plan needs to reach the CRM, the reps and the leadership deck."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from workbench import metrics as _metrics
from workbench.errors import InputError, PlanError
from workbench.export import excel, gis, manifest, report, salesforce, tables
from workbench.locking import folder_lock
from workbench.provenance import utc_now
from workbench.safeio import atomic_directory, escape_frame, refuse_symlink, write_csv
from workbench.schema import ACCOUNT_ID, CURRENT_TERRITORY, METRICS, NAME, TERRITORY_ID, WORKLOAD

#: Output groups, in the order they are written.
FORMATS = ("csv", "excel", "gis", "salesforce", "report")
#: Files (or folders) each format writes.
FORMAT_FILES = {
    "csv": ("assignments.csv",),
    "excel": ("summary.xlsx",),
    "gis": ("territories.gpkg", "territories.geojson"),
    "salesforce": ("salesforce/",),
    "report": ("report.html",),
}
_ALIASES = {"assignments": "csv", "xlsx": "excel", "gpkg": "gis", "geojson": "gis", "html": "report",
            "crm": "salesforce", "sfdc": "salesforce"}


def check_formats(formats) -> list[str]:
    """Canonical format names from ``formats`` (None = all; a comma-separated str or a list).

    Examples
    --------
    >>> check_formats("csv,html"), check_formats(None) == list(FORMATS)
    (['csv', 'report'], True)
    """
    if formats is None:
        return list(FORMATS)
    if isinstance(formats, str):
        formats = formats.split(",")
    chosen = []
    for name in formats:
        if not isinstance(name, str):
            raise TypeError(f"formats must be strings, got {type(name).__name__}")
        key = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if key not in FORMATS:
            raise InputError(f"unknown export format {name!r}; choose from {', '.join(FORMATS)} "
                             f"(or aliases {', '.join(sorted(_ALIASES))})")
        if key not in chosen:
            chosen.append(key)
    if not chosen:
        raise InputError("formats is empty; choose at least one of " + ", ".join(FORMATS))
    return [f for f in FORMATS if f in chosen]


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


def metric_columns(plan) -> list[str]:
    """Metrics an export reports: those the plan was balanced on first, then workload, revenue, potential.

    Only numeric columns of the plan's accounts are kept.
    """
    accounts = plan.accounts
    columns = [m for m in [*plan.balance_on, *METRICS]
               if m in accounts.columns and pd.api.types.is_numeric_dtype(accounts[m])]
    return list(dict.fromkeys(columns))


def territory_table(plan, table: pd.DataFrame, metric_cols: list[str]) -> pd.DataFrame:
    """Per territory: names, rep, hierarchy, account count, metric totals and balance, compactness, moves."""
    accounts = plan.accounts
    assigned = (table[TERRITORY_ID] != "").to_numpy()
    labels = table[TERRITORY_ID].to_numpy()[assigned]
    frame = tables.territory_frame(plan)
    sub = accounts.loc[assigned].reset_index(drop=True)
    loads = _metrics.territory_loads(sub, labels, metric_cols)
    deviation = _metrics.deviation_from_mean(loads, metric_cols).add_suffix("_deviation")
    out = frame.join(loads).join(deviation)
    out["accounts"] = out["accounts"].fillna(0).astype(int)
    out["compactness_km"] = _metrics.compactness_km(sub, labels, weight=WORKLOAD if WORKLOAD in sub else None)
    if table["moved"].notna().any():
        moved = table[table["moved"].fillna(False).to_numpy(dtype=bool)]
        out["accounts_in"] = moved.groupby(TERRITORY_ID).size().reindex(out.index).fillna(0).astype(int)
        out["accounts_out"] = moved.groupby(CURRENT_TERRITORY).size().reindex(out.index).fillna(0).astype(int)
    return out


def _current_plan(plan, current):
    from workbench.plan import Plan

    if isinstance(current, Plan):
        return current
    labels = tables.current_labels(plan, current)
    if labels is None:
        return None
    return Plan.from_labels(plan.accounts, labels.to_numpy(dtype=object), method="column", name="current",
                            parameters={"column": CURRENT_TERRITORY})


def _compare(plan, current_plan, metric_cols, blocks, block_col):
    """The comparison with the current alignment, or None without one."""
    if current_plan is None:
        return None
    from workbench.compare import compare_plans

    return compare_plans(current_plan, plan, metrics=metric_cols or None, blocks=blocks, block_col=block_col)


def _scorecard(plan, comparison, metric_cols, blocks, block_col) -> pd.DataFrame:
    """Scorecard: current, proposed and change side by side, or the proposed plan's alone."""
    if comparison is not None:
        return comparison.scorecards
    card = _metrics.scorecard(plan.accounts, plan.labels, metric_cols, blocks=blocks, block_col=block_col)
    return card.rename("proposed").to_frame()


def _maps(plan, current_plan, blocks, block_col) -> list[tuple[str, str]]:
    """The report's static map as (caption, PNG data URI), drawn on a bare matplotlib Figure.

    A ``Figure`` made directly needs neither pyplot nor a backend, so exporting
    never changes the caller's matplotlib state (a notebook keeps its inline backend).
    """
    from matplotlib.figure import Figure

    from workbench import staticmap

    if current_plan is not None:
        fig = staticmap.plot_comparison(current_plan, plan, blocks=blocks, block_col=block_col,
                                        figure=Figure(figsize=(14, 5.5)))
        caption = "Current (left) and proposed (right) alignment"
    else:
        fig = Figure(figsize=(8, 5.5))
        staticmap.plot_plan(plan, blocks=blocks, block_col=block_col, title="Proposed alignment", ax=fig.subplots())
        caption = "Proposed alignment"
    return [(caption, staticmap.to_data_uri(fig))]


def _approval(plan) -> dict:
    meta = plan.metadata
    return {"approved_by": meta.approved_by, "approved_at": meta.approved_at, "approval_note": meta.approval_note,
            "accepted_warnings": list(getattr(meta, "accepted_warnings", ()))}


def _plan_info(plan, n_accounts: int, n_territories: int) -> dict:
    meta = plan.metadata
    info = {
        "name": meta.name,
        "status": meta.status,
        "content_hash": plan.content_hash,
        "record_hash": getattr(plan, "record_hash", None),
        "input_hash": meta.input_hash,
        "method": meta.method,
        "created_at": meta.created_at,
        "created_by": meta.created_by,
        "approved_by": meta.approved_by,
        "approved_at": meta.approved_at,
        "approval_note": meta.approval_note,
        "accounts": n_accounts,
        "territories": n_territories,
    }
    try:
        from workbench.plan import HASH_COVERAGE

        info["hash_coverage"] = HASH_COVERAGE
    except ImportError:  # pragma: no cover
        pass
    return info


_README = """\
{banner}Territory plan export: {name}
{underline}

Status:     {status}
Plan hash:  {content_hash}
Input hash: {input_hash}
Approved:   {approved}
Exported:   {created_at}

Files
-----
{files}
manifest.json        sha256 and size of every file, plan and package versions

Check nothing changed: `python -c "from workbench.export import verify_export; verify_export('.')"`.
"""

_FILE_NOTES = {
    "csv": "assignments.csv      one row per account: territory, rep, region/area, current territory, moved flag\n"
           "                     (text starting with = + - @ has a leading apostrophe; workbench.export.read_assignments undoes it)",
    "excel": "summary.xlsx         scorecard, territories, transfer matrix, moved accounts",
    "gis": "territories.gpkg     one polygon per territory with totals (layer 'territories'); territories.geojson the same",
    "salesforce": "salesforce/          Data Loader files for Enterprise Territory Management; read salesforce/README.txt",
    "report": "report.html          stakeholder report: maps, scorecard, territories, moves, approval (opens offline)",
}


_QUOTA_NOTE = ("quotas.csv           one row per territory: rep, potential, revenue, quota (sums to the target), "
               "its share,\n                     quota / potential and the growth over revenue it asks")


def _quota_rows(scorecard: pd.DataFrame, quotas: pd.DataFrame) -> pd.DataFrame:
    """The scorecard with the quota total, largest and smallest (proposed plan only)."""
    rows = pd.DataFrame(index=["quota_total", "quota_largest", "quota_smallest"], columns=scorecard.columns,
                        dtype=object)
    column = "proposed" if "proposed" in scorecard.columns else scorecard.columns[-1]
    rows[column] = [float(quotas["quota"].sum()), float(quotas["quota"].max()), float(quotas["quota"].min())]
    return pd.concat([scorecard.astype(object), rows])


def _write_readme(folder: Path, info: dict, formats: list[str], created_at: str, draft: bool,
                  quotas: bool = False) -> None:
    title = f"Territory plan export: {info['name']}"
    banner = ("*** DRAFT: this plan is NOT approved. Review copy only; do not load it into the CRM. ***\n\n"
              if draft else "")
    approved = (f"by {info['approved_by']} at {info['approved_at']}; note: {info['approval_note'] or '-'}"
                if not draft else "no (DRAFT)")
    text = _README.format(
        banner=banner, name=info["name"], underline="=" * len(title), status="DRAFT" if draft else "approved",
        content_hash=info["content_hash"], input_hash=info["input_hash"], approved=approved,
        created_at=created_at, files="\n".join(_FILE_NOTES[f] for f in formats)
        + ("\n" + _QUOTA_NOTE if quotas and "csv" in formats else ""))
    (folder / "README.txt").write_text(text, encoding="utf-8")


def export_plan(plan, to, *, formats=None, allow_draft: bool = False, force: bool = False, blocks=None,
                block_col: str | None = None, current=None, quotas=None, quota_start=None) -> Path:
    """Export an approved plan: assignments CSV, Excel summary, GIS layers, Salesforce loads, report.

    Parameters
    ----------
    plan : Plan or path
        The plan, or the folder/file of a saved plan (loading verifies its
        hash and raises :class:`~workbench.errors.TamperedPlanError` if it
        does not match).
    to : path
        Folder to write. It is built in a temporary sibling and renamed into
        place, so it is either complete or untouched. An export of the same
        plan (same content hash) is refreshed; an export of another plan is
        replaced only with ``force=True``; any other non-empty folder or a
        file is refused.
    formats : str or list of str, optional
        Any of ``"csv"``, ``"excel"``, ``"gis"``, ``"salesforce"``,
        ``"report"`` (default all). ``README.txt`` and ``manifest.json`` are
        always written.
    allow_draft : bool, default False
        Export a draft plan as a review copy marked DRAFT in every file
        (``plan_status`` column, sheet titles, report banner, READMEs).
    force : bool, default False
        Replace an export of a different plan.
    blocks : GeoDataFrame, optional
        Building blocks to dissolve into territory polygons (with
        ``block_col``, the accounts' column holding the block id). Default:
        the bundled counties when the accounts have ``county_fips``, else
        hulls around the accounts.
    block_col : str, optional
    current : Plan, Series or dict, optional
        Current alignment for the moved flags, transfer matrix and maps;
        default the accounts' ``current_territory`` column when present.
    quotas : DataFrame or path, optional
        Territory quotas (:func:`workbench.quota.territory_quotas`, or the CSV
        ``workbench quota --out`` writes), one per territory of the plan. Adds
        ``quotas.csv``, a Quotas sheet and a quota column in ``summary.xlsx``
        (and the report), quota rows in the scorecard, and
        ``salesforce/ForecastingQuota.csv``.
    quota_start : str, optional
        First day of the quota period (``YYYY-MM-DD``); default the first
        day of next month.

    Returns
    -------
    pathlib.Path
        The export folder.

    Raises
    ------
    PlanError
        Draft plan without ``allow_draft``, unassigned accounts, or a target
        that would be overwritten.
    TamperedPlanError
        The saved plan's hash does not verify.
    InputError
        Unknown format, or ``to`` is a file.

    Examples
    --------
    >>> from workbench.plan import Plan, approve
    >>> accounts = pd.DataFrame({"account_id": ["a1", "a2"], "latitude": [40.0, 41.0],
    ...                          "longitude": [-75.0, -74.0], "workload": [1.0, 2.0]})
    >>> plan = approve(Plan.from_labels(accounts, ["T1", "T2"]), by="Ana", accept_warnings=True)
    >>> import tempfile, pathlib
    >>> out = export_plan(plan, pathlib.Path(tempfile.mkdtemp()) / "out", formats="csv")
    >>> sorted(p.name for p in out.iterdir())
    ['README.txt', 'assignments.csv', 'manifest.json']
    """
    plan = resolve_plan(plan)
    formats = check_formats(formats)
    draft = not plan.is_approved
    if draft and not allow_draft:
        raise PlanError(f"plan {plan.metadata.name!r} (hash {plan.content_hash[:12]}) is a draft; approve it first "
                        "(workbench approve PLAN --by NAME), or pass allow_draft=True (--allow-draft) for a "
                        "review copy marked DRAFT")
    unassigned = plan.assignments.index[plan.assignments.isna().to_numpy()]
    if len(unassigned):
        raise PlanError(f"plan {plan.metadata.name!r} leaves {len(unassigned)} accounts unassigned "
                        f"(first: {list(unassigned[:5])}); assign them (plan.reassign) before exporting")
    if quotas is not None:
        from workbench.quota import check_quotas, quota_start as _quota_start

        quotas = check_quotas(quotas, plan)
        quota_start = _quota_start(quota_start)
    target = Path(to)
    replace = check_target(target, plan, force)
    status = "DRAFT" if draft else "approved"

    table = tables.assignment_table(plan, current, status=status)
    territories = tables.territory_frame(plan)
    metric_cols = metric_columns(plan)
    info = _plan_info(plan, len(table), len(territories))
    created_at = utc_now()
    needs = set(formats)
    current_plan = _current_plan(plan, current) if needs & {"excel", "report"} else None
    per_territory = territory_table(plan, table, metric_cols) if needs & {"excel", "gis", "report"} else None
    if per_territory is not None and quotas is not None:
        per_territory["quota"] = quotas.set_index(TERRITORY_ID)["quota"].reindex(per_territory.index)
    blocks, block_col = gis.default_blocks(plan.accounts, blocks, block_col) if needs - {"csv", "salesforce"} \
        else (blocks, block_col)

    # The target's lock is held from a second check (another export may have written the target since the
    # first) to the last rename, so two exports into one folder never both succeed.
    with folder_lock(target, action="exporting"), \
            atomic_directory(target, replace=check_target(target, plan, force)) as folder:
        if "csv" in formats:
            tables.write_assignments(table, folder / "assignments.csv")
            if quotas is not None:
                write_csv(quotas, folder / "quotas.csv")
        if needs & {"excel", "report"}:
            comparison = _compare(plan, current_plan, metric_cols, blocks, block_col)
            scorecard = _scorecard(plan, comparison, metric_cols, blocks, block_col)
            if quotas is not None:
                scorecard = _quota_rows(scorecard, quotas)
        if "excel" in formats:
            sheets = {"Scorecard": (scorecard, True), "Territories": (per_territory, True)}
            if comparison is not None:
                matrix = comparison.transfer_matrix_wide("accounts")
                sheets["Transfer matrix"] = (matrix.rename_axis(index="current \\ proposed", columns=None), True)
                sheets["Moved accounts"] = (_moved_accounts(comparison, metric_cols), False)
            if quotas is not None:
                sheets["Quotas"] = (quotas, False)
            excel.write_workbook(folder / "summary.xlsx", _about(info, created_at, draft), sheets, draft=draft)
        if "gis" in formats:
            shapes_frame = per_territory.copy()
            shapes_frame["plan_status"] = status
            shapes = gis.territory_shapes(plan.accounts, plan.labels, shapes_frame, blocks=blocks, block_col=block_col)
            gis.write_shapes(shapes, folder)
        if "salesforce" in formats:
            salesforce.write_salesforce(folder / "salesforce", plan.metadata.name, table, territories, draft=draft,
                                        plan_hash=plan.content_hash, escape=escape_frame,
                                        quotas=quotas, quota_start=quota_start)
        if "report" in formats:
            content = report.ReportContent(
                plan_name=plan.metadata.name, plan_hash=plan.content_hash, input_hash=plan.metadata.input_hash,
                draft=draft, approval=_approval(plan), maps=_maps(plan, current_plan, blocks, block_col),
                scorecard=scorecard, territories=_report_territories(per_territory, metric_cols),
                transfers=_transfers(comparison), moved_summary=_moved_summary(comparison), created_at=created_at,
                versions=manifest.package_versions(), headline=_headline(comparison, plan),
                map_data=_map_data(plan, current_plan, blocks, block_col, metric_cols))
            (folder / "report.html").write_text(report.render_report(content), encoding="utf-8")
        _write_readme(folder, info, formats, created_at, draft, quotas=quotas is not None)
        manifest.write_manifest(folder, info, created_at, formats)
    return target


def _report_territories(per_territory: pd.DataFrame, metric_cols: list[str]) -> pd.DataFrame:
    """The territory table of the report: the columns a reader needs, so it fits the page."""
    keep = ["territory_name", "rep_name", "region", "accounts", *metric_cols,
            *[f"{m}_deviation" for m in metric_cols], "compactness_km", "accounts_in", "accounts_out", "quota"]
    shown = per_territory[[c for c in keep if c in per_territory.columns]]
    if "territory_name" in shown.columns and (shown["territory_name"].astype(str) == shown.index.astype(str)).all():
        shown = shown.drop(columns="territory_name")  # the same as the id: say it once
    return shown.loc[:, [c for c in shown.columns if not (shown[c].astype(str).str.strip() == "").all()]]


def _headline(comparison, plan) -> list[str]:
    """Sentences for the top of the report: who is affected, balance before and after, shape."""
    if comparison is None:
        return []
    from workbench import present

    lines = []
    deltas = comparison.territory_deltas
    losing, gaining = int((deltas["accounts_out"] > 0).sum()), int((deltas["accounts_in"] > 0).sum())
    lines.append(f"{_count(losing, 'territory', 'territories')} hand accounts over and "
                 f"{_count(gaining, 'territory', 'territories')} receive accounts "
                 f"({comparison.disruption['territories_touched']} of {len(deltas)} territories touched).")
    cards = comparison.scorecards
    for metric in comparison.metrics:
        item = f"{metric}_max_deviation_pct"
        if item in cards.index:
            before, after = cards.loc[item, "current"], cards.loc[item, "proposed"]
            lines.append(f"Balance of {metric}: the largest deviation from a fair share goes from "
                         f"{present.percent(before)} to {present.percent(after)} "
                         f"(tolerance ±{present.percent(comparison.tolerance, fraction=True)}).")
    if "non_contiguous_territories" in cards.index and cards.loc["non_contiguous_territories", "proposed"] is not None:
        before = cards.loc["non_contiguous_territories", "current"]
        after = cards.loc["non_contiguous_territories", "proposed"]
        lines.append(f"Territories not in one piece: {present.integer(before)} today, {present.integer(after)} "
                     "proposed.")
    accepted = getattr(plan.metadata, "accepted_warnings", ())
    if accepted:
        lines.append(f"Approved with {len(accepted)} warning(s) acknowledged: " + "; ".join(accepted))
    return lines


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _map_data(plan, current_plan, blocks, block_col, metric_cols):
    """Layers of the report's interactive map, or None when it cannot be drawn (the static PNG stays)."""
    try:
        from workbench.export import webmap

        return webmap.map_data(plan, current_plan, blocks=blocks, block_col=block_col, metrics=metric_cols)
    except (ValueError, KeyError, TypeError, ImportError) as error:  # pragma: no cover - reported, not fatal
        import warnings

        warnings.warn(f"report.html: no interactive map ({type(error).__name__}: {error}); the static map is kept",
                      stacklevel=2)
        return None


def _about(info: dict, created_at: str, draft: bool) -> dict:
    return {
        "Plan": info["name"],
        "Status": "DRAFT (not approved)" if draft else "approved",
        "Approved by": info["approved_by"] or "",
        "Approved at": info["approved_at"] or "",
        "Approval note": info["approval_note"] or "",
        "Plan hash": info["content_hash"],
        "Input data hash": info["input_hash"],
        "Method": info["method"] or "",
        "Accounts": info["accounts"],
        "Territories": info["territories"],
        "Exported at": created_at,
    }


def _moved_accounts(comparison, metric_cols: list[str]) -> pd.DataFrame:
    """Moved accounts with their metrics and the comparison's one-line explanation."""
    moved = comparison.moved_accounts
    keep = [ACCOUNT_ID, NAME, "from_territory", "to_territory", *metric_cols, "explanation"]
    return moved[[c for c in keep if c in moved.columns]]


def _transfers(comparison) -> pd.DataFrame | None:
    """Transfers between different territories, largest load first."""
    if comparison is None:
        return None
    transfers = comparison.transfer_matrix
    transfers = transfers[transfers["from_territory"] != transfers["to_territory"]]
    load = comparison.load_metric if comparison.load_metric in transfers.columns else "accounts"
    return transfers.sort_values([load, "from_territory", "to_territory"], ascending=[False, True, True],
                                 kind="stable").reset_index(drop=True)


def _moved_summary(comparison) -> dict:
    if comparison is None:
        return {}
    disruption = comparison.disruption
    load = comparison.load_metric
    pct = disruption.get(f"{load}_moved_pct")
    return {"accounts": int(disruption["accounts"]), "moved": int(disruption["accounts_moved"]),
            "moved_share": float(disruption["accounts_moved_pct"]) / 100.0,
            "load": load, "load_share": None if pct is None or pd.isna(pct) else float(pct) / 100.0}
