"""``workbench gaps ACCOUNTS --reps REPS.csv --out GAPS.csv``: market gaps (white space), ranked.

For each block (county, ZIP area or your polygons) and territory: accounts,
potential, current revenue, penetration (revenue / potential), white space
(potential not yet won), distance to the nearest rep home and the gap score
(0-100; see ``workbench.gaps``), largest gap first, written to ``GAPS.csv``.
Accounts farther than ``--max-km`` from every rep home are uncovered: they are
written to ``GAPS_uncovered.csv`` beside it, farthest first.
"""

from __future__ import annotations


from pathlib import Path

from workbench.cli._common import account_options, add_accounts, add_command
from workbench.errors import InputError
from workbench.schema import COUNTY_FIPS, CURRENT_TERRITORY, POTENTIAL, REVENUE


def register(subparsers) -> None:
    """Add the ``gaps`` sub-command."""
    parser = add_command(
        subparsers, "gaps", run,
        help="market gaps: potential, revenue, penetration and rep distance per block, ranked; uncovered accounts",
        description="\n\n".join(__doc__.split("\n\n")[:2]), raw=True)
    add_accounts(parser)
    parser.add_argument("--reps", required=True, metavar="REPS.csv", help="reps file: rep_id, latitude, longitude")
    parser.add_argument("--current", default=None, metavar="COL",
                        help="column holding each account's territory (default: the nearest rep's territory)")
    parser.add_argument("--potential-col", default=POTENTIAL, metavar="COL", help="default: %(default)s")
    parser.add_argument("--revenue-col", default=REVENUE, metavar="COL", help="default: %(default)s")
    parser.add_argument("--blocks", default=None, metavar="FILE",
                        help="block polygons (GeoPackage, GeoJSON, shapefile); accounts are placed in them "
                        "unless they have the --block-col column")
    parser.add_argument("--block-col", default=None, metavar="COL",
                        help="block id column (in the accounts, or in --blocks); default county_fips, else zip")
    parser.add_argument("--max-km", type=float, default=None, metavar="KM",
                        help="travel threshold: accounts farther from every rep home are uncovered (default 160)")
    parser.add_argument("--out", required=True, metavar="GAPS.csv", help="CSV of the ranked blocks")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="blocks shown on screen (default 10)")


def uncovered_path(out) -> Path:
    """Where the uncovered accounts go: ``GAPS_uncovered.csv`` beside ``GAPS.csv``."""
    out = Path(out)
    suffix = out.suffix if out.suffix else ".csv"
    return out.with_name(f"{out.stem}_uncovered{suffix}")


def run(args) -> int:
    """Load, score, write, print; return 0."""
    from workbench.gaps import DEFAULT_MAX_KM, block_gaps, territory_gaps, uncovered_accounts
    from workbench.io import load_accounts, load_blocks, load_reps

    max_km = DEFAULT_MAX_KM if args.max_km is None else args.max_km
    if args.blocks and not args.block_col:
        raise InputError(f"--blocks {args.blocks} needs --block-col naming the block id column of the polygons")
    if args.top < 0:
        raise InputError(f"--top must be 0 or more, got {args.top}")
    out = Path(args.out)
    if out.is_dir():
        raise InputError(f"--out {args.out} is a folder; give a file name ending in .csv")
    metrics = list(dict.fromkeys([args.potential_col, args.revenue_col]))
    accounts = load_accounts(args.accounts, **account_options(args),
                             territory_col=args.current, metrics=metrics)
    reps = load_reps(args.reps)
    blocks = load_blocks(args.blocks, args.block_col) if args.blocks else None
    block_col = args.block_col
    if blocks is None and block_col is None:
        from workbench.gaps import default_block_col

        block_col = default_block_col(accounts)
    if blocks is None and block_col == COUNTY_FIPS:
        blocks = _bundled_counties()  # names only ("Los Angeles, CA"); accounts keep their county column
    if blocks is not None and block_col not in accounts.columns and args.blocks is None:
        blocks = None
    labels = accounts[CURRENT_TERRITORY] if args.current else None
    gaps = block_gaps(accounts, reps, labels=labels, block_col=block_col, blocks=blocks,
                      potential_col=args.potential_col, revenue_col=args.revenue_col, max_km=max_km)
    uncovered = uncovered_accounts(accounts, reps, max_km=max_km, potential_col=args.potential_col,
                                   revenue_col=args.revenue_col, labels=labels)
    _write_csv(gaps, out)
    side = uncovered_path(out)
    _write_csv(uncovered, side)
    print(format_gaps(gaps, territory_gaps(gaps, max_km), uncovered, max_km, top=args.top,
                      by_territory=args.current is not None))
    print(f"wrote {len(gaps):,} blocks to {out} and {len(uncovered):,} uncovered accounts to {side}")
    return 0


def _bundled_counties():
    try:
        from workbench.bundled import load_counties

        return load_counties()[[COUNTY_FIPS, "name", "state", "geometry"]].rename(columns={COUNTY_FIPS: "block_id"})
    except Exception:  # noqa: BLE001 - names are a courtesy; without bundled counties the ids are shown
        return None


def _write_csv(frame, path: Path) -> None:
    from workbench.safeio import write_csv

    write_csv(frame, path)


def format_gaps(gaps, territories, uncovered, max_km: float, *, top: int = 10, by_territory: bool = True) -> str:
    """What ``workbench gaps`` prints: the biggest gaps, territories, uncovered accounts."""
    from workbench.gaps import format_gaps as people
    from workbench.present import km, money, percent, text_table

    total_potential = float(gaps["potential"].sum())
    lines = [f"market gaps: {len(gaps):,} blocks; potential {money(total_potential)}, revenue "
             f"{money(gaps['revenue'].sum())}, penetration "
             f"{percent(gaps['revenue'].sum() / total_potential if total_potential else None, fraction=True)}, "
             f"white space {money(gaps['white_space'].sum())}"]
    if top:
        shown = gaps.head(top)
        lines += ["", f"biggest gaps (gap score 100 = the largest; white space counts up to double beyond "
                      f"{km(max_km)} from a rep):"]
        lines.append(text_table(people(shown), index=False))
        lines += ["", "territories by gap" + ("" if by_territory else " (territory = the nearest rep's)") + ":"]
        lines.append(text_table(people(territories.head(top)), index=False))
    lines.append("")
    share = uncovered["potential"].sum() / total_potential if "potential" in uncovered and total_potential else None
    lines.append(f"uncovered: {len(uncovered):,} accounts farther than {km(max_km)} from every rep home"
                 + (f", {money(uncovered['potential'].sum())} of potential ({percent(share, fraction=True)})"
                    if share is not None else ""))
    return "\n".join(lines)
