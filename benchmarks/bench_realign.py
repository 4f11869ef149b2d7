"""Realignment benchmarks: movement against both lower bounds, compactness against the current plan.

Cases (each in a fresh subprocess):

* points, 40,000 accounts x 40 territories (synthetic accounts on US ZIP
  points), a balanced plan whose workload then grew to ~40% max deviation,
  by regional growth (4 hubs) or scattered growth (15% of territories);
  realigned to 5%. Target: moved <= 1.07x the bordering bound **and**
  compactness no worse than the current plan. A free-moves reference
  (no move penalty, then the exact assignment alternated with re-centring
  to convergence) shows how compact a plan within 5% near this one gets at
  all, whatever it moves. The issue's own method (one min-cost assignment
  to bordering territories from today's centres with the same move
  penalty, :mod:`benchmarks.realign_baseline`) runs beside it: ours must
  be no worse on moved share and on compactness.
* points_county_plan: the same accounts, but today's plan is 40 territories
  of whole counties (a contiguous county plan, as many real alignments
  are, so its borders follow county lines rather than the accounts), grown
  by regional growth to ~40% and realigned account by account to 5%. The
  same targets; here the baseline itself ends more compact than today, so
  "no worse than current" is within reach (on the two cases above, built
  from a compactness-polished plan, no method reaches it: see the
  free-moves reference).
* points_drift_areas / points_drift_territories: the issue's setting, "40
  territories drifted to +-41%": today's plan is a compact k-means plan
  (balanced on last year's workload), whose workload drifted up and down
  by areas (a smooth field of many small bumps) or by territory (a factor
  each), with per-account noise, to ~+-41% with no big regional shift.
  Same targets, the same references.
* points_sample: the shipped sample (``data/sample/accounts.csv``, 25,000
  accounts, 40 territories of whole counties drifted to about -21%/+32%),
  realigned to 5%: what ``workbench align data/sample/accounts.csv --current
  current_territory`` does. Same targets, the same references.
* counties: the same accounts in their counties, a contiguous 30-territory
  plan (without the time-budgeted improvement phase, so the same on every run) grown to ~43%, realigned to 10% with whole counties
  (seeded, its search on an iteration budget: the same figures on every run). Target:
  contiguous, within tolerance, moved <= 1.25x the bordering bound.
* counties_drift_30 / counties_drift_40: built like the issue's outside
  check: 25,000 accounts in real US counties, a whole-county plan of 30 or
  40 territories (balanced on last year's workload) drifted by areas to
  about +-43%, realigned to 10% with whole counties. counties_sample: the
  shipped sample with its counties at 10% (the CLI's ``--blocks
  data/geo/counties.gpkg``); one county (Los Angeles) alone exceeds any
  territory's maximum, so "within" there means within wherever whole
  counties allow. The same targets.
* counties_sample_hire: the sample with a hire and a leaver (reps without
  R05, plus R41 in Las Vegas), as ``workbench align ... --reps`` runs it
  (the CLI's default tolerance). The same targets, and the CLI process
  within 30 s, T41 opened and T05 closed exactly.
* ``<case>_seed1`` / ``<case>_seed2`` for counties_regions,
  counties_scattered, counties_drift_30 and counties_drift_40: the same
  built from other accounts and drifts (the generator's seed).
* multi-metric: workload + revenue + potential at 5% (points, regional
  growth of workload and revenue). Target: converges, moved <= 1.3x its bound
  (the joint one: every balanced metric within at once, see
  :func:`workbench.align.bounds.joint_lower_bound`); also on seeds 1 and 2
  (other accounts, other hubs), and on the sample (multi_metric_sample).

Every county case without openings or closings also prints a **whole-county bound**
(:func:`workbench.align.bounds.whole_block_lower_bound`): the least a plan of whole counties moves when
each county moves at most once, to a territory bordering its own, contiguity not asked (a 0/1 program,
HiGHS's dual bound after ``WHOLE_BLOCK_NODES`` nodes). It is not a target; it says how much of the gap to the
bordering bound the counties' sizes alone force. On counties_drift_40_seed2 it is 1.2x the bordering bound
(San Bernardino, a third of a territory, must move whole from a territory 0.115 over), so 1.25x leaves
contiguity almost nothing.

The greenfield polish (vs a long reference search) and the CLI process vs a
KMeans process are greenfield cases: ``python -m benchmarks align``.

Run ``python -m benchmarks realign`` (all) or ``python -m benchmarks realign --quick``
(smaller points cases, no counties).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks._common import grow, run_cases, run_in_subprocess

#: The repository's data folder (the sample and the county polygons).
DATA = Path(__file__).resolve().parent.parent / "data"


def _sample_accounts():
    """The shipped sample's accounts (``data/sample/accounts.csv``), ZIP and county codes kept as text."""
    import pandas as pd

    return pd.read_csv(DATA / "sample" / "accounts.csv", dtype={"zip": str, "county_fips": str})


