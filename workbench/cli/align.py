"""``workbench align ACCOUNTS --territories N --out OUT.csv``: align territories headless.

Which method runs follows from the options:

* no ``--balance-on``: plain k-means on the account locations;
* ``--balance-on COL[,COL...]``: balanced territories within ``--tolerance``;
* ``--current COL``: realignment from that column, moving as little as possible
  (ids kept; ``--territories`` may be omitted);
* ``--reps REPS.csv``: one territory per rep around the rep's home (ids are rep
  ids, targets in proportion to ``capacity_hours``); with ``--current`` a
  rep-anchored realignment (with ``--blocks`` too: whole blocks, contiguous; reps without a current
  territory are new hires, territories without a rep close);
* ``--blocks FILE --block-col COL``: contiguous territories built from blocks
  (``--blocks counties`` or ``--blocks zip-areas``: the bundled ones);
* ``--distance-matrix FILE`` (with ``--reps``): travel times instead of distance;
* ``--regions N [--areas M]``: territories grouped into regions (and areas).

``OUT.csv`` gets exactly ``account_id,territory_id`` (plus ``region``/``area``
with ``--regions``), one row per input account in input order; any other
suffix writes a draft plan (``workbench.plan``). A missed tolerance is a
warning on stderr and exit 0, or exit 3 with ``--strict`` (the output is still
written, for review).
"""

from __future__ import annotations


import json
import sys
import time
import warnings

from workbench.cli._common import (BLOCKS_HELP, account_options, add_accounts, add_command, add_json, resolve_blocks,
                                   warn)
from workbench.errors import InputError, PlanError
from workbench.schema import ACCOUNT_ID, COUNTY_FIPS, CURRENT_TERRITORY, DEFAULT_TOLERANCE, TERRITORY_ID, WORKLOAD, ZIP


#: Exit status of ``--strict`` when the tolerance is missed (2 is bad input).
EXIT_TOLERANCE_MISSED = 3


def register(subparsers) -> None:
    """Add the ``align`` sub-command."""
    parser = add_command(
        subparsers, "align", run,
        help="align sales territories (k-means, balanced, rep-anchored, contiguous, realignment)",
        description=__doc__.split("\n\n")[0], raw=True)
    add_accounts(parser, help="accounts file (CSV, Parquet, Excel)")
    parser.add_argument("--territories", type=int, metavar="N", help="number of territories")
    parser.add_argument("--out", required=True, metavar="OUT.csv",
                        help="output CSV (account_id,territory_id); another suffix saves a draft plan")
    parser.add_argument("--balance-on", metavar="COL[,COL...]", help="metric column(s) to balance")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="max deviation from the mean, as a share (default 0.05)")
    parser.add_argument("--current", metavar="COL", help="current territory column: realign from it")
    parser.add_argument("--reps", metavar="REPS.csv", help="reps file: rep_id, latitude, longitude[, capacity_hours]")
    parser.add_argument("--blocks", metavar="FILE", help=BLOCKS_HELP)
    parser.add_argument("--block-col", metavar="COL", help="block id column, in the blocks and the accounts")
    parser.add_argument("--lock-col", metavar="COL", help="True/False column: locked accounts keep their territory")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed (default: %(default)s; the same inputs and seed give the same output)")
    parser.add_argument("--close", metavar="ID[,ID...]",
                        help="with --current: close these territories (their accounts go to bordering ones)")
    parser.add_argument("--max-moved", type=float, metavar="SHARE",
                        help="with --current: move at most this share of the workload (0.08 = 8%%); the best "
                             "balance within it is kept")
    parser.add_argument("--move-penalty-km", type=float, metavar="KM",
                        help="with --current: km of distance one unit of moved workload is worth (default: four "
                             "times the current plan's compactness; with --blocks nine times)")
    parser.add_argument("--objective", choices=("weighted", "median"),
                        help="with --blocks: the dispersion the contiguous improvement phase lowers: weighted "
                             "(default; workload-weighted mean distance to the territory centre) or median (sum of "
                             "the blocks' distances to their territory's median block)")
    parser.add_argument("--distance-matrix", metavar="FILE",
                        help="travel times (or distances) from every account to every rep, used instead of the "
                        "great-circle distance; needs --reps. CSV/Excel/Parquet, wide (account_id, then one column "
                        "per rep_id) or long (account_id, rep_id, value)")
    parser.add_argument("--regions", type=int, metavar="N",
                        help="also group the territories into N balanced, contiguous regions (region column)")
    parser.add_argument("--areas", type=int, metavar="M",
                        help="and the regions into M areas (area column); needs --regions")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 3 when the tolerance is missed (default: a warning, exit 0)")
    add_json(parser, "print one JSON object (method, output, report, hierarchy, warnings) instead of text")


