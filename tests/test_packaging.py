"""The package as a new user gets it: honest metadata, and the built wheel doing the whole job.

``test_wheel_*`` build the sdist and the wheel from this checkout (``uv build``:
the wheel is built from the unpacked sdist, as pip does from PyPI), install the
wheel into a fresh venv outside the repository (versions pinned to this venv's,
so uv serves them from its cache; only PyPI is contacted, if at all), and then,
from an empty folder, run ``workbench notebooks``, execute notebook 01, geocode
ZIP-only accounts and run align -> approve -> export with the bundled counties.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import workbench
from workbench import bundled

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
#: Import name -> distribution name where they differ.
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "IPython": "ipython"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _declared() -> set[str]:
    names = set()
    for requirement in _project()["dependencies"]:
        names.add(requirement.split(">")[0].split("=")[0].split("[")[0].strip().lower())
    return names


def _third_party_imports() -> dict[str, list[str]]:
    """Top-level modules the package imports (anywhere, lazily too) -> files importing them."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top != "workbench":
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    declared = _declared()
    missing = {module: files[:3] for module, files in _third_party_imports().items()
               if DISTRIBUTIONS.get(module, module).lower().replace("_", "-") not in declared}
    assert missing == {}, "declare these in pyproject.toml dependencies (and environment.yml)"


def test_the_import_scan_sees_lazy_imports():
    # nbclient is imported inside a function only: the scan must still see it (or the check above is blind).
    assert "workbench/render_notebooks.py" in _third_party_imports()["nbclient"]


