"""The guided notebooks: structure rules, and every notebook executed headless in order.

Structure: numbered 01..06, exactly one ``parameters`` cell, no ``def``/``class``
(logic lives in the package), no committed outputs, only public ``workbench``
names that exist, no path outside the notebook's folder. Execution: the
notebooks run in sequence with their defaults from a folder made by
``bundled.copy_notebooks`` (what ``workbench notebooks DIR`` makes), sharing
its ``plans/`` (03 and 04 read what 02 saved) and ``exports/``, so nothing is
written into the repository.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import nbformat
import pytest

from workbench.bundled import copy_notebooks
from workbench.render_notebooks import NOTEBOOKS_DIR, execute_notebook, inject_parameters, parameters_cell_index

EXPECTED = [
    "01_explore_accounts",
    "02_cluster_accounts",
    "03_compare_alignments",
    "04_approve_and_export",
    "05_extend_the_model",
    "06_market_gaps_and_headcount",
]
PATHS = [NOTEBOOKS_DIR / f"{name}.ipynb" for name in EXPECTED]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _parse(source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python; none are expected, but do not choke on them.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


#: Longest loop body a notebook may hold (lines): a longer one is logic that belongs in the package.
MAX_LOOP_LINES = 3


def _definitions(nb) -> list[str]:
    """Logic a notebook should not hold: functions, classes, named lambdas and loops of more than a few lines."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for node in ast.walk(_parse(cell.source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.append(f"cell {index}: {type(node).__name__} {node.name}")
            elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Lambda):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found.append(f"cell {index}: named lambda {', '.join(ast.unparse(t) for t in targets)}")
            elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
                lines = node.body[-1].end_lineno - node.body[0].lineno + 1
                if lines > MAX_LOOP_LINES:
                    found.append(f"cell {index}: {type(node).__name__} loop of {lines} lines (line {node.lineno})")
    return found


def _workbench_references(nb) -> set[str]:
    """Dotted names a notebook takes from workbench: ``workbench.align.BalancedTerritories``, ..."""
    refs, bound = set(), {}
    trees = [_parse(cell.source) for cell in _code_cells(nb)]
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "workbench":
                for alias in node.names:
                    refs.add(f"{node.module}.{alias.name}")
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "workbench":
                        refs.add(alias.name)
                        bound[alias.asname or "workbench"] = alias.name if alias.asname else "workbench"
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
                refs.add(f"{bound[node.value.id]}.{node.attr}")
    return refs


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


# --- structure -------------------------------------------------------------------------------------

def test_notebooks_are_the_numbered_six():
    assert sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("path", PATHS, ids=EXPECTED)