def run(args) -> int:
    """Load, align, write, print a short summary; return 0 (a progress bar on a terminal's stderr)."""
    from workbench import progress

    with progress.steps(["read accounts", "align", "save"], desc="align") as bar:
        return _run(args, bar)


def _run(args, bar) -> int:
    """Load, align, write, print a short summary; return 0.

    Only what is particular to the command line is checked here (which options
    go together); the loader checks the file and its columns, the estimator its
    parameters (the checks of :mod:`workbench.align.base`, named as the options).
    """
    from workbench.align.base import check_n_territories, check_tolerance
    from workbench.io import load_accounts

    start = time.perf_counter()
    balance_on = _columns(args.balance_on)
    if args.territories is None and not (args.reps or args.current):
        raise InputError("--territories N is required unless --reps or --current gives the territories")
    if args.block_col and not args.blocks:
        raise InputError("--block-col COL names the block column of --blocks: give --blocks FILE (or counties, "
                         "zip-areas) too")
    blocks, args.block_col = resolve_blocks(args.blocks, args.block_col)
    # Checked here because k-means (no --balance-on) takes no tolerance, yet the report measures against it.
    check_tolerance(args.tolerance, name="--tolerance", cli="")
    levels = _levels(args.regions, args.areas)
    if args.distance_matrix and not args.reps:
        raise InputError("--distance-matrix gives travel times from accounts to reps: it needs --reps REPS.csv "
                         "(territories are then built around the reps' homes)")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise InputError(f"--seed must be a whole number from 0 to 4294967295 (2**32 - 1), got {args.seed}")
    _check_realign_options(args)
    from workbench.safeio import refuse_output_over_inputs

    refuse_output_over_inputs(args.out, {"ACCOUNTS": args.accounts, "--reps": args.reps, "--blocks": args.blocks,
                                         "--distance-matrix": getattr(args, "distance_matrix", None)}, "--out")
    _check_out(args.out)
    # Block ids are text ("01001"): reading the block column as the standard county_fips keeps leading zeros.
    # (ZIP codes are text already.)
    block_col = (args.block_col if args.block_col in (COUNTY_FIPS, ZIP) else COUNTY_FIPS) if args.block_col else None
    renames = {args.block_col: COUNTY_FIPS} if args.block_col and args.block_col not in (COUNTY_FIPS, ZIP) else None
    accounts = load_accounts(args.accounts, **account_options(args),
                             territory_col=args.current, metrics=balance_on or None, columns=renames,
                             required=[c for c in (args.lock_col, block_col) if c])
    bar.step()
    if args.territories is not None:
        check_n_territories(args.territories, len(accounts), name="--territories", where=args.accounts)
    reps = None
    if args.reps:
        from workbench.io import load_reps

        reps = load_reps(args.reps)
    current_col = CURRENT_TERRITORY if args.current else None
    if args.lock_col and not current_col:
        raise InputError(f"--lock-col {args.lock_col} needs --current COL: a locked account keeps its current territory")
    model, method, fit_kwargs = _choose(args, balance_on, current_col, reps, block_col, blocks)
    if args.distance_matrix:
        from workbench.io.matrix import load_distance_matrix

        model.set_params(distance=load_distance_matrix(args.distance_matrix, accounts, reps))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(accounts, **fit_kwargs)
        except InputError as exc:
            # The accounts were read with the standard column names: speak of the user's columns.
            raise InputError(_user_columns(str(exc), {CURRENT_TERRITORY: args.current,
                                                      COUNTY_FIPS: args.block_col if renames else None})) from exc
        bar.step()
    labels = model.labels_
    id_note = None
    if current_col is None and reps is None and CURRENT_TERRITORY in accounts.columns:
        # A fresh alignment keeps the names of the current territories it overlaps most,
        # so that "moved" against the current alignment means moved.
        from workbench.align.ids import match_territory_ids

        weights = accounts[WORKLOAD] if WORKLOAD in accounts.columns else None
        labels = match_territory_ids(labels, accounts[CURRENT_TERRITORY], weights)
        kept = int((labels == accounts[CURRENT_TERRITORY].astype(str).to_numpy()).sum())
        id_note = (f"territory ids: named after the current territories ({CURRENT_TERRITORY!r}) they share the "
                   f"most workload with; {kept:,} of {len(labels):,} accounts keep their territory id")
    hierarchy = None
    if levels:
        from workbench.align.hierarchy import build_hierarchy

        with warnings.catch_warnings(record=True) as caught_levels:
            warnings.simplefilter("always")
            hierarchy = build_hierarchy(accounts, labels, levels, balance_on=balance_on or [WORKLOAD],
                                        blocks=fit_kwargs.get("blocks"), block_col=block_col, random_state=args.seed)
        caught += caught_levels
    inputs = {"accounts": args.accounts, "current": args.current, "reps": args.reps, "blocks": args.blocks,
              "block_col": args.block_col, "distance_matrix": args.distance_matrix, "regions": args.regions,
              "areas": args.areas}
    # With reps, a fit may name new hires' territories: the plan records who serves them (``reps_``).
    plan_reps = reps if getattr(model, "reps_", None) is None else model.reps_
    from workbench.plan import Plan

    plan = Plan.from_fit(model, accounts, labels=labels, method=method, reps=plan_reps, inputs=inputs)
    _write(args.out, plan, hierarchy)
    bar.step()
    report = model.report_
    if labels is not model.labels_:  # the ids written to --out are the ids the report speaks of
        report = report.with_territory_ids(dict(zip(map(str, model.labels_), map(str, labels))))
    seconds = time.perf_counter() - start
    # Each warning once, on stderr only: the text summary on stdout leaves them out.
    notes = list(dict.fromkeys([*report.warnings, *(str(w.message) for w in caught)]))
    if args.json:
        payload = {"method": method, "out": str(args.out), "accounts": int(len(labels)),
                   "territories": len(set(labels)), "seconds": round(seconds, 2),
                   "within_tolerance": bool(report.within_tolerance), "report": report.to_dict(),
                   "hierarchy": None if hierarchy is None else hierarchy.reset_index().to_dict("records"),
                   "territory_ids": id_note, "warnings": notes}
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=_json_value, allow_nan=False))
    else:
        summary = report.summary().replace(f"seconds: {report.seconds:.2f}", f"seconds: {seconds:.2f}")
        print("\n".join(line for line in summary.splitlines() if not line.startswith("warning: ")))
        if hierarchy is not None:
            counts = ", ".join(f"{hierarchy[level].nunique()} {level}s" for level in hierarchy.columns)
            print(f"hierarchy: {len(hierarchy)} territories in {counts}")
        if id_note:
            print(id_note)
        print(f"wrote {len(labels):,} assignments to {args.out}")
    for note in notes:
        warn(note)
    if args.strict and not report.within_tolerance:
        worst = ", ".join(f"{metric} {value:.1%}" for metric, value in report.max_deviation.items())
        print(f"error: tolerance {args.tolerance:.1%} not met (max deviation {worst}) and --strict was given; "
              f"the assignments were written to {args.out} for review", file=sys.stderr)
        return EXIT_TOLERANCE_MISSED
    return 0


