"""Comparison map: time one click-reassign on every US county with 40 territories.

Builds :class:`workbench.mapview.ComparisonMap` on the bundled county blocks
(3,107 lower-48 counties; counties without a sample account get one small
filler account so that every county is a clickable block) and the sample
accounts' 40 current territories, then simulates N clicks through the same
handler the map's click calls (``_on_item_click``): move a random county to a
random territory. Each message the widgets would send to the browser is
JSON-encoded, as the kernel does, so serialisation is part of the time.

Target: a click updates the map and the scorecard in <= 200 ms in the kernel. Each click also runs
the checks the analyst sees at once: contiguity of the two territories touched, far-from-home
moves, the live scorecard and the warnings list.
For reference, the run also times one full redraw of all territory layers
(colour by a metric: what every click would cost without one layer per territory).

Run ``python -m benchmarks mapview`` or ``python -m benchmarks.bench_mapview [--clicks 200]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from unittest import mock

import numpy as np
import pandas as pd

TARGET_MS = 200.0


def load_case():
    """Counties, accounts covering every county, and the current plan labels (40 territories)."""
    from workbench import bundled

    counties = bundled.load_counties()
    accounts = pd.read_csv(bundled.sample_accounts_path(), dtype={"zip": str, "county_fips": str})
    owners = pd.read_csv(bundled.county_territories_path(), dtype={"county_fips": str}).set_index("county_fips")
    empty = counties.loc[~counties["county_fips"].isin(accounts["county_fips"])]
    points = empty.geometry.representative_point()
    filler = pd.DataFrame({
        "account_id": [f"F{fips}" for fips in empty["county_fips"]],
        "latitude": points.y.to_numpy(), "longitude": points.x.to_numpy(),
        "county_fips": empty["county_fips"].to_numpy(),
        "workload": 0.1, "revenue": 1000.0, "potential": 1000.0,
        "current_territory": owners["current_territory"].reindex(empty["county_fips"]).to_numpy(),
    })
    accounts = pd.concat([accounts, filler], ignore_index=True)
    accounts["current_territory"] = accounts["current_territory"].fillna("T01")
    return counties, accounts


class _Traffic:
    """Stand-in for the kernel's comm: JSON-encodes every widget message and counts bytes."""

    def __init__(self):
        self.bytes = 0

    def send(self, widget, msg, buffers=None):
        self.bytes += len(json.dumps(msg, separators=(",", ":")).encode())


def run(n_clicks: int = 200, seed: int = 0) -> dict:
    from ipywidgets import Widget

    from workbench.mapview import ComparisonMap

    from workbench import bundled
    from workbench.io import load_reps

    counties, accounts = load_case()
    reps = load_reps(bundled.sample_reps_path())  # rep homes: every click also runs the far-move check
    labels = accounts["current_territory"].to_numpy()
    traffic = _Traffic()
    with mock.patch.object(Widget, "_send", lambda self, msg, buffers=None: traffic.send(self, msg, buffers)):
        started = time.perf_counter()
        widget = ComparisonMap(labels, labels.copy(), blocks=counties, block_col="county_fips", accounts=accounts,
                               basemap=False, reps=reps)
        build_s = time.perf_counter() - started
        model = widget.model
        rng = np.random.default_rng(seed)
        items = rng.choice(model.item_ids, size=n_clicks)
        targets = rng.choice(model.territories, size=n_clicks)
        times, sizes, touched = [], [], []
        for item, target in zip(items, targets):
            model.target = str(target)  # the dropdown; not part of the click
            traffic.bytes = 0
            before = [layer.data for layer in widget.proposed_layers + widget.current_layers]
            t0 = time.perf_counter()
            widget._on_item_click(event="click", properties={"id": str(item)})
            times.append((time.perf_counter() - t0) * 1000)
            sizes.append(traffic.bytes)
            after = [layer.data for layer in widget.proposed_layers + widget.current_layers]
            touched.append(sum(a is not b for a, b in zip(before, after)))
        if widget._errors.outputs:
            raise RuntimeError(f"a click reported an error: {widget._errors.outputs[0]}")
        traffic.bytes = 0
        t0 = time.perf_counter()
        model.color_by = model.metrics[0]  # restyles every territory layer on both maps
        full_ms = (time.perf_counter() - t0) * 1000
        full_kb = traffic.bytes / 1024
    times_arr = np.array(times)
    return {
        "blocks": int(len(model.item_ids)), "accounts": int(len(accounts)), "territories": int(len(model.territories)),
        "clicks": n_clicks, "build_s": build_s,
        "median_ms": float(np.median(times_arr)), "p95_ms": float(np.percentile(times_arr, 95)),
        "max_ms": float(times_arr.max()), "median_kb_sent": statistics.median(sizes) / 1024,
        "max_layers_redrawn": int(max(touched)), "full_redraw_ms": full_ms, "full_redraw_kb": full_kb,
        "accounts_moved": int(model.scorecard().loc["accounts moved", "proposed"]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks mapview", description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200, help="number of simulated clicks (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="50 clicks (when run with the other benchmarks)")
    args = parser.parse_args(argv)
    result = run(50 if args.quick else args.clicks, args.seed)
    met = result["p95_ms"] <= TARGET_MS
    print(f"mapview: {result['blocks']:,} county blocks, {result['accounts']:,} accounts, "
          f"{result['territories']} territories; widget built in {result['build_s']:.1f} s")
    print(f"  click-reassign ({result['clicks']} clicks through _on_item_click, messages JSON-encoded): "
          f"median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
          f"median {result['median_kb_sent']:.0f} kB sent per click; at most {result['max_layers_redrawn']} "
          f"layers redrawn per click")
    print(f"  for reference, restyling all {2 * result['territories']} territory layers (colour by metric): "
          f"{result['full_redraw_ms']:.0f} ms, {result['full_redraw_kb']:,.0f} kB sent")
    print(f"  target <= {TARGET_MS:.0f} ms per click (p95): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