def test_license_and_metadata():
    project = _project()
    assert project["license"] == "BSD-3-Clause", "an SPDX expression, not a table"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Redistribution and use in source and binary forms" in text
    classifiers = project["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert any(c.startswith("Framework :: Jupyter") for c in classifiers)
    assert not any(c.startswith("License ::") for c in classifiers), "PEP 639: the license expression replaces them"
    assert {"Source", "Issues", "Documentation"} <= set(project["urls"])


def test_build_hook_ships_every_bundled_file():
    # setup.py copies by pattern; every file the loaders name must match one of them.
    from workbench.sample import RELATIVE_PATHS

    tree = ast.parse((ROOT / "setup.py").read_text())
    shipped = next(ast.literal_eval(node.value) for node in tree.body
                   if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SHIPPED")
    patterns = shipped["data"][1]
    for relative in [*RELATIVE_PATHS.values(), Path("README.md")]:
        assert any(Path(relative).match(pattern) for pattern in patterns), f"{relative} would not be in the wheel"


# --- the wheel, installed outside the repository ---------------------------------------------------

def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is needed to build and install the wheel: run make setup-test (it installs uv into .venv)")
    return found


def _clean_env(venv: Path, home: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "CONDA", "UV_", "PYTEST", "MPL"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin", JUPYTER_DATA_DIR=str(home / "jupyter-data"),
               JUPYTER_CONFIG_DIR=str(home / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
               IPYTHONDIR=str(home / "ipython"), MPLCONFIGDIR=str(home / "matplotlib"))
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(venv, env, wheel, timings)``: the wheel built from this checkout, installed into a fresh venv."""
    uv = _uv()
    root = tmp_path_factory.mktemp("wheel")
    timings = {}
    started = time.perf_counter()
    subprocess.run([uv, "build", "--quiet", "--out-dir", str(root / "dist"), str(ROOT)], check=True,
                   capture_output=True, text=True)
    timings["build"] = time.perf_counter() - started
    wheel = next((root / "dist").glob("territory_workbench-*.whl"))
    freeze = subprocess.run([uv, "pip", "freeze", "--python", sys.executable], check=True, capture_output=True,
                            text=True).stdout
    pins = [line for line in freeze.splitlines() if "==" in line and not line.startswith(("-e", "territory"))]
    (root / "constraints.txt").write_text("\n".join(pins) + "\n")
    venv = root / "venv"
    started = time.perf_counter()
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel),
                    "-c", str(root / "constraints.txt")], check=True, capture_output=True, text=True)
    timings["install"] = time.perf_counter() - started
    return venv, _clean_env(venv, root / "home"), wheel, timings


def _run(args, *, cwd, env, timeout=240):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wheel_carries_the_data_and_notebooks_and_honest_metadata(installed):
    _venv, _env, wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
    for relative in ["README.md", "geo/counties.gpkg", "geo/states.gpkg", "geo/zip_points.csv.gz",
                     "sample/accounts.csv", "sample/reps.csv", "sample/county_territories.csv"]:
        assert f"workbench/resources/data/{relative}" in names
    shipped = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("workbench/resources/notebooks/"))
    assert shipped == [p.name for p in bundled.notebook_paths()]
    assert not any(n.startswith(("tests/", "benchmarks/", "data/", "notebooks/")) for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert meta["Version"] == workbench.__version__
    assert {"nbclient", "nbformat", "nbconvert", "jinja2"} <= {r.split(">")[0] for r in meta.get_all("Requires-Dist")}
    assert len(meta.get_all("Project-URL")) >= 3 and len(meta.get_all("Classifier")) >= 5
    size_mb = wheel.stat().st_size / 1e6
    assert size_mb < 15, f"the wheel is {size_mb:.1f} MB: keep the bundled data reasonable"


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_wheel_does_the_whole_job_from_an_empty_folder(installed, tmp_path):
    venv, env, _wheel, timings = installed
    bin_ = venv / "bin"
    work = tmp_path / "empty"
    work.mkdir()
    started = time.perf_counter()
    where = _run([bin_ / "python", "-c", "import workbench.bundled as b; print(b.__file__); print(b.DATA_DIR)"],
                 cwd=work, env=env).stdout.split()
    assert all(str(venv) in line for line in where), f"imported from outside the fresh venv: {where}"

    # The guided notebooks, copied into the working folder and run from there (notebook 01 in full).
    out = _run([bin_ / "workbench", "notebooks", "nb"], cwd=work, env=env).stdout
    assert "01_explore_accounts.ipynb" in out and (work / "nb" / "05_extend_the_model.ipynb").is_file()
    _run([bin_ / "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", "executed-01.ipynb",
          "01_explore_accounts.ipynb"], cwd=work / "nb", env=env, timeout=300)
    executed = json.loads((work / "nb" / "executed-01.ipynb").read_text())
    outputs = [o for cell in executed["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the static map is drawn"
    assert "loaded 25,000 accounts" in json.dumps(outputs)

    # ZIP-only accounts (no coordinates): geocoded from the bundled ZIP points.
    sample = pd.read_csv(bundled.sample_accounts_path(), dtype={"zip": str, "county_fips": str})
    chosen = sample[sample["state"].isin(["KS", "NE", "OK"])]
    chosen[["account_id", "zip", "county_fips", "workload", "current_territory"]].to_csv(work / "accounts.csv",
                                                                                      index=False)
    info = json.loads(_run([bin_ / "workbench", "info", "accounts.csv", "--json"], cwd=work, env=env).stdout)
    assert info["n_accounts"] == len(chosen) and len(info["geocoded_from_zip"]) == len(chosen)

    # align -> approve -> export; the export's shapes are the bundled counties, dissolved.
    _run([bin_ / "workbench", "align", "accounts.csv", "--current", "current_territory", "--balance-on", "workload",
          "--out", "plans/fy27"], cwd=work, env=env)
    _run([bin_ / "workbench", "approve", "plans/fy27", "--by", "Dana Lee", "--note", "from the wheel",
          "--accept-warnings"], cwd=work, env=env)
    _run([bin_ / "workbench", "export", "plans/fy27", "--to", "exports/fy27"], cwd=work, env=env)
    manifest = json.loads((work / "exports" / "fy27" / "manifest.json").read_text())
    assert manifest["plan"]["status"] == "approved" and manifest["plan"]["accounts"] == len(chosen)
    import geopandas as gpd

    shapes = gpd.read_file(work / "exports" / "fy27" / "territories.gpkg")
    counties = bundled.load_counties()
    expected = counties[counties["county_fips"].isin(chosen["county_fips"])].to_crs(5070).area.sum()
    assert shapes.to_crs(5070).area.sum() == pytest.approx(expected, rel=1e-3), "territories are dissolved counties"
    assert sorted(p.name for p in work.iterdir()) == ["accounts.csv", "exports", "nb", "plans"], "nothing else written"
    timings["whole job"] = time.perf_counter() - started
    print("wheel test timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_installed_sample_builder_never_writes_into_site_packages(installed, tmp_path):
    venv, env, _wheel, _ = installed
    result = subprocess.run([venv / "bin" / "python", "-m", "workbench.sample", "--raw", str(tmp_path)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not a checkout" in result.stderr and "pass --out DIR" in result.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert not (site / "data").exists() and not (site.parent / "data").exists()