def _accounts(n, seed=0):
    from benchmarks.bench_align import synthetic_accounts

    accounts = synthetic_accounts(n, seed)
    accounts["potential"] = np.random.default_rng(seed + 7).lognormal(mean=11.0, sigma=1.0, size=n)
    return accounts


def _result(name, model, accounts, current, seconds, tolerance, metric="workload"):
    from workbench import metrics as wm

    r = model.report_
    before = wm.overall_compactness_km(accounts, current, metric)
    return {
        "case": name, "seconds": seconds, "tolerance": tolerance, "max_deviation": r.max_deviation,
        "within_tolerance": r.within_tolerance, "contiguous": r.contiguous, "converged": r.converged,
        "moved_share": r.moved_share, "moved_accounts": r.moved_accounts,
        "lower_bound_share": r.lower_bound_share, "bordering_lower_bound_share": r.bordering_lower_bound_share,
        "moved_over_plain": r.moved_share / r.lower_bound_share if r.lower_bound_share else None,
        "moved_over_bordering": (r.moved_share / r.bordering_lower_bound_share
                                 if r.bordering_lower_bound_share else None),
        "joint_lower_bound_share": r.joint_lower_bound_share,
        "moved_over_joint": r.moved_share / r.joint_lower_bound_share if r.joint_lower_bound_share else None,
        "compactness_km": r.compactness_km, "current_compactness_km": before,
        "compactness_vs_current": r.compactness_km / before, "move_penalty_km": model.move_penalty_km_,
        "warnings": list(r.warnings),
    }


def timed_realignment(accounts, **params):
    """``Realignment(**params).fit(accounts)`` (warnings silenced: the verdict reports them), and its seconds."""
    from workbench.align import Realignment

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Realignment(**params).fit(accounts)
    return model, time.perf_counter() - start


def case_points(n, n_territories, pattern, seed=0, metrics=("workload",)):
    """Balanced plan, grown, realigned to 5%."""
    from workbench.align import BalancedTerritories

    accounts = _accounts(n, seed)
    current = BalancedTerritories(n_territories, balance_on=list(metrics), random_state=seed).fit(accounts).labels_
    accounts["current_territory"] = current
    grow(accounts, current, 0.40, pattern, seed, columns=metrics[:2])
    model, seconds = timed_realignment(accounts, balance_on=list(metrics))
    name = f"points {n:,} x {n_territories}, {pattern} growth, {'+'.join(metrics)} at 5%"
    result = _result(name, model, accounts, current, seconds, 0.05)
    if len(metrics) == 1:
        result.update(free_moves_reference(accounts, current))
        result.update(issue_baseline(accounts, current, result))
    return result


def issue_baseline(accounts, current, ours):
    """The issue's method as a baseline (:mod:`benchmarks.realign_baseline`), at our move penalty; ratios as ours."""
    from benchmarks.realign_baseline import bordering_flow

    out = bordering_flow(accounts, current, move_penalty_km=ours["move_penalty_km"])
    bound = ours["bordering_lower_bound_share"]
    out["baseline_moved_over_bordering"] = out["baseline_moved_share"] / bound if bound else None
    return out


