"""Contiguous territories: feasibility, dispersion against a strong reference, and seconds.

Three kinds of cases, each fitted with :class:`ContiguousTerritories` at its
default improvement budget:

1. **Literature-style commercial territory design instances** (as in
   Rios-Mercado & Fernandez's reactive GRASP and the ALNS that followed it):
   ``n`` units uniformly in ``[0, 500]^2`` (km), three activity measures from
   uniform ranges (customers U[4, 20], demand U[15, 400], workload U[15, 100])
   each balanced within 5%, planar Delaunay adjacency, 60 to 200 units into
   4 to 13 territories. Dispersion is the literature's: the sum over units of
   the distance to their territory's median unit (``objective="median"``).
2. **The 3,107 lower-48 counties** into 20 and 40 territories balanced on
   2019 population within 10%, default objective (the mean distance of the
   counties to their territory's centre).
3. **ZIP areas** (``workbench.bundled.load_zip_areas()``, 31,682 blocks): the
   bundled 25,000 sample accounts balanced on workload within 5%, fresh into
   40 territories and from their current territories (notebook 02's case).

Each literature and county case is compared with the plan of the same
estimator without the improvement phase (``max_seconds=0``, today's
"before", measured in the same run) and with a **reference**: the best plan
known, from long multi-start runs of the same search (``--reference-starts``
fits from different seeds, hence different starts, each with
``--reference-seconds`` of search). ``--write-reference`` adds such runs to
``benchmarks/contiguous_reference.json`` and keeps, per case, the best of
the stored value and the new runs (so the reference only gets stronger;
``"command"`` in the file lists the runs that built it). For the smallest
instances (``--exact-seconds S``, at most ``--exact-max-units`` units) an
exact model joins them: the p-median districting program with the three
bands and flow contiguity (:mod:`workbench.align._districting_mip`), solved
by HiGHS for ``S`` seconds from the measured plan. It is a plan from outside
the search and a **lower bound** on every plan (``"lower_bound"`` in the
file, kept at its strongest); where one is stored the benchmark prints how
far above the optimum ours and the reference can at most be. The instances are
rebuilt from their seeds and checked against a fingerprint; a mismatch
computes the reference in the run instead. Targets, each printed met/MISSED:

- every instance feasible (every metric within the tolerance) and connected;
- deterministic: a second fit of every literature instance with the same
  ``random_state`` and budget gives the same plan;
- dispersion within 1% of the reference at the default budget;
- 200 units in under 5 s;
- counties into 20 territories within 10% in under 10 s;
- ZIP areas: within 5% and connected, in under 60 s.

Run ``python -m benchmarks contiguous`` (about 5 minutes; ``--quick``: three
instances and counties into 20 only, no ZIP areas; ``--write-reference
--reference-first-seed S``: add long runs from seeds ``S, S+1, ...`` to the
reference file, about 2 minutes per instance per 5 starts of 20 s;
``--instances 150/12,60/4``: only those literature instances, e.g. to give their reference
longer runs; ``--sample``: also the bundled sample accounts on counties).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REFERENCE = Path(__file__).resolve().parent / "contiguous_reference.json"
_OUTSIDE_LOWER_48 = ("02", "15", "60", "66", "69", "72", "78")
KM_PER_DEGREE = 6371.0088 * np.pi / 180

#: (units, territories, seed) of the literature-style instances.
INSTANCES = [(60, 4, 1), (60, 6, 2), (80, 5, 3), (100, 6, 4), (100, 8, 5), (120, 8, 6), (150, 10, 7),
             (150, 12, 8), (200, 4, 9), (200, 8, 10), (200, 10, 11), (200, 13, 12)]
QUICK_INSTANCES = [(60, 4, 1), (150, 10, 7), (200, 13, 12)]
METRICS = ("customers", "demand", "workload")
RANGES = ((4, 20), (15, 400), (15, 100))
TOLERANCE = 0.05
COUNTY_CASES = ((20, 0.10), (40, 0.10))
#: ZIP areas: the sample accounts balanced on workload within this tolerance, in under this many seconds.
ZIP_TOLERANCE = 0.05
ZIP_SECONDS = 60.0


# --------------------------------------------------------------------------- instances


def literature_instance(n: int, n_territories: int, seed: int):
    """Units (accounts frame, one per unit), their planar km coordinates and the Delaunay graph.

    The square is centred on (0, 0) latitude/longitude with 1 km = 1/111.2 degree, so
    great-circle distances match the planar ones within 0.1%.
    """
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, (n, 2))
    values = np.column_stack([rng.uniform(lo, hi, n) for lo, hi in RANGES])
    simplices = Delaunay(xy).simplices
    pairs = np.unique(np.sort(np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]]),
                              axis=1), axis=0)
    ids = [f"u{i:03d}" for i in range(n)]
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((ids[a], ids[b]) for a, b in pairs)
    accounts = pd.DataFrame({"account_id": ids, "unit": ids,
                             "latitude": (xy[:, 1] - 250) / KM_PER_DEGREE,
                             "longitude": (xy[:, 0] - 250) / KM_PER_DEGREE})
    for name, column in zip(METRICS, values.T):
        accounts[name] = column
    fingerprint = round(float(xy.sum() + values.sum()), 6)
    return accounts, xy, graph, fingerprint


def median_dispersion(labels, xy) -> float:
    """Sum over units of the planar distance to their territory's median unit."""
    from workbench.align.dispersion import dispersion

    codes = pd.factorize(np.asarray(labels))[0]
    return dispersion(codes, xy, "median")


