"""Build the bundled sample data (``data/``) from the raw public files, deterministically.

Run ``python -m workbench.sample [--raw DIR] [--out DIR]`` (or ``make sample``).
The raw folder defaults to ``$WORKBENCH_RAW_DATA`` or ``<repo>/../shared/data``;
the output to ``<repo>/data`` in a checkout. An installed workbench has no
repository to write into and never writes into its own package folder
(site-packages): pass ``--out DIR`` there. The same inputs and seed give
byte-identical files.

Written files (see ``data/README.md`` for the column dictionary):

- ``geo/counties.gpkg``, ``geo/states.gpkg``, ``geo/zip_points.csv.gz``
- ``sample/accounts.csv``, ``sample/reps.csv``, ``sample/county_territories.csv``
"""

from __future__ import annotations

import gzip
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from workbench import bundled
from workbench.errors import InputError
from workbench.safeio import atomic_path, sha256_file
from workbench.sample.accounts import SURNAMES, describe_accounts, place_accounts
from workbench.sample.alignment import aged_workload, current_alignment
from workbench.sample.geodata import (
    COUNTIES_FILE, POPULATION_FILE, STATE_ABBREVIATIONS, STATES_FILE, ZIP_FILE, build_counties, build_states,
    locate_zips, read_zip_points,
)
from workbench.schema import (
    ACCOUNT_ID, CAPACITY_HOURS, COUNTY_FIPS, CURRENT_TERRITORY, HOME_CITY, LATITUDE, LONGITUDE, REP_ID,
    REP_NAME, STATE, TERRITORY_ID, WORKLOAD, ZIP,
)

REPO_DIR = bundled.REPO_DIR
#: ``<repo>/data`` in a checkout; None when installed (then an output folder must be given).
DEFAULT_OUT_DIR = REPO_DIR / "data" if bundled.IN_REPOSITORY else None
RAW_ENV = "WORKBENCH_RAW_DATA"

SEED = 20240501
N_ACCOUNTS = 25_000
N_TERRITORIES = 40
#: Business grew faster than population: old workload = present * (pop2010/pop2019) ** this.
GROWTH_EXPONENT = 3.0
CAPACITY_RANGE = (1600, 1800)
#: Timestamp GDAL writes into GeoPackages, fixed so rebuilds are byte-identical.
GPKG_DATE = "2017-01-01T00:00:00.000Z"

RELATIVE_PATHS = {
    "counties": Path("geo/counties.gpkg"),
    "states": Path("geo/states.gpkg"),
    "zip_points": Path("geo/zip_points.csv.gz"),
    "accounts": Path("sample/accounts.csv"),
    "reps": Path("sample/reps.csv"),
    "county_territories": Path("sample/county_territories.csv"),
}

_FIRST_NAMES = np.array([
    "Alex", "Maria", "James", "Priya", "Daniel", "Aisha", "Michael", "Sofia", "David", "Grace",
    "Carlos", "Emily", "Kevin", "Hannah", "Luis", "Olivia", "Ryan", "Mei", "Jordan", "Rachel",
    "Marcus", "Laura", "Tyler", "Fatima", "Eric", "Julia", "Brandon", "Nina", "Sean", "Chloe",
    "Omar", "Megan", "Victor", "Elena", "Nathan", "Tessa", "Derek", "Amara", "Paul", "Irene",
])


def default_raw_dir() -> Path:
    """Raw data folder: ``$WORKBENCH_RAW_DATA`` if set, else ``<repo>/../shared/data``.

    Examples
    --------
    >>> isinstance(default_raw_dir(), Path)
    True
    """
    env = os.environ.get(RAW_ENV)
    return Path(env) if env else REPO_DIR.parent / "shared" / "data"


@dataclass
class BuildSummary:
    """What a build wrote and the figures worth checking."""

    out_dir: Path
    counts: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    fixes: dict = field(default_factory=dict)
    sha256: dict = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"sample data built in {self.seconds:.1f} s -> {self.out_dir}"]
        lines += [f"  {k}: {v:,}" for k, v in self.counts.items()]
        lines += [f"  {k}: {v}" for k, v in self.figures.items()]
        lines += [f"  fix {k}: {v}" for k, v in self.fixes.items()]
        lines += [f"  sha256 {v}  {k}" for k, v in self.sha256.items()]
        return "\n".join(lines)


