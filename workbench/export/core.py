"""``export_plan``: every file a plan needs to reach the CRM, the reps and the leadership deck.

This module only puts the pieces together: which files (:mod:`~workbench.export.formats`), what is refused
(:mod:`~workbench.export.safety`), the numbers (:mod:`~workbench.export.summary`), each file's writer
(:mod:`~workbench.export.tables`, ``excel``, ``gis``, ``salesforce``, ``report``) and the README
(:mod:`~workbench.export.readme`).
"""

from __future__ import annotations

from pathlib import Path

from workbench.export import excel, gis, manifest, report, salesforce, tables
from workbench.export.formats import check_formats
from workbench.export.readme import write_readme
from workbench.export.safety import check_exportable, check_target, resolve_plan
from workbench.export.summary import (about_sheet, compare_with, current_plan_of, headline, metric_columns,
                                      moved_accounts_table, moved_summary, quota_rows, report_territories,
                                      scorecard_table, territory_table, transfers)
from workbench.locking import folder_lock
from workbench.provenance import utc_now
from workbench.safeio import atomic_directory, escape_frame, write_csv
from workbench.plan import HASH_COVERAGE
from workbench.schema import TERRITORY_ID


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
            "accepted_warnings": list(meta.accepted_warnings)}


def _plan_info(plan, n_accounts: int, n_territories: int) -> dict:
    meta = plan.metadata
    info = {
        "name": meta.name,
        "status": meta.status,
        "content_hash": plan.content_hash,
        "record_hash": plan.record_hash,
        "input_hash": meta.input_hash,
        "method": meta.method,
        "created_at": meta.created_at,
        "created_by": meta.created_by,
        "approved_by": meta.approved_by,
        "approved_at": meta.approved_at,
        "approval_note": meta.approval_note,
        "accounts": n_accounts,
        "territories": n_territories,
        "hash_coverage": HASH_COVERAGE,
    }
    return info


