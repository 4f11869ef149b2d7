"""``workbench info ACCOUNTS``: what is in an accounts file, and what was flagged while loading it."""

from __future__ import annotations

import argparse
import json

from pathlib import Path

from workbench.cli._common import add_accounts, add_command, add_json
from workbench.errors import InputError
from workbench.schema import CURRENT_TERRITORY, TERRITORY_ID


def register(subparsers) -> None:
    """Add the ``info`` sub-command."""
    parser = add_command(
        subparsers, "info", run,
        help="summarise an accounts file: totals, territories and their loads, problems found",
        description="Load and validate an accounts file and print a summary: number of accounts, metric "
        "totals, current territories with their loads, and everything flagged (geocoded, excluded, warnings).",
    )
    add_accounts(parser)
    parser.add_argument("--zip-col", default="zip", help="ZIP column used when coordinates are missing (default: %(default)s)")
    parser.add_argument("--territory-col", default=None,
                        help=f"column holding the current territory (default: {CURRENT_TERRITORY} when present)")
    parser.add_argument("--metrics", default=None, type=_comma_list,
                        help="comma-separated metric columns (default: workload, revenue, potential, "
                        "visits_per_year when present)")
    parser.add_argument("--reps", default=None, metavar="REPS",
                        help="reps file; current territories not among its territory_id values are flagged")
    parser.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    parser.add_argument("--layer", default=None, help="GeoPackage layer holding the accounts")
    parser.add_argument("--encoding", default=None,
                        help="text encoding of a CSV (default: UTF-8; a file that is not UTF-8 is read as cp1252 or "
                        "latin-1 with a warning naming the one used)")
    parser.add_argument("--exclude-invalid", action="store_true",
                        help="leave invalid rows out and list them, instead of stopping at the first problem")
    parser.add_argument("--no-geocode", action="store_true", help="do not place accounts without coordinates at their ZIP")
    add_json(parser, "print machine-readable JSON instead of text")


def _comma_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected comma-separated column names, e.g. workload,revenue")
    return items


def run(args) -> int:
    """Load the accounts and print the summary; return the exit code."""
    from workbench.io import load_accounts, load_reps

    valid_territories = None
    if args.reps:
        reps = load_reps(args.reps)
        if TERRITORY_ID not in reps:
            raise InputError(f"{reps_name(args.reps)}: no {TERRITORY_ID!r} column to check territories against. "
                             f"Fix: add it, or leave out --reps.")
        valid_territories = reps[TERRITORY_ID].dropna().unique().tolist()
    accounts, report = load_accounts(
        args.accounts,
        valid_territories=valid_territories,
        layer=args.layer,
        id_col=args.id_col,
        lat_col=args.lat_col,
        lon_col=args.lon_col,
        zip_col=args.zip_col,
        territory_col=args.territory_col,
        metrics=args.metrics,
        sheet=args.sheet,
        encoding=args.encoding,
        geocode=not args.no_geocode,
        on_invalid="exclude" if args.exclude_invalid else "raise",
        return_report=True,
    )
    summary = summarise(accounts, report)
    if args.json:
        print(json.dumps(summary, indent=2, default=_json_default))
    else:
        print(format_summary(summary))
    return 0


def reps_name(path) -> str:
    return Path(path).name