def _check_raw(raw_dir: Path) -> None:
    missing = [n for n in (COUNTIES_FILE, STATES_FILE, POPULATION_FILE, ZIP_FILE) if not (raw_dir / n).is_file()]
    if missing:
        raise InputError(
            f"raw data folder {raw_dir} lacks {missing}; pass --raw DIR or set {RAW_ENV} "
            "to the folder described in shared/data/SOURCES.md"
        )


def _write_csv(frame: pd.DataFrame, path: Path, compress: bool = False) -> None:
    text = frame.to_csv(index=False, lineterminator="\n")
    data = text.encode("utf-8")
    if compress:
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
            gz.write(data)
        data = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        tmp.chmod(0o644)


def _write_gpkg(frame, path: Path, layer: str) -> None:
    # GDAL stamps GeoPackages with the current time; pin it for this write only.
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
        frame.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
        tmp.unlink(missing_ok=True)


def build_reps(territories: pd.Series, zips: pd.DataFrame, rng) -> pd.DataFrame:
    """One rep per territory, living at the most populous ZIP point of the territory.

    ``territories`` maps ``county_fips`` to territory id; ``zips`` are ZIP points
    with the containing ``county_fips`` and ``county_state``. Names and
    capacities (1,600-1,800 h in steps of 20) are drawn from ``rng``.

    Examples
    --------
    >>> territories = pd.Series({"00001": "T01", "00002": "T02"})
    >>> zips = pd.DataFrame({"zip": ["00100", "00101", "00200"],
    ...     "county_fips": ["00001", "00001", "00002"], "county_state": ["KS", "KS", "NE"],
    ...     "primary_city": ["Hays", "Victoria", "McCook"], "population": [900, 300, 500],
    ...     "latitude": [40.0, 40.1, 41.0], "longitude": [-100.0, -100.1, -101.0]})
    >>> build_reps(territories, zips, np.random.default_rng(0))[["rep_id", "territory_id", "home_city"]]
      rep_id territory_id   home_city
    0    R01          T01    Hays, KS
    1    R02          T02  McCook, NE
    """
    located = zips.assign(territory=zips[COUNTY_FIPS].map(territories)).dropna(subset=["territory"])
    located = located.sort_values(["territory", "population", ZIP], ascending=[True, False, True], kind="stable")
    homes = located.drop_duplicates("territory").set_index("territory").reindex(sorted(set(territories)))
    if homes[ZIP].isna().any():
        raise InputError(f"territories without a populated ZIP point: {homes.index[homes[ZIP].isna()][:5].tolist()}")
    n = len(homes)
    first = rng.choice(_FIRST_NAMES, size=n, replace=False)
    last = rng.choice(SURNAMES, size=n, replace=False)
    capacity = rng.choice(np.arange(CAPACITY_RANGE[0], CAPACITY_RANGE[1] + 1, 20), size=n)
    city = homes["primary_city"] + ", " + homes["county_state"]
    return pd.DataFrame({
        REP_ID: [f"R{i:02d}" for i in range(1, n + 1)],
        REP_NAME: first + " " + last,
        TERRITORY_ID: homes.index.to_numpy(),
        LATITUDE: homes[LATITUDE].round(6).to_numpy(),
        LONGITUDE: homes[LONGITUDE].round(6).to_numpy(),
        HOME_CITY: city.to_numpy(),
        CAPACITY_HOURS: capacity.astype("int64"),
    })


