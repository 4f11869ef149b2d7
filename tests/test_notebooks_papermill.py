"""Notebook parameters that really vary: papermill reads every parameters cell, and notebook 02 runs
at another number of territories and tolerance (from a folder made by ``workbench notebooks``)."""

from __future__ import annotations

import json
import logging

import papermill
import pytest

from workbench.bundled import copy_notebooks, notebook_paths


@pytest.mark.parametrize("path", notebook_paths(), ids=[p.stem for p in notebook_paths()])
def test_papermill_parses_every_parameter_without_warnings(path, caplog):
    with caplog.at_level(logging.WARNING, logger="papermill"):
        parameters = papermill.inspect_notebook(str(path))
    assert [r.getMessage() for r in caplog.records] == []
    source = json.loads(path.read_text())
    cell = next(c for c in source["cells"] if "parameters" in c["metadata"].get("tags", []))
    assigned = [line.split("=")[0].strip() for line in cell["source"] if "=" in line and not line.lstrip().startswith("#")]
    assert sorted(parameters) == sorted(assigned), "papermill sees every parameter"


def test_the_check_above_can_fail(tmp_path, caplog):
    bad = json.loads(notebook_paths()[0].read_text())
    cell = next(c for c in bad["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = ["X = 1  # 1 = one\n"]
    (tmp_path / "bad.ipynb").write_text(json.dumps(bad))
    with caplog.at_level(logging.WARNING, logger="papermill"):
        assert "X" not in papermill.inspect_notebook(str(tmp_path / "bad.ipynb"))
    assert "Unable to parse line 1" in caplog.text


def _outputs(nb) -> str:
    return "\n".join(o.get("text", "") + json.dumps(o.get("data", {}))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_notebook_02_runs_at_another_number_of_territories_and_tolerance(tmp_path):
    copy_notebooks(tmp_path)
    nb = papermill.execute_notebook(str(tmp_path / "02_cluster_accounts.ipynb"), str(tmp_path / "02-run.ipynb"),
                                    parameters={"N_TERRITORIES": 36, "TOLERANCE": 0.075, "PLAN_NAME": "n36"},
                                    cwd=str(tmp_path), progress_bar=False, kernel_name="python3")
    text = _outputs(nb)
    assert "today: 40; building 36" in text
    for method in ("kmeans", "balanced", "contiguous"):
        assert f"method: {method}, territories: 36" in text, method
    assert "method: realignment, territories: 36" in text, "realignment to 36 via the headcount change"
    from workbench.plan import list_plans, load_plan

    saved = list_plans(tmp_path / "plans")
    assert saved["name"].tolist() == ["n36"]
    assert load_plan(saved["path"].iloc[0]).assignments.nunique() == 36