def counties():
    """Lower-48 + DC counties with ``county_fips``, ``population_2019`` and geometry (EPSG:4326)."""
    import geopandas as gpd

    try:
        from workbench.bundled import load_counties

        frame = load_counties()
        return frame[["county_fips", "population_2019", "geometry"]].copy(), "bundled data/geo/counties.gpkg"
    except Exception:  # the bundled layer may not exist yet
        pass
    frame = gpd.read_file(RAW / "counties-10m.json", layer="counties").set_crs(4326)
    frame = frame[~frame["id"].str[:2].isin(_OUTSIDE_LOWER_48)].copy()
    frame["geometry"] = frame.geometry.make_valid()
    population = pd.read_csv(RAW / "us_county_population_2019.csv", encoding="latin-1", dtype={"fips": str})
    population = population.set_index("fips")["pop2019"]
    population.loc["51059"] += population.get("51610", 0)  # Falls Church is empty after simplification
    frame = frame[frame["id"] != "51610"]
    frame = frame.rename(columns={"id": "county_fips"})
    frame["population_2019"] = frame["county_fips"].map(population).fillna(0).astype(int)
    return frame[["county_fips", "population_2019", "geometry"]].reset_index(drop=True), "raw counties-10m.json"


def county_accounts(blocks) -> pd.DataFrame:
    """One account per county at its centroid, population as the metric."""
    import shapely

    centroid = shapely.centroid(blocks.geometry.to_numpy())
    return pd.DataFrame({
        "account_id": blocks["county_fips"].to_numpy(),
        "county_fips": blocks["county_fips"].to_numpy(),
        "latitude": shapely.get_y(centroid),
        "longitude": shapely.get_x(centroid),
        "population": blocks["population_2019"].to_numpy(dtype=float),
    })


def zip_areas():
    """Bundled approximate ZIP areas (``zip``, geometry; built and cached on first use), or None without them."""
    import workbench.bundled as bundled

    loader = getattr(bundled, "load_zip_areas", None)
    return None if loader is None else loader()


# --------------------------------------------------------------------------- fitting


def fit(accounts, *, n_territories, balance_on, tolerance, block_col, blocks=None, adjacency=None,
        objective="weighted", random_state=0, max_seconds="default"):
    """Fit ContiguousTerritories; return (seconds, model). ``max_seconds="default"``: the estimator's default."""
    from workbench.align.contiguous import ContiguousTerritories

    extra = {} if max_seconds == "default" else {"max_seconds": max_seconds}
    model = ContiguousTerritories(n_territories=n_territories, balance_on=balance_on, tolerance=tolerance,
                                  block_col=block_col, adjacency=adjacency, objective=objective,
                                  random_state=random_state, **extra)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(accounts, blocks=blocks)
    return time.perf_counter() - start, model


def connected(model) -> bool:
    """Every territory's blocks connected in the graph the fit used."""
    graph = model.adjacency_
    return all(nx.is_connected(graph.subgraph(group.index.tolist()))
               for _, group in model.block_labels_.groupby(model.block_labels_))