def test_notebook_is_valid_and_has_exactly_one_parameters_cell(path):
    nb = _read(path)
    nbformat.validate(nb)
    index = parameters_cell_index(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "start with a title"
    assert index <= 2, "the parameters cell comes right after the introduction"
    assert sum(cell.cell_type == "markdown" for cell in nb.cells) >= 5, "guide the analyst in markdown"


@pytest.mark.parametrize("path", PATHS, ids=EXPECTED)
def test_notebook_has_no_def_or_class(path):
    assert _definitions(_read(path)) == [], "move the logic into the workbench package"


@pytest.mark.parametrize("path", PATHS, ids=EXPECTED)
def test_notebook_is_committed_without_outputs(path):
    dirty = [i for i, cell in enumerate(_read(path).cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert dirty == [], f"cells {dirty} have outputs or an execution count: clear them before committing"


@pytest.mark.parametrize("path", PATHS, ids=EXPECTED)
def test_notebook_uses_only_public_workbench_names_that_exist(path):
    refs = _workbench_references(_read(path))
    assert refs, "a guided notebook uses the workbench package"
    private = sorted(r for r in refs if any(part.startswith("_") and not part.endswith("__") for part in r.split(".")))
    assert private == [], "notebooks use public API only"
    missing = []
    for ref in sorted(refs):
        try:
            _resolve(ref)
        except (ImportError, AttributeError) as error:
            missing.append(f"{ref}: {error}")
    assert missing == []


@pytest.mark.parametrize("path", PATHS, ids=EXPECTED)
def test_notebook_parameters_stay_inside_its_folder(path):
    # A copy made by `workbench notebooks DIR` must run from DIR: no ../plans, no repo-relative data paths.
    source = _read(path).cells[parameters_cell_index(_read(path))].source
    values = [node.value for node in ast.walk(_parse(source)) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    outside = [v for v in values if v.startswith(("..", "/", "~")) or "data/" in v or "notebooks/" in v]
    assert outside == [], "relative to the notebook's own folder, or found through workbench.bundled"


def test_structure_checks_catch_violations():
    # The checks above must be able to fail: feed them a notebook that breaks every rule.
    bad = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f():\n    return 1\nclass A:\n    pass"),
        nbformat.v4.new_code_cell("share = lambda x: x / 2\nfor i in range(3):\n    a = i\n    b = a\n    c = b\n    d = c\n"
                                  "for i in range(3):\n    print(i)"),
        nbformat.v4.new_code_cell("from workbench.align import NoSuchEstimator\nimport workbench.metrics as m\nm.nope"),
    ])
    assert _definitions(bad) == ["cell 0: FunctionDef f", "cell 0: ClassDef A", "cell 1: named lambda share",
                                 "cell 1: For loop of 4 lines (line 2)"]
    bad.cells.pop(1)
    refs = _workbench_references(bad)
    assert refs == {"workbench.align.NoSuchEstimator", "workbench.metrics", "workbench.metrics.nope"}
    with pytest.raises(AttributeError):
        _resolve("workbench.align.NoSuchEstimator")
    with pytest.raises(Exception, match="exactly one"):
        parameters_cell_index(bad)


# --- execution -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A working folder made like `workbench notebooks DIR`; the notebooks make plans/ and exports/ in it."""
    root = tmp_path_factory.mktemp("notebooks")
    copy_notebooks(root)
    return root


def _run(workspace: Path, name: str):
    # The notebooks run with their defaults (what analysts and `make report` run) from the copied folder.
    nb, seconds = execute_notebook(workspace / f"{name}.ipynb", timeout=240)
    return nb, seconds


def _outputs_text(nb) -> str:
    texts = []
    for cell in _code_cells(nb):
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(json.dumps(output.get("data", {})))
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_01_explore_accounts_executes(workspace):
    nb, _ = _run(workspace, "01_explore_accounts")
    text = _outputs_text(nb)
    assert "image/png" in text, "the static map is drawn"
    assert "largest deviation" in text.lower(), "the scorecard is shown, labelled for people"
    readable = "\n".join(o.get("text", "") + o.get("data", {}).get("text/html", "") + o.get("data", {}).get("text/plain", "")
                         for cell in _code_cells(nb) for o in cell.get("outputs", []))
    assert not re.search(r"\d\.\d+e[+-]\d", readable) and "/work/" not in readable, "no scientific notation, no path"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_02_cluster_accounts_executes_and_saves_a_draft(workspace):
    nb, _ = _run(workspace, "02_cluster_accounts")
    saved = list((workspace / "plans").iterdir())
    assert len(saved) == 1, f"one draft saved, got {saved}"
    text = _outputs_text(nb)
    assert "image/png" in text, "the trade-off maps are drawn"
    # The contiguous proposal's balance count is the review's: both against each rep's capacity.
    from workbench.signoff import review_plan

    shown = re.search(r"outside ±[\d.]+% of their target: (\d+) of (\d+) territories", text)
    outside = [w for w in review_plan(saved[0]).warnings if w.startswith("workload: ")]
    reviewed = int(re.search(r"(\d+) of \d+ territories are outside", outside[0]).group(1)) if outside else 0
    assert shown and int(shown.group(1)) == reviewed, (shown and shown.group(0), outside)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_03_compare_alignments_executes_and_saves_a_scenario(workspace):
    if not (workspace / "plans").is_dir() or not any((workspace / "plans").iterdir()):
        pytest.skip("needs the draft saved by notebook 02 (run the whole module)")
    before = set((workspace / "plans").iterdir())
    nb, _ = _run(workspace, "03_compare_alignments")
    assert len(set((workspace / "plans").iterdir()) - before) == 1, "the scenario is saved as a new file"
    assert "text/html" in _outputs_text(nb), "comparison tables are shown"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_03_compare_alignments_builds_a_proposal_when_no_plans_exist(tmp_path):
    # What `make app` (Voila) and an analyst opening 03 first see: no draft yet, and no crash.
    plans = tmp_path / "no-plans-yet"
    nb, _ = execute_notebook(NOTEBOOKS_DIR / "03_compare_alignments.ipynb", cwd=tmp_path,
                             parameters={"PLANS_DIR": str(plans), "BASEMAP": False}, timeout=240)
    assert "proposal 'proposal': method contiguous_realignment" in _outputs_text(nb)
    assert len(list(plans.iterdir())) == 1, "only the scenario is saved; nothing else is written"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_04_approve_and_export_executes_and_writes_the_export(workspace):
    if not (workspace / "plans").is_dir() or not any((workspace / "plans").iterdir()):
        pytest.skip("needs the draft saved by notebook 02 (run the whole module)")
    before = set((workspace / "plans").iterdir())
    # The sample scenario has warnings (it was edited by hand after the optimisation): approving it needs the
    # explicit acknowledgement, given here as the parameter an analyst would set (the checkbox does the same).
    nb, _ = execute_notebook(workspace / "04_approve_and_export.ipynb", parameters={"ACCEPT_WARNINGS": True},
                             timeout=240)
    text = _outputs_text(nb)
    assert "Review before approval" in text and "Warnings (" in text, "the review is shown before approving"
    assert "edited after the last optimisation" in text
    assert len(set((workspace / "plans").iterdir()) - before) == 1, "the approved plan is saved as a new file"
    manifests = list((workspace / "exports").rglob("manifest.json"))
    assert len(manifests) == 1
    assert (manifests[0].parent / "assignments.csv").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_05_extend_the_model_executes(workspace):
    nb, _ = _run(workspace, "05_extend_the_model")
    assert "text/html" in _outputs_text(nb), "the grid table is shown"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_06_market_gaps_and_headcount_executes(workspace):
    nb, _ = _run(workspace, "06_market_gaps_and_headcount")
    text = _outputs_text(nb)
    assert "reps needed at 85.0%" in text and "Suggested hires" in text, "headcount and hires are shown"
    assert "biggest gaps" in text and "uncovered:" in text, "the gaps are ranked and uncovered accounts counted"
    assert "opened: " in text and "after: " in text, "the headcount realignment runs and utilisation is shown after it"
    assert "quotas sum to" in text, "quotas are allocated"
    assert text.count("image/png") >= 3, "the utilisation maps (before, after) and the gap map are drawn"


def test_injected_parameters_follow_the_parameters_cell():
    nb = inject_parameters(_read(PATHS[1]), {"PLANS_DIR": "/tmp/x"})
    index = parameters_cell_index(nb)
    assert nb.cells[index + 1].source.endswith("PLANS_DIR = '/tmp/x'")
    assert nb.cells[index + 1].metadata["tags"] == ["injected-parameters"]