def build_sample(raw_dir=None, out_dir=None, *, seed: int = SEED, n_accounts: int = N_ACCOUNTS) -> BuildSummary:
    """Build every bundled file from the raw public data; return a :class:`BuildSummary`.

    Examples
    --------
    >>> summary = build_sample("/tmp/raw", "/tmp/out")  # doctest: +SKIP
    >>> summary.counts["accounts"]  # doctest: +SKIP
    25000
    """
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, int | np.integer):
        raise TypeError(f"n_accounts must be an int, got {type(n_accounts).__name__}")
    if n_accounts < N_TERRITORIES:
        raise InputError(f"n_accounts must be at least {N_TERRITORIES}, got {n_accounts}")
    started = time.perf_counter()
    if out_dir is None and DEFAULT_OUT_DIR is None:
        raise InputError(
            f"no output folder: this workbench is installed ({Path(__file__).resolve().parents[1]}), not a checkout, "
            "and the sample is never written into the installed package; pass --out DIR")
    raw_dir = Path(raw_dir) if raw_dir is not None else default_raw_dir()
    out_dir = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    _check_raw(raw_dir)
    rng = np.random.default_rng(seed)

    counties, ages, fixes = build_counties(raw_dir)
    graph = fixes.pop("adjacency")
    states = build_states(raw_dir)
    zips = read_zip_points(raw_dir)

    located = zips.assign(**{COUNTY_FIPS: locate_zips(zips, counties)})
    populated = located["population"].fillna(0) > 0
    lower48 = located[STATE].isin(STATE_ABBREVIATIONS.values()) & (located["zip_type"] == "Standard")
    outside = located.loc[populated & lower48 & located[COUNTY_FIPS].isna()]
    fixes["standard_zips_outside_county_polygons"] = f"{len(outside)} ZIPs, {int(outside['population'].sum()):,} people (not sampled)"
    located = located.loc[located[COUNTY_FIPS].notna() & populated]
    located = located.assign(county_state=located[COUNTY_FIPS].map(counties.set_index(COUNTY_FIPS)[STATE]))
    standard = located.loc[located["zip_type"] == "Standard"]
    table_county = zips.set_index(ZIP)[COUNTY_FIPS].reindex(standard[ZIP]).to_numpy()
    fixes["candidate_zips_in_other_county_polygon"] = int((table_county != standard[COUNTY_FIPS].to_numpy()).sum())

    picked, placement = place_accounts(standard, counties, n_accounts, rng)
    accounts = describe_accounts(picked, rng)

    county_workload = accounts.groupby(COUNTY_FIPS)[WORKLOAD].sum()
    territories = current_alignment(counties, county_workload, ages, graph, N_TERRITORIES, GROWTH_EXPONENT)
    accounts[CURRENT_TERRITORY] = accounts[COUNTY_FIPS].map(territories)
    unassigned = accounts.loc[accounts[CURRENT_TERRITORY].isna(), ACCOUNT_ID]
    if len(unassigned):  # cannot happen with whole counties; never write such a sample
        raise InputError(f"accounts {unassigned.head(5).tolist()} got no current territory")
    reps = build_reps(territories, located, rng)

    paths = {key: out_dir / rel for key, rel in RELATIVE_PATHS.items()}
    _write_gpkg(counties, paths["counties"], "counties")
    _write_gpkg(states, paths["states"], "states")
    _write_csv(zips, paths["zip_points"], compress=True)
    _write_csv(accounts, paths["accounts"])
    _write_csv(reps, paths["reps"])
    _write_csv(territories.reset_index(), paths["county_territories"])

    loads = accounts.groupby(CURRENT_TERRITORY)[WORKLOAD].sum()
    deviation = loads / loads.mean() - 1
    old_loads = aged_workload(county_workload, ages, GROWTH_EXPONENT).groupby(territories).sum()
    old_deviation = old_loads / old_loads.mean() - 1
    summary = BuildSummary(out_dir=out_dir, fixes=fixes)
    summary.counts = {
        "counties": len(counties), "states": len(states), "zip_points": len(zips),
        "candidate_zips": len(standard), "accounts": len(accounts), "reps": len(reps),
        "territories": int(loads.size),
    }
    summary.figures = {
        "segments": accounts["segment"].value_counts(normalize=True).round(3).to_dict(),
        "total_workload_h": round(float(accounts[WORKLOAD].sum()), 1),
        "mean_territory_workload_h": round(float(loads.mean()), 1),
        "total_capacity_h": int(reps[CAPACITY_HOURS].sum()),
        "workload_deviation_min_max": (round(float(deviation.min()), 3), round(float(deviation.max()), 3)),
        "max_abs_workload_deviation": round(float(deviation.abs().max()), 3),
        "old_workload_deviation_min_max": (round(float(old_deviation.min()), 3),
                                           round(float(old_deviation.max()), 3)),
        "largest_territories_now": deviation.sort_values(ascending=False).head(3).round(3).to_dict(),
        "accounts_redrawn_first_round": placement["redrawn"],
        "accounts_at_zip_point": placement["at_zip_point"],
    }
    summary.sha256 = {str(rel): sha256_file(out_dir / rel) for rel in RELATIVE_PATHS.values()}
    summary.seconds = time.perf_counter() - started
    return summary