def reference_run(accounts, xy, graph, k, seed, seconds) -> float:
    """One long run of the search from a start of its own; the median dispersion of its plan (inf if infeasible).

    The start is the bisection with its cuts turned at random by ``seed``
    (as the estimator's restarts do), repaired into the tolerance by the
    search's repair stage; the search then runs ``seconds`` on the planar
    coordinates, i.e. on exactly the dispersion this benchmark measures.
    Different seeds give different starts: a genuine multi-start.
    """
    from workbench.align._partition import partition
    from workbench.align.contiguous_search import connected_parts, improve_partition, rebalance
    from workbench.geo import to_unit_xyz

    index = {unit: i for i, unit in enumerate(accounts["unit"])}
    edges = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64)
    values = accounts[list(METRICS)].to_numpy(dtype=float)
    weights = values / values.sum(axis=0) * k
    xyz = to_unit_xyz(accounts["latitude"].to_numpy(), accounts["longitude"].to_numpy())
    start = partition(k, edges, weights, xyz, tolerance=TOLERANCE, max_iter=100, polish=False,
                      rng=np.random.default_rng(seed), random_state=seed)
    labels = start.labels
    if not start.converged:
        labels = rebalance(labels, edges, weights, xy, tolerance=TOLERANCE, objective="median",
                           max_seconds=seconds / 4, random_state=seed)
    result = improve_partition(labels, edges, weights, xy, tolerance=TOLERANCE, objective="median",
                               max_seconds=seconds, random_state=seed)
    loads = np.zeros((k, len(METRICS)))
    np.add.at(loads, result.labels, weights)
    feasible = bool((np.abs(loads - 1.0) <= TOLERANCE + 1e-9).all()) and len(np.unique(result.labels)) == k
    return median_dispersion(result.labels, xy) if feasible and connected_parts(result.labels, edges) else np.inf


def exact_run(accounts, xy, graph, k, start, seconds):
    """The exact model from ``start``: (dispersion or inf, lower bound, HiGHS's status).

    The p-median districting model with the three bands and flow contiguity
    (:func:`workbench.align._districting_mip.solve_districting`), given
    ``seconds`` of HiGHS's clock: an offline reference, run once, whose value
    and bound the reference file stores. Its plan is checked here as every
    reference run's is (every metric within the tolerance, every territory
    connected) and scored with the benchmark's own :func:`median_dispersion`.
    """
    from workbench.align._districting_mip import solve_districting
    from workbench.align.contiguous_search import connected_parts

    index = {unit: i for i, unit in enumerate(accounts["unit"])}
    edges = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64)
    values = accounts[list(METRICS)].to_numpy(dtype=float)
    start = pd.factorize(np.asarray(start))[0]
    mean = values.sum(axis=0) / k
    solved = solve_districting(xy, values, edges, k, mean * (1 - TOLERANCE), mean * (1 + TOLERANCE), start=start,
                               time_limit=seconds)
    labels, bound, status = solved.labels, solved.bound, solved.status
    if labels is None:
        return np.inf, bound, status
    loads = np.zeros((k, values.shape[1]))
    np.add.at(loads, labels, values)
    feasible = bool((np.abs(loads / (values.sum(axis=0) / k) - 1) <= TOLERANCE + 1e-9).all())
    ok = feasible and len(np.unique(labels)) == k and connected_parts(labels, edges)
    return (median_dispersion(labels, xy) if ok else np.inf), bound, status


def reference_value(runs) -> float:
    return float(min(runs))


def merge_reference(stored: dict, new: dict) -> dict:
    """``stored`` with every case of ``new`` that it lacks, that is for another instance, or that ``new`` beats."""
    merged = dict(stored)
    for section, field, same in (("instances", "dispersion", "fingerprint"), ("counties", "compactness_km", "blocks")):
        cases = dict(merged.get(section, {}))
        for key, value in new.get(section, {}).items():
            old = cases.get(key)
            if old is None or old.get(same) != value.get(same) or value[field] < old[field]:
                cases[key] = value
            bounds = [case["lower_bound"] for case in (old, value)
                      if case is not None and case.get(same) == value.get(same) and "lower_bound" in case]
            if bounds:  # a lower bound only gets stronger too
                cases[key] = {**cases[key], "lower_bound": max(bounds)}
        merged[section] = cases
    return merged


def load_reference() -> dict:
    if not REFERENCE.exists():
        return {}
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- cases