def export_plan(plan, to, *, formats=None, allow_draft: bool = False, force: bool = False, blocks=None,
                block_col: str | None = None, current=None, quotas=None, quota_start=None,
                progress: bool | None = None) -> Path:
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
        ``"report"`` (default all of these) and ``"shp"`` (an ESRI shapefile in
        ``shapefile/``, only when asked for). ``README.txt`` and
        ``manifest.json`` are always written.
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
    progress : bool, optional
        Show a progress bar over the files written (default: in a notebook, or on a terminal's
        stderr; see :mod:`workbench.progress`).
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
    >>> import pandas as pd
    >>> from workbench.plan import Plan
    >>> from workbench.signoff import review_and_approve
    >>> accounts = pd.DataFrame({"account_id": ["a1", "a2"], "latitude": [40.0, 41.0],
    ...                          "longitude": [-75.0, -74.0], "workload": [1.0, 2.0]})
    >>> plan = review_and_approve(Plan.from_labels(accounts, ["T1", "T2"]), by="Ana", accept_warnings=True)
    >>> import tempfile, pathlib
    >>> out = export_plan(plan, pathlib.Path(tempfile.mkdtemp()) / "out", formats="csv")
    >>> sorted(p.name for p in out.iterdir())
    ['README.txt', 'assignments.csv', 'manifest.json']
    """
    plan = resolve_plan(plan)
    formats = check_formats(formats)
    check_exportable(plan, allow_draft)
    draft = not plan.is_approved
    if quotas is not None:
        from workbench.quota import check_quotas, quota_start as _quota_start

        quotas = check_quotas(quotas, plan)
        quota_start = _quota_start(quota_start)
    target = Path(to)
    check_target(target, plan, force)  # refuse early, before the work; checked again under the lock
    status = "DRAFT" if draft else "approved"

    table = tables.assignment_table(plan, current, status=status)
    territories = tables.territory_frame(plan)
    metric_cols = metric_columns(plan)
    info = _plan_info(plan, len(table), len(territories))
    created_at = utc_now()
    needs = set(formats)
    current_plan = current_plan_of(plan, current) if needs & {"excel", "report"} else None
    per_territory = territory_table(plan, table, metric_cols) if needs & {"excel", "gis", "report", "shp"} else None
    if per_territory is not None and quotas is not None:
        per_territory["quota"] = quotas.set_index(TERRITORY_ID)["quota"].reindex(per_territory.index)
    blocks, block_col = gis.default_blocks(plan.accounts, blocks, block_col) if needs - {"csv", "salesforce"} \
        else (blocks, block_col)

    # The target's lock is held from a second check (another export may have written the target since the
    # first) to the last rename, so two exports into one folder never both succeed.
    from workbench import progress as _progress

    with folder_lock(target, action="exporting"), \
            atomic_directory(target, replace=check_target(target, plan, force)) as folder, \
            _progress.steps([*formats, "manifest"], desc="export", enabled=progress) as bar:
        if "csv" in formats:
            tables.write_assignments(table, folder / "assignments.csv")
            if quotas is not None:
                write_csv(quotas, folder / "quotas.csv")
            bar.step()
        if needs & {"excel", "report"}:
            comparison = compare_with(plan, current_plan, metric_cols, blocks, block_col)
            scorecard = scorecard_table(plan, comparison, metric_cols, blocks, block_col)
            if quotas is not None:
                scorecard = quota_rows(scorecard, quotas)
        if "excel" in formats:
            from workbench import present

            card_values, card_formats = present.excel_scorecard(scorecard, labels=False)
            sheets = {"Scorecard": (card_values, True, card_formats), "Territories": (per_territory, True)}
            if comparison is not None:
                matrix = comparison.transfer_matrix_wide("accounts")
                sheets["Transfer matrix"] = (matrix.rename_axis(index="current \\ proposed", columns=None), True)
                sheets["Moved accounts"] = (moved_accounts_table(comparison, metric_cols), False)
            if quotas is not None:
                sheets["Quotas"] = (quotas, False)
            excel.write_workbook(folder / "summary.xlsx", about_sheet(info, created_at, draft), sheets, draft=draft)
            bar.step()
        if needs & {"gis", "shp"}:
            shapes_frame = per_territory.copy()
            shapes_frame["plan_status"] = status
            shapes = gis.territory_shapes(plan.accounts, plan.labels, shapes_frame, blocks=blocks, block_col=block_col)
            if "gis" in formats:
                gis.write_shapes(shapes, folder)
                bar.step()
        if "salesforce" in formats:
            salesforce.write_salesforce(folder / "salesforce", plan.metadata.name, table, territories, draft=draft,
                                        plan_hash=plan.content_hash, escape=escape_frame,
                                        quotas=quotas, quota_start=quota_start)
            bar.step()
        if "report" in formats:
            content = report.ReportContent(
                plan_name=plan.metadata.name, plan_hash=plan.content_hash, input_hash=plan.metadata.input_hash,
                draft=draft, approval=_approval(plan), maps=_maps(plan, current_plan, blocks, block_col),
                scorecard=scorecard, territories=report_territories(per_territory, metric_cols),
                transfers=transfers(comparison), moved_summary=moved_summary(comparison), created_at=created_at,
                versions=manifest.package_versions(), headline=headline(comparison, plan),
                map_data=_map_data(plan, current_plan, blocks, block_col, metric_cols))
            (folder / "report.html").write_text(report.render_report(content), encoding="utf-8")
            bar.step()
        if "shp" in formats:  # last, as in FORMATS + OPTIONAL_FORMATS (the progress bar names the steps in order)
            gis.write_shapefile(shapes, folder)
            bar.step()
        write_readme(folder, info, formats, created_at, draft, quotas=quotas is not None)
        manifest.write_manifest(folder, info, created_at, formats)
        bar.step()
    return target


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


