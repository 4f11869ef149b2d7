"""What the benchmark modules share: drifted plans to realign, one case per fresh process, the run-and-print loop.

* :func:`grow` — a plan's workloads grown until it is ~40% out of balance
  (regional or scattered growth): the starting point of every realignment case.
* :func:`run_in_subprocess` — one case of a module's table in a fresh Python
  process (its own memory), its result as a dict (``error`` when it failed).
* :func:`run_cases` — run the named cases, print each result as JSON, then
  one "met / MISSED" line per case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def grow(accounts, labels, target, pattern, seed, columns=("workload",)):
    """Scale ``columns`` up by regional or scattered growth until the max deviation of the first is ~``target``.

    ``pattern="regions"``: growth peaks at 4 random hubs and fades over
    ~250 km (neighbouring territories grow together, so load must travel
    through several of them). ``pattern="scattered"``: 15% of the
    territories, drawn at random, grow (each by its own random share).
    Later columns grow a little differently from the first. ``accounts`` is
    changed in place and returned.
    """
    from workbench import metrics as wm
    from workbench.geo import great_circle_km

    rng = np.random.default_rng(seed + 1)
    n = len(accounts)
    if pattern == "regions":
        hubs = accounts.sample(4, random_state=seed)[["latitude", "longitude"]].to_numpy()
        bump = np.zeros(n)
        for lat, lon in hubs:
            d = great_circle_km(accounts["latitude"], accounts["longitude"], lat, lon)
            bump = np.maximum(bump, np.exp(-((d / 250.0) ** 2)) * rng.uniform(0.7, 1.0))
    else:
        ids = np.unique(labels)
        grown = pd.Series(rng.uniform(0.5, 1.0, len(ids)) * (rng.random(len(ids)) < 0.15), index=ids)
        bump = grown.reindex(labels).to_numpy()
    base = {c: accounts[c].to_numpy() for c in columns}
    low, high = 0.0, 5.0
    for _ in range(40):  # growth factor so that the max deviation is ~target
        g = (low + high) / 2
        for i, c in enumerate(columns):
            accounts[c] = base[c] * (1 + g * bump * (1.0 if i == 0 else 0.6 + 0.2 * i))
        dev = wm.max_deviation(accounts, labels, [columns[0]])[columns[0]]
        low, high = (g, high) if dev < target else (low, g)
    return accounts


def run_in_subprocess(module: str, table: str, name: str, *, peak_memory: bool = False) -> dict:
    """Run case ``name`` of ``benchmarks.<module>.<table>`` (``{name: (function, args)}``) in a fresh process.

    With ``peak_memory`` the result gains ``peak_rss_mb``, that process's
    peak resident memory. A case that fails gives ``{"case", "error"}`` with
    the last line of its error output.
    """
    code = (f"import json, resource, sys; from benchmarks.{module} import {table} as C; f, a = C[sys.argv[1]]; "
            "r = f(*a); "
            + ("r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; " if peak_memory else "")
            + "print('RESULT ' + json.dumps(r, default=str))")
    proc = subprocess.run([sys.executable, "-c", code, name], cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"case": name, "error": lines[-1] if lines else f"exit code {proc.returncode}"}
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def run_cases(names, run, verdict) -> int:
    """``run(name)`` each case, print its result as JSON as it comes, then a ``targets:`` block of ``verdict(name, r)``."""
    verdicts = []
    for name in names:
        result = run(name)
        print(json.dumps(result, indent=1, default=str), flush=True)
        verdicts.append(verdict(name, result))
    print("\n".join(["", "targets:"] + verdicts))
    return 0