def literature_case(n, k, seed, reference, args):
    """One literature-style instance: returns (line, targets met)."""
    accounts, xy, graph, fingerprint = literature_instance(n, k, seed)
    common = dict(n_territories=k, balance_on=list(METRICS), tolerance=TOLERANCE, block_col="unit",
                  adjacency=graph, objective="median")
    _, before = fit(accounts, max_seconds=0, **common)
    seconds, model = fit(accounts, max_seconds=args.max_seconds, **common)
    # Deterministic for a given random_state, under the budget too (it is a budget of work, not a clock).
    _, again = fit(accounts, max_seconds=args.max_seconds, **common)
    repeatable = bool(again.block_labels_.equals(model.block_labels_))
    value = median_dispersion(model.block_labels_.reindex(accounts["unit"]).to_numpy(), xy)
    start = median_dispersion(before.block_labels_.reindex(accounts["unit"]).to_numpy(), xy)
    key = f"units{n}-territories{k}-seed{seed}"
    stored = reference.get("instances", {}).get(key)
    if stored is not None and stored.get("fingerprint") != fingerprint:
        stored = None  # the instance generator changed: the stored value is for another instance
    bound = None if stored is None else stored.get("lower_bound")
    if args.write_reference or stored is None:
        runs = [value] + ([] if stored is None else [stored["dispersion"]])
        for s in range(args.reference_starts):
            runs.append(reference_run(accounts, xy, graph, k, args.reference_first_seed + s, args.reference_seconds))
        entry = {"units": n, "territories": k, "seed": seed, "fingerprint": fingerprint}
        if args.exact_seconds and n <= args.exact_max_units:
            labels = model.block_labels_.reindex(accounts["unit"]).to_numpy()
            exact, new_bound, status = exact_run(accounts, xy, graph, k, labels, args.exact_seconds)
            runs.append(exact)
            bound = new_bound if bound is None else max(bound, new_bound)
            print(f"    exact model: {exact:,.0f}, lower bound {new_bound:,.0f} ({status})", flush=True)
        if bound is not None:
            entry["lower_bound"] = bound
        ref = reference_value(runs)
        source = "computed now"
        reference.setdefault("instances", {})[key] = {**entry, "dispersion": ref}
    else:
        ref, source = stored["dispersion"], "stored"
    line, ok = case_line(f"{n} units into {k}", model, seconds, value, start, ref, source,
                         max(model.report_.max_deviation.values()), TOLERANCE, 5.0 if n >= 200 else None,
                         connected(model), repeatable)
    if bound is not None:
        line += (f"\n    (exact model's lower bound {bound:,.0f}: ours at most {value / bound - 1:+.1%} above the "
                 f"optimum, the reference at most {ref / bound - 1:+.1%})")
    return line, ok


def case_line(name, model, seconds, value, start, ref, source, deviation, tolerance, time_target, is_connected,
              repeatable=None):
    feasible = deviation <= tolerance + 1e-9
    gap = value / ref - 1 if ref > 0 else 0.0
    met = {"feasible and connected": feasible and is_connected, "within 1% of reference": gap <= 0.01 + 1e-12}
    if repeatable is not None:
        met["same plan on a second fit"] = repeatable
    if time_target is not None:
        met[f"under {time_target:.0f} s"] = seconds < time_target
    search = model.report_.dispersion["search"] or {}
    line = (f"{name}: {seconds:5.2f} s (search {search.get('seconds', 0):.2f} s, {search.get('stopped', 'off')}), "
            f"max deviation {deviation:.1%}, connected {'yes' if is_connected else 'NO'}, dispersion {value:,.0f} "
            f"(before the phase {start:,.0f}: {value / start - 1:+.1%}; reference {ref:,.0f} {source}: {gap:+.2%})")
    line += "  -> " + ", ".join(f"{label}: {'met' if ok else 'MISSED'}" for label, ok in met.items())
    return line, all(met.values())


