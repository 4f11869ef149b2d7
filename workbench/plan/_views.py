"""A plan as frames and HTML: :meth:`Plan.to_frame`, :meth:`Plan.to_geodataframe`, ``Plan._repr_html_``."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from workbench.schema import ACCOUNT_ID, COUNTY_FIPS, TERRITORY_ID, WORKLOAD

#: Territory attributes copied onto every account row by :func:`plan_frame`.
TERRITORY_COLUMNS = ("territory_name", "rep_id", "rep_name", "region", "area")
#: Territories shown in the notebook summary (the rest are counted).
HTML_ROWS = 12


def plan_frame(plan) -> pd.DataFrame:
    """One row per account: its columns, ``territory_id``, the territory's name/rep/region/area, ``locked``."""
    frame = plan.accounts.reset_index(drop=True)
    labels = pd.Series(plan.labels, dtype=object)
    frame[TERRITORY_ID] = labels.to_numpy()
    territories = plan.territories
    for column in TERRITORY_COLUMNS:
        if column in territories.columns:
            frame[column] = labels.map(territories[column]).to_numpy()
    frame["locked"] = frame[ACCOUNT_ID].astype(str).isin(plan.locked_accounts).to_numpy()
    return frame


def territory_totals(plan) -> pd.DataFrame:
    """Per territory: ``accounts`` and the total of each balance metric (or workload), with deviations."""
    frame = plan.accounts
    labels = pd.Series(plan.labels, dtype=object)
    assigned = labels.notna().to_numpy()
    metrics = [m for m in (plan.balance_on or (WORKLOAD,)) if m in frame.columns]
    ids = plan.territories.index
    out = pd.DataFrame({"accounts": labels[assigned].value_counts().reindex(ids, fill_value=0)}, index=ids)
    for metric in metrics:
        values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(dtype=float)[assigned]
        loads = pd.Series(values).groupby(labels[assigned].to_numpy()).sum().reindex(ids, fill_value=0.0)
        out[metric] = loads.to_numpy()
        mean = loads.mean()
        out[f"{metric}_deviation"] = (loads / mean - 1).to_numpy() if mean else np.nan
    return out


def plan_geodataframe(plan, blocks=None, block_col=None):
    """One row per territory: its polygon (blocks dissolved, else the accounts' cells) and attributes."""
    import geopandas as gpd

    from workbench.shapes import territory_polygons

    accounts = plan.accounts
    if blocks is None and block_col is None and COUNTY_FIPS in accounts.columns:
        from workbench.bundled import load_counties

        blocks, block_col = load_counties(), COUNTY_FIPS
    if blocks is not None and block_col is None:
        raise TypeError("blocks were given without block_col: name the accounts' column holding the block id")
    assigned = pd.notna(plan.labels)
    polygons = territory_polygons(accounts.loc[assigned].reset_index(drop=True), plan.labels[assigned],
                                  blocks=blocks, block_col=block_col)
    attributes = plan.territories.join(territory_totals(plan))
    geometry = polygons.geometry.reindex(attributes.index.astype(str))
    return gpd.GeoDataFrame(attributes.reset_index(), geometry=geometry.to_numpy(), crs=polygons.crs).to_crs(4326)


def plan_html(plan) -> str:
    """A short HTML summary for notebooks: name, status, method, hash, counts, worst deviation, territories."""
    from workbench import present

    m = plan.metadata
    totals = territory_totals(plan)
    deviations = [c for c in totals.columns if c.endswith("_deviation")]
    worst = ", ".join(f"{c[:-len('_deviation')]} {present.percent(totals[c].abs().max(), fraction=True)}"
                      for c in deviations if totals[c].notna().any())
    approved = f", approved by {html.escape(str(m.approved_by))} at {html.escape(str(m.approved_at))}" \
        if plan.is_approved else ""
    head = (f"<p><strong>Plan {html.escape(plan.name)!s}</strong> ({html.escape(m.status)}{approved}; method "
            f"{html.escape(str(m.method))}; hash <code>{plan.content_hash[:12]}</code>)<br>"
            f"{present.integer(len(plan.assignments))} accounts in {present.integer(len(totals))} territories, "
            f"{present.integer(len(plan.unassigned))} unassigned"
            f"{'; largest deviation ' + html.escape(worst) if worst else ''}</p>")
    shown = plan.territories[[c for c in ("territory_name", "rep_name") if c in plan.territories.columns]]
    table = shown.join(totals).reset_index()
    caption = None if len(table) <= HTML_ROWS else f"{HTML_ROWS} of {len(table)} territories"
    rows = present.html_table(table.head(HTML_ROWS), caption=caption)
    return f'<div class="workbench-plan">{head}{rows}</div>'
