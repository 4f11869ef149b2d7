"""The numbers an export reports: metrics, per-territory totals, the comparison with the current
alignment, and the pieces of it the workbook and the report show."""

from __future__ import annotations

import pandas as pd

from workbench import metrics as _metrics
from workbench.export import tables
from workbench.schema import ACCOUNT_ID, CURRENT_TERRITORY, METRICS, NAME, TERRITORY_ID, WORKLOAD


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
    deviation = _metrics.deviation_from_target(loads, metric_cols, plan.territories).add_suffix("_deviation")
    out = frame.join(loads).join(deviation)
    out["accounts"] = out["accounts"].fillna(0).astype(int)
    out["compactness_km"] = _metrics.compactness_km(sub, labels, weight=WORKLOAD if WORKLOAD in sub else None)
    if table["moved"].notna().any():
        moved = table[table["moved"].fillna(False).to_numpy(dtype=bool)]
        out["accounts_in"] = moved.groupby(TERRITORY_ID).size().reindex(out.index).fillna(0).astype(int)
        out["accounts_out"] = moved.groupby(CURRENT_TERRITORY).size().reindex(out.index).fillna(0).astype(int)
    return out


def current_plan_of(plan, current):
    from workbench.plan import Plan

    if isinstance(current, Plan):
        return current
    labels = tables.current_labels(plan, current)
    if labels is None:
        return None
    return Plan.from_labels(plan.accounts, labels.to_numpy(dtype=object), method="column", name="current",
                            parameters={"column": CURRENT_TERRITORY})


def compare_with(plan, current_plan, metric_cols, blocks, block_col):
    """The comparison with the current alignment, or None without one."""
    if current_plan is None:
        return None
    from workbench.compare import compare_plans

    return compare_plans(current_plan, plan, metrics=metric_cols or None, blocks=blocks, block_col=block_col)


def scorecard_table(plan, comparison, metric_cols, blocks, block_col) -> pd.DataFrame:
    """Scorecard: current, proposed and change side by side, or the proposed plan's alone."""
    if comparison is not None:
        return comparison.scorecards
    card = _metrics.scorecard(plan.accounts, plan.labels, metric_cols, blocks=blocks, block_col=block_col)
    return card.rename("proposed").to_frame()


def quota_rows(scorecard: pd.DataFrame, quotas: pd.DataFrame) -> pd.DataFrame:
    """The scorecard with the quota total, largest and smallest (proposed plan only)."""
    rows = pd.DataFrame(index=["quota_total", "quota_largest", "quota_smallest"], columns=scorecard.columns,
                        dtype=object)
    column = "proposed" if "proposed" in scorecard.columns else scorecard.columns[-1]
    rows[column] = [float(quotas["quota"].sum()), float(quotas["quota"].max()), float(quotas["quota"].min())]
    return pd.concat([scorecard.astype(object), rows])


def report_territories(per_territory: pd.DataFrame, metric_cols: list[str]) -> pd.DataFrame:
    """The territory table of the report: the columns a reader needs, so it fits the page."""
    keep = ["territory_name", "rep_name", "region", "accounts", *metric_cols,
            *[f"{m}_deviation" for m in metric_cols], "compactness_km", "accounts_in", "accounts_out", "quota"]
    shown = per_territory[[c for c in keep if c in per_territory.columns]]
    if "territory_name" in shown.columns and (shown["territory_name"].astype(str) == shown.index.astype(str)).all():
        shown = shown.drop(columns="territory_name")  # the same as the id: say it once
    return shown.loc[:, [c for c in shown.columns if not (shown[c].astype(str).str.strip() == "").all()]]


def headline(comparison, plan) -> list[str]:
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
    accepted = plan.metadata.accepted_warnings
    if accepted:
        lines.append(f"Approved with {present.count(len(accepted), 'warning')} acknowledged: " + "; ".join(accepted))
    return lines


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def about_sheet(info: dict, created_at: str, draft: bool) -> dict:
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


def moved_accounts_table(comparison, metric_cols: list[str]) -> pd.DataFrame:
    """Moved accounts with their metrics and the comparison's one-line explanation."""
    moved = comparison.moved_accounts
    keep = [ACCOUNT_ID, NAME, "from_territory", "to_territory", *metric_cols, "explanation"]
    return moved[[c for c in keep if c in moved.columns]]


def transfers(comparison) -> pd.DataFrame | None:
    """Transfers between different territories, largest load first."""
    if comparison is None:
        return None
    transfers = comparison.transfer_matrix
    transfers = transfers[transfers["from_territory"] != transfers["to_territory"]]
    load = comparison.load_metric if comparison.load_metric in transfers.columns else "accounts"
    return transfers.sort_values([load, "from_territory", "to_territory"], ascending=[False, True, True],
                                 kind="stable").reset_index(drop=True)


def moved_summary(comparison) -> dict:
    if comparison is None:
        return {}
    disruption = comparison.disruption
    load = comparison.load_metric
    pct = disruption.get(f"{load}_moved_pct")
    return {"accounts": int(disruption["accounts"]), "moved": int(disruption["accounts_moved"]),
            "moved_share": float(disruption["accounts_moved_pct"]) / 100.0,
            "load": load, "load_share": None if pct is None or pd.isna(pct) else float(pct) / 100.0}