def county_case(blocks, accounts, k, tolerance, reference, args):
    common = dict(n_territories=k, balance_on="population", tolerance=tolerance, block_col="county_fips",
                  blocks=blocks)
    _, before = fit(accounts, max_seconds=0, **common)
    seconds, model = fit(accounts, max_seconds=args.max_seconds, **common)
    value, start = model.report_.compactness_km, before.report_.compactness_km
    key = f"counties-{k}-tolerance{tolerance:g}"
    stored = reference.get("counties", {}).get(key)
    if stored is not None and stored.get("blocks") != len(blocks):
        stored = None
    if args.write_reference or stored is None:
        runs = [value] + ([] if stored is None else [stored["compactness_km"]])
        for s in range(args.reference_starts):
            _, long = fit(accounts, random_state=args.reference_first_seed + s,
                          max_seconds=args.reference_seconds * 2, **common)
            runs.append(long.report_.compactness_km)
        ref, source = reference_value(runs), "computed now"
        reference.setdefault("counties", {})[key] = {"blocks": len(blocks), "compactness_km": ref}
    else:
        ref, source = stored["compactness_km"], "stored"
    deviation = model.report_.max_deviation["population"]
    giant = next((w for w in model.report_.warnings if w.startswith("population: block")), None)
    line, ok = case_line(f"counties into {k} within {tolerance:.0%}", model, seconds, value, start, ref, source,
                         deviation, tolerance, 10.0 if k == 20 else None, model.report_.contiguous and connected(model))
    if giant is not None:
        rest = next((w.rsplit(" ", 1)[-1] for w in model.report_.warnings if w.startswith("apart from")), "n/a")
        line += (f"\n    (no plan can be feasible: {giant.split(';')[0]}; the other territories' largest "
                 f"deviation from their own mean is {rest})")
    line = line.replace("dispersion ", "mean distance to centre km ", 1)
    return line, ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks contiguous", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three instances and counties into 20 only")
    parser.add_argument("--only", choices=("literature", "counties", "zip"),
                        help="run one kind of case only (e.g. to add reference runs for the instances alone)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="improvement budget of the measured fits (default: the estimator's default)")
    parser.add_argument("--write-reference", action="store_true",
                        help=f"recompute the reference (long multi-start runs) and write {REFERENCE.name}")
    parser.add_argument("--reference-seconds", type=float, default=20.0,
                        help="budget of each reference run (counties: twice this)")
    parser.add_argument("--reference-starts", type=int, default=3, help="seeds per reference")
    parser.add_argument("--reference-first-seed", type=int, default=100,
                        help="random_state of the first reference run (the others follow); a new range of seeds "
                             "adds new starts to the stored best")
    parser.add_argument("--exact-seconds", type=float, default=0.0,
                        help="with --write-reference: also solve the exact model (HiGHS, workbench.align._districting_mip) "
                             "of the instances of at most --exact-max-units units for this many seconds each, from the "
                             "measured plan; its plan and lower bound go into the reference")
    parser.add_argument("--exact-max-units", type=int, default=80,
                        help="largest instance given to the exact model (default 80)")
    parser.add_argument("--instances", default=None,
                        help="only these literature instances, as units/territories separated by commas (e.g. "
                             "150/12,60/4): to strengthen the reference of a few with longer runs")
    parser.add_argument("--sample", action="store_true",
                        help="also align the bundled sample accounts on counties (40 territories, 10%%) and group "
                             "them into regions and areas")
    args = parser.parse_args(argv)
    if args.max_seconds is None:
        args.max_seconds = "default"
    reference = load_reference()  # --write-reference keeps a stored value that no new run beats
    ok = True

    print(f"literature-style instances: uniform units in [0, 500]^2 km, {', '.join(METRICS)} each within "
          f"{TOLERANCE:.0%}, Delaunay adjacency; dispersion = sum of km to the territory's median unit")
    chosen = QUICK_INSTANCES if args.quick else INSTANCES
    if args.instances:
        wanted = {tuple(int(v) for v in item.split("/")) for item in args.instances.split(",")}
        unknown = wanted - {(n, k) for n, k, _ in INSTANCES}
        if unknown:
            parser.error(f"--instances: no instance {', '.join(f'{n}/{k}' for n, k in sorted(unknown))}; the "
                         f"instances are {', '.join(f'{n}/{k}' for n, k, _ in INSTANCES)}")
        chosen = [case for case in INSTANCES if case[:2] in wanted]
    for n, k, seed in chosen if args.only in (None, "literature") else ():
        line, met = literature_case(n, k, seed, reference, args)
        ok &= met
        print("  " + line, flush=True)

    if args.only in (None, "counties"):
        start = time.perf_counter()
        blocks, source = counties()
        accounts = county_accounts(blocks)
        print(f"counties: {len(blocks)} blocks from {source}, population {accounts['population'].sum():,.0f} "
              f"(loaded in {time.perf_counter() - start:.2f} s); dispersion = mean km of counties to the centre")
        for k, tolerance in COUNTY_CASES[:1] if args.quick else COUNTY_CASES:
            line, met = county_case(blocks, accounts, k, tolerance, reference, args)
            ok &= met if k == 20 else True  # counties into 40: reported; a giant county makes it infeasible
            print("  " + line, flush=True)

    areas = None if args.quick or args.only not in (None, "zip") else zip_areas()
    if areas is None and args.only in (None, "zip"):
        print("ZIP areas: " + ("skipped (--quick)" if args.quick else "the package has no ZIP areas: skipped"))
    elif areas is not None:
        accounts_zip = sample_accounts()
        print(f"ZIP areas: {len(areas):,} blocks (approximate ZIP areas), the bundled {len(accounts_zip):,} sample "
              f"accounts ({accounts_zip['zip'].nunique():,} ZIP codes) balanced on workload within {ZIP_TOLERANCE:.0%}")
        for label, params in (("fresh, 40 territories", {"n_territories": 40}),
                              ("from the current territories", {"current_col": "current_territory"})):
            line, met = zip_case(areas, accounts_zip, label, params)
            ok &= met
            print("  " + line, flush=True)
    if args.write_reference:
        command = ("python -m benchmarks contiguous --write-reference "
                   f"--reference-seconds {args.reference_seconds:g} --reference-starts {args.reference_starts} "
                   f"--reference-first-seed {args.reference_first_seed}")
        if args.exact_seconds:
            command += f" --exact-seconds {args.exact_seconds:g} --exact-max-units {args.exact_max_units}"
        if args.only:
            command += f" --only {args.only}"
        if args.instances:
            command += f" --instances {args.instances}"
        reference = merge_reference(load_reference(), reference)  # (another run may have written meanwhile)
        history = reference.get("commands", [reference["command"]] if "command" in reference else [])
        reference["commands"] = history + [command]
        reference["command"] = " && ".join(reference["commands"])
        REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {REFERENCE}")
    if args.sample:
        sample_case(blocks)
    print(f"all targets: {'met' if ok else 'MISSED (see above)'}")
    return 0 if ok else 1


def sample_accounts() -> pd.DataFrame:
    from workbench.bundled import sample_accounts_path

    return pd.read_csv(sample_accounts_path(), dtype={"county_fips": str, "zip": str})


def zip_case(areas, accounts, label, params):
    """One contiguous fit of the sample accounts on ZIP areas: (line, targets met)."""
    from workbench.align.contiguous import ContiguousTerritories

    model = ContiguousTerritories(balance_on="workload", tolerance=ZIP_TOLERANCE, block_col="zip", random_state=0,
                                  **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(accounts, blocks=areas)
    seconds = time.perf_counter() - start
    report = model.report_
    deviation = max(report.max_deviation.values())
    met = {f"within {ZIP_TOLERANCE:.0%} and connected": deviation <= ZIP_TOLERANCE + 1e-9 and report.contiguous,
           f"under {ZIP_SECONDS:.0f} s": seconds < ZIP_SECONDS}
    moved = "" if report.moved_share is None else f", moved {report.moved_share:.1%} of the workload"
    line = (f"{label}: {seconds:6.2f} s, max deviation {deviation:.1%}, connected "
            f"{'yes' if report.contiguous else 'NO'}{moved}, compactness {report.compactness_km:,.0f} km  -> "
            + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in met.items()))
    notes = [w for w in report.warnings if w.startswith("balancing from the current plan")]
    if notes:
        line += f"\n    ({notes[0]})"
    return line, all(met.values())


def sample_case(blocks, n_territories=40, tolerance=0.10):
    """The bundled sample accounts on counties: fresh, disruption-aware, then regions and areas."""
    from workbench.align.contiguous import ContiguousTerritories
    from workbench.align.hierarchy import build_hierarchy
    from workbench.bundled import sample_accounts_path

    accounts = pd.read_csv(sample_accounts_path(), dtype={"county_fips": str, "zip": str})
    for label, params in (("fresh", {"n_territories": n_territories}), ("from current", {"current_col": "current_territory"})):
        model = ContiguousTerritories(tolerance=tolerance, **params)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(accounts, blocks=blocks)
        report = model.report_
        rest = next((w.rsplit(" ", 1)[-1] for w in report.warnings if w.startswith("apart from")), "n/a")
        moved = "" if report.moved_share is None else \
            f", moved {report.moved_share:.1%} (lower bound {report.lower_bound_share:.1%})"
        print(f"sample {len(accounts):,} accounts, {label}, tolerance {tolerance:.0%}: {time.perf_counter() - start:.2f} s, "
              f"max deviation {report.max_deviation['workload']:.1%} (without the giant-block territories: {rest}), "
              f"contiguous {'yes' if report.contiguous else 'NO'}{moved}, compactness {report.compactness_km:.0f} km")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_hierarchy(accounts, model.labels_, {"region": 5, "area": 2}, adjacency=model.adjacency_)
    print(f"regions and areas of those territories: {time.perf_counter() - start:.2f} s, "
          f"territories per region {table['region'].value_counts().sort_index().tolist()}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