def _user_columns(message: str, names: dict) -> str:
    """``message`` with the standard column names the accounts were read under replaced by the user's own."""
    for internal, user in names.items():
        if user and user != internal:
            message = message.replace(repr(internal), repr(user)).replace(f"({internal}=", f"({user}=")
    return message


def _check_realign_options(args) -> None:
    """--close, --max-moved and --move-penalty-km belong to a realignment (--current); the estimator checks their values."""
    for option, value in (("--close", args.close), ("--max-moved", args.max_moved),
                          ("--move-penalty-km", args.move_penalty_km)):
        if value is not None and not args.current:
            raise InputError(f"{option} needs --current COL: it changes a realignment of the current territories")
    if args.objective is not None and not args.blocks:
        raise InputError(f"--objective {args.objective} needs --blocks FILE: it chooses the dispersion of contiguous "
                         "territories made of whole blocks")
    if args.close is not None:
        ids = [c.strip() for c in args.close.split(",") if c.strip()]
        if not ids:
            raise InputError(f"--close needs territory ids separated by commas, got {args.close!r}")
        args.close = ids


def _realignment(args, metrics, current_col):
    from workbench import align

    return align.Realignment(n_territories=args.territories, close=args.close, balance_on=metrics,
                             tolerance=args.tolerance, current_col=current_col, lock_col=args.lock_col,
                             random_state=args.seed, max_moved_share=args.max_moved,
                             move_penalty_km=args.move_penalty_km)


def _levels(regions, areas) -> dict:
    """``{"region": N[, "area": M]}`` from ``--regions``/``--areas``, checked."""
    if areas is not None and regions is None:
        raise InputError("--areas M groups the regions: give --regions N too")
    levels = {}
    for option, value, level in (("--regions", regions, "region"), ("--areas", areas, "area")):
        if value is not None:
            if value < 1:
                raise InputError(f"{option} must be a positive number of groups, got {value}")
            levels[level] = value
    if areas is not None and areas > regions:
        raise InputError(f"--areas {areas} is more than --regions {regions}: each area groups whole regions")
    return levels


