"""Benchmark: load a 1,000,000-row accounts CSV with bounded memory; print seconds, peak RSS and ratios.

    python -m benchmarks load [--rows 1000000] [--quick] [--no-progress] [--max-ratio 2.0]
    python -m benchmarks.bench_load            (the same, standalone)

The CSV (about 100 MB, over the 50 MB threshold, so it is read in chunks with
a progress bar) is written to a temporary folder. Two fresh subprocesses then
read it, so each peak resident memory (VmHWM) is that of one read alone:

* the baseline: a plain ``pandas.read_csv(path)`` (pandas' own type guessing);
* ``workbench.io.load_accounts(path)``: checks, typed ids, coordinates, metrics.

Printed: rows, seconds, peak RSS, the memory of the loaded frame, the ratio of
the peak to that frame (how much the load needs beyond its result) and to the
baseline's peak. The exit code is 1 when the load's peak exceeds
``--max-ratio`` (default 2.0) times the baseline's: the memory bound.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: Rows with ``--quick`` (when every benchmark runs: ``python -m benchmarks --quick``).
QUICK_ROWS = 200_000


def write_accounts(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write ``n_rows`` synthetic accounts in the continental US (text ids, ZIPs with leading zeros)."""
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


def _proc_status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_mb() -> float:
    """Peak resident memory of this process image, MB.

    ``/proc/self/status`` VmHWM, not ``getrusage().ru_maxrss``: Linux carries
    ``ru_maxrss`` across ``fork`` + ``exec``, so a child started by a parent
    that just wrote a 100 MB CSV would report the parent's peak.
    """
    peak = _proc_status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_mb() -> float:
    """Resident memory now, MB."""
    current = _proc_status_mb("VmRSS")
    return current if current is not None else _peak_mb()


def measure(path: Path, how: str, progress: bool) -> dict:
    """Read ``path`` one way (runs in the subprocess); return the figures."""
    if how == "load_accounts":
        from workbench.io import load_accounts
    before_mb = _current_mb()
    start = time.perf_counter()
    if how == "read_csv":
        frame = pd.read_csv(path)
        loaded = len(frame)
    else:
        frame, report = load_accounts(path, return_report=True, progress=progress)
        loaded = report.n_loaded
    seconds = time.perf_counter() - start
    return {"how": how, "rows": int(loaded), "seconds": seconds, "peak_mb": _peak_mb(), "imports_mb": before_mb,
            "frame_mb": float(frame.memory_usage(deep=True).sum() / 1024**2),
            "dtypes": {c: str(t) for c, t in frame.dtypes.items()}}


def _run_child(path: Path, how: str, progress: bool) -> dict:
    command = [sys.executable, __file__, "--measure", how, "--csv", str(path)] + (["--progress"] if progress else [])
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)  # stderr (the bar) passes through
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write and load (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows (when run with the others)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    parser.add_argument("--max-ratio", type=float, default=2.0,
                        help="exit 1 when the load's peak RSS exceeds this multiple of read_csv's (default 2.0)")
    parser.add_argument("--measure", choices=["read_csv", "load_accounts"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--progress", dest="progress", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.csv, args.measure, args.progress)))
        return 0
    rows = QUICK_ROWS if args.quick else args.rows
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts_large.csv"
        start = time.perf_counter()
        write_accounts(path, rows)
        print(f"wrote {rows:,} rows ({path.stat().st_size / 1024**2:,.0f} MB) in {time.perf_counter() - start:.1f} s",
              flush=True)
        base = _run_child(path, "read_csv", progress=False)
        load = _run_child(path, "load_accounts", progress=args.progress)
    print(f"pandas.read_csv: {base['rows']:,} rows in {base['seconds']:.1f} s; peak RSS {base['peak_mb']:,.0f} MB "
          f"(after imports {base['imports_mb']:,.0f} MB); frame {base['frame_mb']:,.0f} MB")
    print(f"load_accounts:   {load['rows']:,} rows in {load['seconds']:.1f} s; peak RSS {load['peak_mb']:,.0f} MB "
          f"(after imports {load['imports_mb']:,.0f} MB); frame {load['frame_mb']:,.0f} MB")
    to_frame = load["peak_mb"] / load["frame_mb"]
    to_base = load["peak_mb"] / base["peak_mb"]
    added_load = load["peak_mb"] - load["imports_mb"]
    added_base = base["peak_mb"] - base["imports_mb"]
    print(f"ratios: load peak / loaded frame {to_frame:.2f}x; load peak / read_csv peak {to_base:.2f}x; "
          f"memory the read adds (peak minus after-imports) {added_load:,.0f} MB vs {added_base:,.0f} MB"
          + (f" ({added_load / added_base:.2f}x)" if added_base >= 1 else "")
          + f"; time {load['seconds'] / max(base['seconds'], 1e-9):.2f}x read_csv's")
    print("load_accounts dtypes: " + ", ".join(f"{c}={t}" for c, t in load["dtypes"].items()))
    if load["rows"] != rows:
        print(f"error: loaded {load['rows']:,} of {rows:,} rows", file=sys.stderr)
        return 1
    if to_base > args.max_ratio:
        print(f"error: peak RSS {to_base:.2f}x read_csv's exceeds --max-ratio {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
