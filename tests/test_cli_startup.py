"""CLI start-up: a command imports only what it runs (``--help`` no pandas; a CSV alignment no geopandas/openpyxl).

The figures (seconds per process) live in ``benchmarks/bench_align.py`` (``cli_process``); these tests only keep
the heavy imports from creeping back into module level.
"""

import subprocess
import sys

import pandas as pd

HEAVY = ("pandas", "numpy", "sklearn", "scipy", "geopandas", "shapely", "pyproj", "openpyxl", "matplotlib")


def _loaded_after(argv, tmp_path) -> set[str]:
    """Top-level packages loaded once ``workbench argv`` has run (in a fresh interpreter)."""
    code = ("import sys; from workbench.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', *sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=tmp_path,
                          check=True)
    return set(proc.stdout.splitlines()[-1].split()[1:])


def test_help_and_version_load_no_data_library(tmp_path):
    assert _loaded_after(["--help"], tmp_path) == set()
    assert _loaded_after(["--version"], tmp_path) == set()
    assert _loaded_after(["export", "--help"], tmp_path) == set()


def test_a_balanced_csv_alignment_loads_neither_geopandas_nor_openpyxl(tmp_path):
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(30)], "latitude": [40 + i / 30 for i in range(30)],
                             "longitude": [-100 + (i % 5) / 4 for i in range(30)], "workload": 1.0})
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    loaded = _loaded_after(["align", "accounts.csv", "--territories", "3", "--out", "out.csv", "--quiet"], tmp_path)
    assert (tmp_path / "out.csv").is_file()
    assert {"pandas", "sklearn"} <= loaded
    assert not loaded & {"geopandas", "openpyxl", "matplotlib", "pyproj"}