def _json_value(value):
    """numpy scalars and other stragglers as plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _columns(text) -> list[str]:
    if text is None:
        return []
    columns = [c.strip() for c in text.split(",") if c.strip()]
    if not columns:
        raise InputError(f"--balance-on needs column names separated by commas, got {text!r}")
    return columns


def _choose(args, balance_on, current_col, reps, block_col, blocks=None):
    """The estimator, its method name and extra fit arguments, from the options."""
    from workbench import align

    seed = args.seed
    metrics = balance_on or [WORKLOAD]
    if blocks is not None:
        from workbench.align.contiguous import ContiguousTerritories

        if current_col:
            from workbench.align.realign_blocks import ContiguousRealignment

            model = ContiguousRealignment(
                n_territories=args.territories, close=args.close, balance_on=tuple(metrics), tolerance=args.tolerance,
                block_col=block_col, current_col=current_col, lock_col=args.lock_col, random_state=seed,
                max_moved_share=args.max_moved, move_penalty_km=args.move_penalty_km)
            return model, "contiguous_realignment", {"blocks": blocks, "reps": reps}
        model = ContiguousTerritories(n_territories=args.territories, balance_on=tuple(metrics),
                                      tolerance=args.tolerance, block_col=block_col, random_state=seed,
                                      lock_col=args.lock_col, current_col=current_col, progress=False,
                                      objective=args.objective or "weighted")
        return model, "contiguous", {"blocks": blocks}
    if reps is not None:
        if current_col:
            return _realignment(args, metrics, current_col), "rep_realignment", {"reps": reps}
        _check_count(args.territories, len(reps), "reps in " + str(args.reps))
        model = align.RepAnchoredTerritories(balance_on=metrics, tolerance=args.tolerance, random_state=seed)
        return model, "rep_anchored", {"reps": reps}
    if current_col:
        return _realignment(args, metrics, current_col), "realignment", {}
    if balance_on:
        return (align.BalancedTerritories(args.territories, balance_on=balance_on, tolerance=args.tolerance,
                                          random_state=seed), "balanced", {})
    return align.KMeansTerritories(args.territories, random_state=seed), "kmeans", {}


def _check_out(out) -> None:
    """Refuse an unusable --out before the (possibly long) alignment runs."""
    from pathlib import Path

    from workbench.plan import check_save_path

    if not str(out).strip():
        raise InputError("--out is empty; give a file name ending in .csv (e.g. proposal.csv) or a new folder "
                         "for a draft plan (e.g. plans/fy27)")
    path = Path(out)
    if path.name in ("", ".", ".."):
        raise InputError(f"--out {out} is a folder that exists (it names no new file or plan folder); give a "
                         f"file name ending in .csv or a new folder inside it, e.g. {Path(out) / 'proposal.csv'}")
    if str(out).lower().endswith(".csv"):
        if path.is_dir():
            raise InputError(f"--out {out} is a folder; give a file name ending in .csv")
        return
    try:
        check_save_path(path)
    except PlanError as exc:
        if "overwrite=True" not in str(exc):
            raise
        # A draft is replaceable from Python only; on the command line saved plans are never overwritten.
        raise InputError(f"--out {out} already holds a saved plan; give a new path, or remove that "
                         "folder yourself if the draft is no longer wanted") from None


def _check_count(asked, found, where):
    if asked is not None and asked != found:
        raise InputError(f"--territories {asked} but there are {found} {where}; omit --territories to use them")


def _write(out, plan, hierarchy=None) -> None:
    """``account_id,territory_id`` (and the hierarchy's levels) CSV in input order, or a draft plan folder."""
    out = str(out)
    if out.lower().endswith(".csv"):
        import pandas as pd

        from workbench.safeio import write_csv

        frame = pd.DataFrame({ACCOUNT_ID: plan.assignments.index.to_numpy(dtype=object),
                              TERRITORY_ID: plan.assignments.to_numpy(dtype=object)})
        if hierarchy is not None:
            for level in hierarchy.columns:
                frame[level] = frame[TERRITORY_ID].map(hierarchy[level]).to_numpy()
        write_csv(frame, out)  # ids such as "=1+1" get a leading quote; compare and read_assignments undo it
        return
    from workbench.plan import save_plan

    if hierarchy is not None:
        plan = plan.with_hierarchy(hierarchy.reset_index())
    save_plan(plan, out)
