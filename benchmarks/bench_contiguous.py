"""Contiguous territories on the lower-48 counties, against plain scikit-learn KMeans.

One "account" per county (its centroid, with 2019 population as the metric),
20 territories within 10%: target 10 s or less for the fit, contiguous, every
territory within the tolerance. KMeans on county centroids weighted by
population is timed on the same data; its balance and contiguity are
measured the same way.

Run ``python -m benchmarks contiguous`` or ``python -m benchmarks.bench_contiguous``
(options: ``--n-territories 20 --tolerance 0.10 --also-tolerance 0.05``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_OUTSIDE_LOWER_48 = ("02", "15", "60", "66", "69", "72", "78")


def counties():
    """Lower-48 + DC counties with ``county_fips``, ``population_2019`` and geometry (EPSG:4326).

    The bundled layer when it exists, else built from the raw public files as
    described in ``shared/data/SOURCES.md``.
    """
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


def kmeans_baseline(accounts, n_territories, graph):
    """Population-weighted KMeans on unit-sphere centroids: seconds, max deviation, contiguity."""
    from sklearn.cluster import KMeans

    from workbench import metrics
    from workbench.align._partition import is_contiguous
    from workbench.geo import to_unit_xyz

    start = time.perf_counter()
    xyz = to_unit_xyz(accounts["latitude"], accounts["longitude"])
    labels = KMeans(n_clusters=n_territories, n_init=4, random_state=0).fit_predict(
        xyz, sample_weight=accounts["population"].to_numpy())
    seconds = time.perf_counter() - start
    position = {b: i for i, b in enumerate(accounts["county_fips"])}
    edges = np.array([[position[a], position[b]] for a, b in graph.edges], dtype=np.int64)
    deviation = metrics.max_deviation(accounts, labels, ["population"])["population"]
    compact = metrics.overall_compactness_km(accounts, labels.astype(str), "population")
    return seconds, deviation, is_contiguous(len(accounts), edges, labels), compact


def run_case(accounts, blocks, n_territories, tolerance):
    """Fit ContiguousTerritories once; return (seconds, report)."""
    from workbench.align.contiguous import ContiguousTerritories

    model = ContiguousTerritories(n_territories=n_territories, balance_on="population", tolerance=tolerance,
                                  block_col="county_fips")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(accounts, blocks=blocks)
    return time.perf_counter() - start, model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks contiguous", description=__doc__.splitlines()[0])
    parser.add_argument("--n-territories", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=0.10)
    parser.add_argument("--also-tolerance", type=float, nargs="*", default=[0.05],
                        help="extra tolerances to time (not part of the target)")
    parser.add_argument("--target-seconds", type=float, default=10.0)
    parser.add_argument("--sample", action="store_true",
                        help="also align the bundled 25,000 sample accounts on counties (40 territories, 10%%) "
                             "and group them into regions and areas")
    parser.add_argument("--quick", action="store_true",
                        help="only the target case (no extra tolerances, no sample), as `python -m benchmarks --quick`")
    args = parser.parse_args(argv)
    if args.quick:
        args.also_tolerance, args.sample = [], False

    start = time.perf_counter()
    blocks, source = counties()
    accounts = county_accounts(blocks)
    load_seconds = time.perf_counter() - start
    print(f"counties: {len(blocks)} blocks from {source}, population {accounts['population'].sum():,.0f} "
          f"(loaded in {load_seconds:.2f} s)")

    ok = True
    for i, tolerance in enumerate([args.tolerance, *args.also_tolerance]):
        seconds, model = run_case(accounts, blocks, args.n_territories, tolerance)
        report = model.report_
        deviation = report.max_deviation["population"]
        counted = accounts["account_id"].nunique() == len(model.labels_) and pd.notna(model.labels_).all()
        line = (f"contiguous, {args.n_territories} territories, tolerance {tolerance:.0%}: {seconds:.2f} s "
                f"(includes building the adjacency), max deviation {deviation:.2%}, contiguous "
                f"{'yes' if report.contiguous else 'NO'}, compactness {report.compactness_km:.0f} km, "
                f"rounds {report.n_iter}, every county assigned {'yes' if counted else 'NO'}")
        if i == 0:
            met = seconds <= args.target_seconds and report.contiguous and deviation <= tolerance + 1e-9
            ok &= bool(met)
            line += f"  -> target (<= {args.target_seconds:.0f} s, contiguous, within {tolerance:.0%}): " \
                    f"{'met' if met else 'MISSED'}"
        print(line)
    km_seconds, km_dev, km_contiguous, km_compact = kmeans_baseline(accounts, args.n_territories, model.adjacency_)
    print(f"sklearn KMeans (population-weighted, on county centroids): {km_seconds:.2f} s, max deviation "
          f"{km_dev:.2%}, contiguous {'yes' if km_contiguous else 'no'}, compactness {km_compact:.0f} km")
    if args.sample:
        sample_case(blocks)
    return 0 if ok else 1


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
              f"contiguous {'yes' if report.contiguous else 'NO'}{moved}")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_hierarchy(accounts, model.labels_, {"region": 5, "area": 2}, adjacency=model.adjacency_)
    print(f"regions and areas of those territories: {time.perf_counter() - start:.2f} s, "
          f"territories per region {table['region'].value_counts().sort_index().tolist()}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