def case_points_county_plan(n, n_territories, pattern, seed=0):
    """A current plan drawn on whole counties (as many real alignments are), grown, realigned account by account.

    The plan is a contiguous county plan (:class:`ContiguousTerritories`
    without its time-budgeted phase, so the same on every run) whose borders
    follow county lines, not the accounts: some accounts sit nearer a
    neighbour's centre. Its workload grows to ~40% and it is realigned to 5%
    with :class:`Realignment` (points; accounts also border through their
    county). Here "no less compact than today" is within reach.
    """
    from workbench.align import ContiguousTerritories

    accounts, blocks = county_accounts(n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        current = ContiguousTerritories(n_territories, tolerance=0.05, random_state=seed, max_seconds=0).fit(
            accounts, blocks=blocks).labels_
    accounts["current_territory"] = current
    grow(accounts, current, 0.40, pattern, seed)
    model, seconds = timed_realignment(accounts)
    name = f"points {n:,} x {n_territories}, current plan on whole counties, {pattern} growth, workload at 5%"
    result = _result(name, model, accounts, current, seconds, 0.05)
    result.update(free_moves_reference(accounts, current))
    result.update(issue_baseline(accounts, current, result))
    return result


def drift(accounts, labels, target, seed, style):
    """Drift ``accounts``' workload (in place) until the max deviation of ``labels`` is ~``target``, no big regional shift.

    ``style="areas"``: a smooth random field of 60 bumps (each up or down,
    80-250 km wide) times per-account noise (lognormal, sigma 0.3), so
    neighbouring areas drift apart, some up, some down.
    ``style="territories"``: every territory's accounts by one random
    factor of its own (up or down), with the same per-account noise. The
    field's strength is found by bisection.
    """
    from workbench import metrics as wm
    from workbench.geo import great_circle_km

    rng = np.random.default_rng(seed + 11)
    n = len(accounts)
    base = accounts["workload"].to_numpy().copy()
    if style == "areas":
        hubs = accounts.sample(60, random_state=seed + 3)[["latitude", "longitude"]].to_numpy()
        field = np.zeros(n)
        for lat, lon in hubs:
            d = great_circle_km(accounts["latitude"], accounts["longitude"], lat, lon)
            field += rng.uniform(-1, 1) * np.exp(-((d / rng.uniform(80, 250)) ** 2))
    else:
        ids, index = np.unique(np.asarray(labels).astype(str), return_inverse=True)
        field = rng.uniform(-1, 1, len(ids))[index]
    noise = rng.normal(size=n) * 0.3
    low, high = 0.0, 5.0
    for _ in range(40):
        g = (low + high) / 2
        accounts["workload"] = base * np.exp(g * field + noise * min(g, 1.0))
        dev = wm.max_deviation(accounts, labels, ["workload"])["workload"]
        low, high = (g, high) if dev < target else (low, g)
    return accounts


def case_points_drift(n, n_territories, style, seed=0):
    """The issue's setting: a compact plan of today whose territories drifted to ~+-41%, realigned to 5%.

    Today's plan is a k-means plan of the accounts (compact; its workload
    then scaled so that every territory held the mean, as if it had been
    balanced on last year's workload), drifted by :func:`drift` (areas or
    territories drifting up and down, no big regional shift) to a max
    deviation of ~41%, and realigned to 5%. Same targets and references as
    the other points cases.
    """
    from workbench.align import KMeansTerritories

    accounts = _accounts(n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        current = KMeansTerritories(n_territories, random_state=seed).fit(accounts).labels_
    accounts["current_territory"] = current
    load = accounts.groupby("current_territory")["workload"].transform("sum")
    accounts["workload"] = accounts["workload"] / load * load.mean()
    drift(accounts, current, 0.41, seed, style)
    return _points_case(accounts, current, lambda low, high: f"points {n:,} x {n_territories}, k-means plan "
                        f"drifted by {style} to {low:+.0%}/{high:+.0%}, workload at 5%")


def case_points_sample():
    """The shipped sample (``data/sample/accounts.csv``): 25,000 accounts, 40 territories of whole counties drifted
    to about -21%/+32%, realigned account by account to 5% (what ``workbench align ... --current`` does on it)."""
    accounts = _sample_accounts()
    current = accounts["current_territory"].astype(str).to_numpy()
    n_territories = accounts["current_territory"].nunique()
    return _points_case(accounts, current, lambda low, high: f"points: the sample, {len(accounts):,} x "
                        f"{n_territories}, county plan drifted to {low:+.0%}/{high:+.0%}, workload at 5%")


def case_multi_metric_sample():
    """The shipped sample realigned to 5% on workload, revenue and potential (``workbench align
    data/sample/accounts.csv --current current_territory --balance-on workload,revenue,potential``)."""
    accounts = _sample_accounts()
    current = accounts["current_territory"].astype(str).to_numpy()
    metrics = ["workload", "revenue", "potential"]
    model, seconds = timed_realignment(accounts, balance_on=metrics)
    name = (f"multi-metric: the sample, {len(accounts):,} x {accounts['current_territory'].nunique()}, "
            f"{'+'.join(metrics)} at 5%")
    return _result(name, model, accounts, current, seconds, 0.05)


def _points_case(accounts, current, describe):
    """Realign drifted ``accounts`` to 5% and add both references; ``describe(low, high)`` names the case from
    the current plan's lowest and highest deviation."""
    model, seconds = timed_realignment(accounts)
    deviation = accounts.groupby("current_territory")["workload"].sum()
    deviation = deviation / deviation.mean() - 1
    result = _result(describe(deviation.min(), deviation.max()), model, accounts, current, seconds, 0.05)
    result.update(free_moves_reference(accounts, current))
    result.update(issue_baseline(accounts, current, result))
    return result


def free_moves_reference(accounts, current):
    """How compact a plan within 5% can be at all near this one: moves free (no penalty), then the exact
    balanced assignment alternated with re-centring to convergence; its compactness against the current plan's
    says whether "no less compact than today" is within reach on this case."""
    from workbench import metrics as wm
    from workbench.align.distance import Distance
    from workbench.align.polish import polish_alignment

    start = time.perf_counter()
    free = timed_realignment(accounts, move_penalty_km=0.0)[0].labels_
    ids, index = np.unique(np.asarray(free).astype(str), return_inverse=True)
    shares = accounts[["workload"]].to_numpy(dtype=float) / accounts["workload"].sum()
    dist = Distance(None, accounts["latitude"], accounts["longitude"])
    polished, _, _ = polish_alignment(dist, shares, index, np.full(len(ids), 1.0 / len(ids)), 0.05, max_rounds=30,
                                      n_candidates=8)
    labels = ids[polished]
    km = wm.overall_compactness_km(accounts, labels, "workload")
    return {"free_moves_compactness_km": km,
            "free_moves_vs_current": km / wm.overall_compactness_km(accounts, current, "workload"),
            "free_moves_moved_share": float(accounts["workload"][labels != np.asarray(current)].sum()
                                            / accounts["workload"].sum()),
            "free_moves_seconds": time.perf_counter() - start}


def county_accounts(n, seed=0):
    """Synthetic accounts with the county they fall in (spatial join), and the county polygons."""
    import geopandas as gpd

    from benchmarks.bench_contiguous import counties

    blocks, _ = counties()
    accounts = _accounts(n, seed)
    points = gpd.GeoDataFrame(accounts, geometry=gpd.points_from_xy(accounts["longitude"], accounts["latitude"]),
                              crs="EPSG:4326")
    joined = gpd.sjoin(points, blocks[["county_fips", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    accounts["county_fips"] = joined["county_fips"].to_numpy()
    missing = accounts["county_fips"].isna()
    if missing.any():  # jittered off the coast: nearest county
        near = gpd.sjoin_nearest(points[missing.to_numpy()].to_crs(5070), blocks[["county_fips", "geometry"]]
                                 .to_crs(5070), how="left")
        near = near[~near.index.duplicated()]
        accounts.loc[missing, "county_fips"] = near["county_fips"].to_numpy()
    return accounts, blocks


def case_counties(n, n_territories, pattern, seed=0):
    """Contiguous county plan at 10%, grown to ~43%, realigned to 10% with whole counties."""
    from workbench.align import ContiguousTerritories
    from workbench.align.realign_blocks import ContiguousRealignment

    accounts, blocks = county_accounts(n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # No time-budgeted improvement phase: the same current plan on every run and machine.
        base = ContiguousTerritories(n_territories, tolerance=0.10, random_state=seed, max_seconds=0).fit(
            accounts, blocks=blocks)
    current = base.labels_
    accounts["current_territory"] = current
    grow(accounts, current, 0.43, pattern, seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # An iteration budget (max_kicks) and a seed: the same plan on every run, whatever the machine's load.
        model = ContiguousRealignment(tolerance=0.10, random_state=seed).fit(accounts, blocks=blocks)
    seconds = time.perf_counter() - start
    name = f"counties: {n:,} accounts, {n_territories} territories, {pattern} growth, whole counties at 10%"
    return _county_result(name, model, accounts, current, seconds, 0.10)


def timed_block_realignment(accounts, blocks, tolerance, seed):
    """``ContiguousRealignment`` at ``tolerance`` (seeded: its search is on an iteration budget), and its seconds."""
    from workbench.align.realign_blocks import ContiguousRealignment

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ContiguousRealignment(tolerance=tolerance, random_state=seed).fit(accounts, blocks=blocks)
    return model, time.perf_counter() - start


def _county_result(name, model, accounts, current, seconds, tolerance, targets=None):
    """:func:`_result`, and whether every territory is within the tolerance or as near as whole blocks allow.

    A county heavier than a territory's maximum (Los Angeles on the sample)
    keeps its territory over the tolerance in every whole-county plan; that
    territory counts as within once the county is all it is over by
    (:func:`workbench.align.realign_blocks.reachable_targets`). ``targets``
    (optional, a share per territory id, e.g. rep capacities): the targets
    the plan was balanced to, else equal ones.
    """
    from workbench.align.realign_blocks import reachable_targets

    result = _result(name, model, accounts, current, seconds, tolerance)
    given = targets
    labels = model.block_labels_
    ids, index = np.unique(labels.to_numpy().astype(str), return_inverse=True)
    block_of = labels.index.get_indexer(accounts[model.block_col].astype(str))
    block_load = np.bincount(block_of, weights=accounts["workload"].to_numpy(dtype=float), minlength=len(labels))
    shares = (block_load / block_load.sum())[:, None]
    if targets is None:
        targets = np.full(len(ids), 1.0 / len(ids))
    else:
        targets = targets.reindex(ids).to_numpy(dtype=float)
        targets = targets / targets.sum()
    reach = reachable_targets(index, shares, targets, tolerance, np.ones(len(ids), dtype=bool))[:, 0]
    load = np.bincount(index, weights=shares[:, 0], minlength=len(ids))
    result["within_whole_blocks"] = bool((np.abs(load / reach - 1) <= tolerance + 1e-9).all())
    if not model.opened_ and not model.closed_:
        result.update(whole_block_reference(model, accounts, current, block_of, tolerance, given))
    return result


#: Branch-and-bound nodes HiGHS may use on a case's whole-block bound (its dual bound then: a work limit, so the
#: same figure on any machine).
WHOLE_BLOCK_NODES = 50


def whole_block_reference(model, accounts, current, block_of, tolerance, targets=None):
    """The least a plan of whole counties moves, each county at most once to a territory bordering its own
    (:func:`workbench.align.bounds.whole_block_lower_bound`, contiguity not asked): how much of the gap to the
    bordering bound the counties' sizes alone force. Bands as ``within_whole_blocks`` measures them (a county
    heavier than any territory's maximum widens its territory's band to it); equal targets unless ``targets``."""
    from workbench.align import bounds as wb
    from workbench.align.realign_blocks import reachable_targets

    from workbench.align import _blocks
    from workbench.align._block_moves import majority

    ids, index = np.unique(np.asarray(current).astype(str), return_inverse=True)
    share = accounts["workload"].to_numpy(dtype=float)
    share = share / share.sum()
    # The block graph the fit used: islands linked to their nearest blocks, blocks far from any account left out.
    full, block_of, _ = _blocks.accounts_on_blocks(accounts, None, model.adjacency_, model.block_col)
    graph, block_of, _ = _blocks.near_accounts(full, block_of)
    n_b = len(graph.ids)
    held = np.zeros((n_b, len(ids)))
    np.add.at(held, (block_of, index), share)
    home = majority(block_of, index, share, n_b, graph.edges)  # as the fit labels blocks today (empty ones too)
    adjacency = wb.block_territory_graph(graph.edges, home, len(ids))
    shares_of = np.full(len(ids), 1.0 / len(ids)) if targets is None else targets.reindex(ids).to_numpy(dtype=float)
    shares_of = shares_of / shares_of.sum()
    reach = reachable_targets(home, held.sum(axis=1)[:, None], shares_of, tolerance, np.ones(len(ids), dtype=bool))
    start = time.perf_counter()
    bound, best = wb.whole_block_lower_bound(block_of, index, share, reach[:, 0] * (1 - tolerance),
                                             reach[:, 0] * (1 + tolerance), adjacency,
                                             node_limit=WHOLE_BLOCK_NODES)
    return {"whole_block_bound_share": bound, "whole_block_best_share": best,
            "whole_block_seconds": time.perf_counter() - start,
            "moved_over_whole_block": (model.report_.moved_share / bound
                                       if bound > 0 and np.isfinite(bound) else None)}


def case_counties_drift(n, n_territories, seed=0):
    """Built like the issue's outside check: a whole-county plan of US counties whose workload drifted by areas.

    Accounts like the sample's (synthetic, on US ZIP points, in their
    counties of ``data/geo/counties.gpkg``); today's plan is a contiguous
    plan of whole counties (no time-budgeted phase: the same on every run)
    balanced on last year's workload, which then drifted up and down by
    areas (:func:`drift`) to about +-43%; realigned to 10% with whole
    counties, no reps. Same targets as the other counties cases.
    """
    from workbench.align import ContiguousTerritories

    accounts, blocks = county_accounts(n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        current = ContiguousTerritories(n_territories, tolerance=0.05, random_state=seed, max_seconds=0).fit(
            accounts, blocks=blocks).labels_
    accounts["current_territory"] = current
    load = accounts.groupby("current_territory")["workload"].transform("sum")
    accounts["workload"] = accounts["workload"] / load * load.mean()
    drift(accounts, current, 0.43, seed, "areas")
    model, seconds = timed_block_realignment(accounts, blocks, 0.10, seed)
    deviation = accounts.groupby("current_territory")["workload"].sum()
    deviation = deviation / deviation.mean() - 1
    name = (f"counties: {n:,} accounts, {n_territories} territories of whole counties drifted by areas to "
            f"{deviation.min():+.0%}/{deviation.max():+.0%}, whole counties at 10%")
    return _county_result(name, model, accounts, current, seconds, 0.10)


def case_counties_sample(tolerance=0.10):
    """The shipped sample with its counties: ``workbench align data/sample/accounts.csv --current current_territory
    --blocks data/geo/counties.gpkg --block-col county_fips --tolerance 0.10`` (no reps; 40 territories of whole
    counties drifted to about -21%/+32%; county 06037, Los Angeles, alone over any territory's maximum)."""
    import geopandas as gpd

    accounts = _sample_accounts()
    blocks = gpd.read_file(DATA / "geo" / "counties.gpkg")
    current = accounts["current_territory"].astype(str).to_numpy()
    model, seconds = timed_block_realignment(accounts, blocks, tolerance, 0)
    deviation = accounts.groupby("current_territory")["workload"].sum()
    deviation = deviation / deviation.mean() - 1
    name = (f"counties: the sample, {len(accounts):,} x {len(deviation)}, county plan drifted to "
            f"{deviation.min():+.0%}/{deviation.max():+.0%}, whole counties at {tolerance:.0%}")
    return _county_result(name, model, accounts, current, seconds, tolerance)


def case_counties_sample_hire():
    """The sample with a hire and a leaver, whole counties, the CLI's default tolerance: what an analyst runs as
    ``workbench align data/sample/accounts.csv --current current_territory --reps REPS --blocks
    data/geo/counties.gpkg --block-col county_fips --out OUT`` with REPS the sample's reps without R05 (El Paso:
    T05 closes) plus a new hire R41 in Las Vegas (T41 opens). Timed as that CLI process (what the user waits
    for; target 30 s), then fitted in this process for the figures (the same inputs, so the same plan)."""
    import subprocess
    import tempfile
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd

    from workbench.align.realign_blocks import ContiguousRealignment
    from workbench.io import load_reps

    root = Path(__file__).resolve().parent.parent / "data"
    reps = pd.read_csv(root / "sample" / "reps.csv")
    hire = {"rep_id": "R41", "name": "Dana Whitfield", "territory_id": None, "latitude": 36.1716,
            "longitude": -115.1391, "home_city": "Las Vegas, NV", "capacity_hours": 1720}
    reps = pd.concat([reps[reps["rep_id"] != "R05"], pd.DataFrame([hire])], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        reps_path, out = Path(tmp) / "reps.csv", Path(tmp) / "proposal.csv"
        reps.to_csv(reps_path, index=False)
        command = [sys.executable, "-c", "import sys; from workbench.cli import main; sys.exit(main())", "align", str(root / "sample" / "accounts.csv"),
                   "--current", "current_territory", "--reps", str(reps_path), "--blocks",
                   str(root / "geo" / "counties.gpkg"), "--block-col", "county_fips", "--out", str(out)]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        cli_seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"the CLI failed: {proc.stderr.strip().splitlines()[-1:]}")
        cli_plan = pd.read_csv(out, dtype=str)
        rep_frame = load_reps(reps_path)
    accounts = _sample_accounts()
    blocks = gpd.read_file(root / "geo" / "counties.gpkg")
    current = accounts["current_territory"].astype(str).to_numpy()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ContiguousRealignment(block_col="county_fips", current_col="current_territory",
                                      random_state=0).fit(accounts, blocks=blocks, reps=rep_frame)
    seconds = time.perf_counter() - start
    result = _county_result("counties: the sample with a hire (R41, Las Vegas) and a leaver (R05, El Paso), whole "
                            f"counties at {model.tolerance:.0%}", model, accounts, current, seconds, model.tolerance,
                            targets=model.reps_.set_index("territory_id")["capacity_hours"].astype(float))
    result["cli_seconds"] = cli_seconds
    result["same_as_cli"] = bool((cli_plan.set_index("account_id")["territory_id"]
                                  .reindex(accounts["account_id"].astype(str)).to_numpy() == model.labels_).all())
    result["opened"], result["closed"] = list(model.opened_), list(model.closed_)
    result["ids_after"] = sorted({str(t) for t in model.labels_})
    return result


CASES = {
    "points_regions": (case_points, (40_000, 40, "regions")),
    "points_scattered": (case_points, (40_000, 40, "scattered")),
    "points_county_plan": (case_points_county_plan, (40_000, 40, "regions")),
    "points_drift_areas": (case_points_drift, (40_000, 40, "areas")),
    "points_drift_territories": (case_points_drift, (40_000, 40, "territories")),
    "points_sample": (case_points_sample, ()),
    "counties_regions": (case_counties, (40_000, 30, "regions")),
    "counties_scattered": (case_counties, (40_000, 30, "scattered")),
    # Built like the issue's outside check (whole US counties, a county plan drifted by areas, 10%), and the sample.
    "counties_drift_30": (case_counties_drift, (25_000, 30)),
    "counties_drift_40": (case_counties_drift, (25_000, 40)),
    "counties_sample": (case_counties_sample, ()),
    "counties_sample_hire": (case_counties_sample_hire, ()),
    # Other accounts and drifts (the generator's seed): the 1.25x target holds across seeds, not on one draw.
    **{f"{name}_seed{seed}": (function, args + (seed,)) for seed in (1, 2) for name, function, args in (
        ("counties_regions", case_counties, (40_000, 30, "regions")),
        ("counties_scattered", case_counties, (40_000, 30, "scattered")),
        ("counties_drift_30", case_counties_drift, (25_000, 30)),
        ("counties_drift_40", case_counties_drift, (25_000, 40)))},
    "multi_metric": (case_points, (40_000, 40, "regions", 0, ("workload", "revenue", "potential"))),
    # The same on other accounts and growth: the 1.3x target holds across seeds, not on one draw.
    "multi_metric_seed1": (case_points, (40_000, 40, "regions", 1, ("workload", "revenue", "potential"))),
    "multi_metric_seed2": (case_points, (40_000, 40, "regions", 2, ("workload", "revenue", "potential"))),
    "multi_metric_sample": (case_multi_metric_sample, ()),
}
QUICK_CASES = {
    "points_regions": (case_points, (10_000, 20, "regions")),
    "points_scattered": (case_points, (10_000, 20, "scattered")),
    "multi_metric": (case_points, (10_000, 20, "regions", 0, ("workload", "revenue", "potential"))),
}


def run_case(name: str, quick: bool = False) -> dict:
    """One case in a fresh subprocess (its own memory); the result as a dict."""
    return run_in_subprocess("bench_realign", "QUICK_CASES" if quick else "CASES", name)


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def verdict(name: str, r: dict) -> str:
    """The issue's target for a case, the figures, and met or MISSED."""
    if "error" in r:
        return f"{name}: ERROR {r['error']}"
    figures = (f"moved {r['moved_share']:.1%}; plain bound {r['lower_bound_share']:.1%} "
               f"({r['moved_over_plain']:.2f}x); bordering bound {r['bordering_lower_bound_share']:.1%} "
               f"({r['moved_over_bordering']:.3f}x); compactness {r['compactness_km']:.1f} km vs current "
               f"{r['current_compactness_km']:.1f} km ({r['compactness_vs_current']:.3f}x); max deviation "
               + ", ".join(f"{m} {v:.1%}" for m, v in r["max_deviation"].items())
               + f"; {r['seconds']:.1f} s")
    ratio = r["moved_over_bordering"] or 0.0
    if 0 < ratio and round(ratio, 3) < 1.0:  # a ratio under 1 says why (see bounds.bordering_lower_bound)
        figures += ("\n    under 1.00x the bordering bound: " + ("the tolerance was not reached" if not r["within_tolerance"]
                    else "some load went between territories that came to border only after earlier moves (the "
                         "bound counts moves between territories bordering today)"))
    if name.startswith("points"):
        checks = [("moved <= 1.07x bordering", ratio <= 1.07),
                  ("compactness <= current", r["compactness_vs_current"] <= 1.0 + 1e-9),
                  ("within 5%", r["within_tolerance"])]
        if "baseline_moved_share" in r:
            base_ratio = r["baseline_moved_over_bordering"] or 0.0
            figures += (f"\n    issue's baseline (one min-cost assignment to bordering territories, move penalty "
                        f"{r['baseline_move_penalty_km']:,.0f} km, today's centres): moved "
                        f"{r['baseline_moved_share']:.1%} ({base_ratio:.3f}x bordering), compactness "
                        f"{r['baseline_compactness_km']:.1f} km ({r['baseline_compactness_vs_current']:.3f}x current), "
                        f"max deviation {r['baseline_max_deviation']:.1%}"
                        + ("" if r["baseline_within_tolerance"] else " (outside the tolerance)")
                        + f"; {r['baseline_seconds']:.1f} s")
            # Ours may spend the move slack up to _TRADE_SLACK x the bordering bound on compactness (the target
            # allows 1.07x): it must then be more compact than the baseline, and move no more than that slack.
            from workbench.align.realign import _TRADE_SLACK

            checks += [(f"moved <= baseline's or {_TRADE_SLACK:.5g}x bordering",
                        ratio <= max(base_ratio * (1 + 1e-6), _TRADE_SLACK + 1e-6)),
                       ("compactness <= baseline's",
                        r["compactness_vs_current"] <= r["baseline_compactness_vs_current"] * (1 + 1e-6))]
        if "free_moves_compactness_km" in r:
            figures += (f"\n    free-moves reference (no move penalty, exact assignment to convergence): "
                        f"{r['free_moves_compactness_km']:.1f} km ({r['free_moves_vs_current']:.3f}x current) moving "
                        f"{r['free_moves_moved_share']:.1%}")
    elif name.startswith("counties"):
        tol = r.get("tolerance", 0.10)
        within = (f"within {tol:.0%}", r["within_tolerance"])
        if not r["within_tolerance"] and r.get("within_whole_blocks"):  # a county alone over any maximum
            within = (f"within {tol:.0%} where whole counties allow (a county alone exceeds a territory's maximum)",
                      True)
        checks = [("contiguous", bool(r["contiguous"])), within, ("moved <= 1.25x bordering", ratio <= 1.25)]
        if r.get("whole_block_bound_share") is not None:
            whole = r["whole_block_bound_share"]
            figures += (f"\n    whole-county bound (each county moved at most once, to a bordering territory; not "
                        f"contiguous): " + ("no such plan reaches the bands" if not np.isfinite(whole) else
                                            f"{whole:.2%} ({whole / r['bordering_lower_bound_share']:.3f}x the "
                                            "bordering bound; ours " + (f"{r['moved_over_whole_block']:.3f}x it)"
                                                                        if r["moved_over_whole_block"] else "-)"))
                        + f"; {r['whole_block_seconds']:.1f} s")
        if "cli_seconds" in r:  # the sample with a hire and a leaver, as the CLI runs it
            figures += (f"\n    CLI process {r['cli_seconds']:.1f} s (fit alone {r['seconds']:.1f} s); opened "
                        f"{', '.join(r['opened']) or 'none'}, closed {', '.join(r['closed']) or 'none'}; the same plan "
                        f"as the CLI's: {'yes' if r['same_as_cli'] else 'NO'}")
            ids = set(r["ids_after"])
            exact = r["opened"] == ["T41"] and r["closed"] == ["T05"] and "T41" in ids and "T05" not in ids
            checks += [("CLI <= 30 s", r["cli_seconds"] <= 30.0), ("opened/closed exactly as asked", exact)]
    else:  # several metrics: against the bound that brings all of them within at once
        joint = r.get("moved_over_joint")
        figures += (f"\n    lower bound (moves only between bordering territories, all balanced metrics): "
                    f"{r['joint_lower_bound_share']:.1%} ({joint:.3f}x)" if joint else "")
        checks = [("converges (within 5% on every metric)", r["within_tolerance"]),
                  ("moved <= 1.3x its bound (all balanced metrics)" if joint else "moved <= 1.3x bordering",
                   (joint if joint else ratio) <= 1.3)]
    parts = "; ".join(f"{label}: {_met(ok)}" for label, ok in checks)
    reach = r.get("free_moves_vs_current")
    if name.startswith("points") and reach is not None and r["compactness_vs_current"] > 1.0 + 1e-9 and reach > 1.0:
        parts += (f" (compactness: out of reach on this case, even the free-moves reference ends {reach:.3f}x "
                  f"current moving {r['free_moves_moved_share']:.1%}; ours {r['compactness_vs_current']:.3f}x)")
    return f"{name}: {figures}\n    targets: {parts} -> {_met(all(ok for _, ok in checks))}"


def main(argv=None) -> int:
    """Run the realignment benchmark cases; print the figures and a met/MISSED line per target."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks realign", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller points cases; no counties")
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    args = parser.parse_args(argv)
    table = QUICK_CASES if args.quick else CASES
    names = args.case or list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        print(f"error: unknown case {unknown}; choose from {', '.join(table)}", file=sys.stderr)
        return 2
    return run_cases(names, lambda name: run_case(name, quick=args.quick), verdict)
