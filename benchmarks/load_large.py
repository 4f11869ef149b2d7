"""Benchmark: load a 1,000,000-row accounts CSV; print seconds and peak memory.

    .venv/bin/python benchmarks/load_large.py [--rows 1000000] [--progress]

The CSV (about 100 MB, over the 50 MB threshold, so it is read in chunks) is
written to a temporary folder, then loaded in a fresh subprocess so the peak
resident memory (``resource.getrusage``) is that of the load alone.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_accounts(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write ``n_rows`` synthetic accounts in the continental US, a few with only a ZIP."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(25.0, 49.0, n_rows).round(6)
    lon = rng.uniform(-124.0, -67.0, n_rows).round(6)
    frame = pd.DataFrame({
        "account_id": np.char.add("A", np.arange(n_rows).astype(str).astype(object).astype(str)),
        "name": np.char.add("Account ", np.arange(n_rows).astype(str)),
        "latitude": lat,
        "longitude": lon,
        "zip": np.char.zfill(rng.integers(1000, 99950, n_rows).astype(str), 5),
        "county_fips": np.char.zfill(rng.integers(1001, 56045, n_rows).astype(str), 5),
        "segment": rng.choice(np.array(["SMB", "Mid", "Enterprise"]), n_rows),
        "revenue": rng.gamma(2.0, 50_000.0, n_rows).round(0),
        "potential": rng.gamma(2.0, 80_000.0, n_rows).round(0),
        "visits_per_year": rng.integers(1, 12, n_rows),
        "workload": rng.gamma(2.0, 1.5, n_rows).round(2),
        "current_territory": np.char.add("T", np.char.zfill((rng.integers(1, 200, n_rows)).astype(str), 3)),
    })
    frame.to_csv(path, index=False)


def load(path: Path, progress: bool) -> None:
    """Load ``path`` and print rows, seconds and peak RSS (runs in the subprocess)."""
    from workbench.io import load_accounts

    start = time.perf_counter()
    accounts, report = load_accounts(path, return_report=True, progress=progress)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    frame_mb = accounts.memory_usage(deep=True).sum() / 1024**2
    print(f"loaded {report.n_loaded:,} of {report.n_rows_read:,} rows in {seconds:.1f} s; "
          f"peak RSS {peak_mb:,.0f} MB; frame {frame_mb:,.0f} MB; dtypes: "
          f"{', '.join(f'{c}={t}' for c, t in accounts.dtypes.astype(str).items())}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load:
        load(args.load, args.progress)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts_large.csv"
        start = time.perf_counter()
        write_accounts(path, args.rows)
        print(f"wrote {args.rows:,} rows ({path.stat().st_size / 1024**2:,.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s")
        command = [sys.executable, __file__, "--load", str(path)] + (["--progress"] if args.progress else [])
        return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