def summarise(accounts, report) -> dict:
    """Everything ``info`` shows, as plain Python data."""
    from workbench.metrics import deviation_from_mean, territory_loads

    metrics = list(report.metrics)
    n = len(accounts)
    totals = {m: {"total": float(accounts[m].sum()), "mean_per_account": float(accounts[m].mean()) if n else 0.0}
              for m in metrics}
    territories = None
    unassigned = 0
    if CURRENT_TERRITORY in accounts:
        labels = accounts[CURRENT_TERRITORY]
        assigned = labels.notna().to_numpy()
        unassigned = int((~assigned).sum())
        loads = territory_loads(accounts.loc[assigned], labels[assigned].astype("str"), metrics)
        deviation = deviation_from_mean(loads, ["accounts", *metrics]) * 100
        territories = [
            {"territory_id": str(tid), "accounts": int(loads.at[tid, "accounts"]),
             "accounts_deviation_pct": float(deviation.at[tid, "accounts"]),
             **{m: float(loads.at[tid, m]) for m in metrics},
             **{f"{m}_deviation_pct": float(deviation.at[tid, m]) for m in metrics}}
            for tid in loads.index
        ]
    return {
        "source": report.source,
        "n_rows_read": report.n_rows_read,
        "n_accounts": n,
        "metrics": totals,
        "territory_column": CURRENT_TERRITORY if territories is not None else None,
        "territories": territories,
        "unassigned": unassigned,
        "geocoded_from_zip": list(report.geocoded),
        "excluded": report.excluded.to_dict(orient="records"),
        "excluded_unit": report.unit,
        "warnings": list(report.warnings),
    }


def format_summary(summary: dict) -> str:
    """The text ``info`` prints."""
    lines = [f"{summary['source']}: {summary['n_accounts']:,} accounts loaded "
             f"({summary['n_rows_read']:,} rows read)"]
    metrics = summary["metrics"]
    if metrics:
        lines.append("")
        rows = [["metric", "total", "mean/account"]]
        rows += [[name, f"{v['total']:,.1f}", f"{v['mean_per_account']:,.2f}"] for name, v in metrics.items()]
        lines.extend(_table(rows))
    else:
        lines.append("no metric columns (pass --metrics)")
    territories = summary["territories"]
    if territories is None:
        lines.append("")
        lines.append(f"no territory column (pass --territory-col; default {CURRENT_TERRITORY})")
    else:
        lines.append("")
        lines.append(f"{len(territories)} territories in {summary['territory_column']!r} "
                     f"(dev% = deviation from the mean in %):")
        rows = [["territory", "accounts", "dev%"] + [c for name in metrics for c in (name, "dev%")]]
        for row in territories:
            cells = [row["territory_id"], f"{row['accounts']:,}", f"{row['accounts_deviation_pct']:+.1f}"]
            for name in metrics:
                cells += [f"{row[name]:,.1f}", f"{row[name + '_deviation_pct']:+.1f}"]
            rows.append(cells)
        lines.extend(_table(rows))
        if territories and metrics:
            worst = {m: max(abs(r[m + "_deviation_pct"]) for r in territories) for m in metrics}
            lines.append("max deviation: " + ", ".join(f"{m} {v:.1f}%" for m, v in worst.items()))
        if summary["unassigned"]:
            lines.append(f"{summary['unassigned']} accounts have no current territory")
    lines.append("")
    flagged = False
    geocoded = summary["geocoded_from_zip"]
    if geocoded:
        flagged = True
        shown = ", ".join(geocoded[:10]) + (f" and {len(geocoded) - 10} more" if len(geocoded) > 10 else "")
        lines.append(f"placed at their ZIP point (no coordinates): {len(geocoded)}: {shown}")
    excluded = summary["excluded"]
    if excluded:
        flagged = True
        lines.append(f"excluded: {len(excluded)}")
        id_col = [k for k in excluded[0] if k not in ("line", "column", "reason")][0]
        for row in excluded[:20]:
            lines.append(f"  {summary['excluded_unit']} {row['line']}, {row[id_col]}: {row['reason']} "
                         f"(column {row['column']!r})")
        if len(excluded) > 20:
            lines.append(f"  ... and {len(excluded) - 20} more (use --json for all)")
    for warning in summary["warnings"]:
        flagged = True
        lines.append(f"warning: {warning}")
    if not flagged:
        lines.append("nothing flagged: every row loaded as is")
    return "\n".join(lines)


def _table(rows: list[list[str]]) -> list[str]:
    """Left-align the first column, right-align the rest, two spaces between columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows]


def _json_default(value):
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or value is np.nan:
        return None
    return str(value)
