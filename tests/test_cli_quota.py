"""``workbench quota``: quotas of a saved plan, written and printed; one-line errors."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from tests.test_quota import LABELS, accounts
from workbench.cli import main
from workbench.plan import Plan, save_plan


@pytest.fixture
def plan_path(tmp_path):
    frame = accounts().assign(latitude=0.0, longitude=0.0)
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "territory_id": ["A", "B", "C"], "latitude": 0.0,
                         "longitude": 0.0})
    return save_plan(Plan.from_labels(frame, LABELS, method="manual", reps=reps), tmp_path / "plan")


def test_quota_csv_sums_to_the_target(plan_path, tmp_path, capsys):
    out = tmp_path / "quotas.csv"
    assert main(["quota", str(plan_path), "--target", "1,000", "--by", "potential", "--floor", "0.1",
                 "--out", str(out)]) == 0
    quotas = pd.read_csv(out)
    assert quotas["territory_id"].tolist() == ["A", "B", "C"] and quotas["quota"].tolist() == [540, 360, 100]
    assert quotas["quota"].sum() == 1000
    printed = capsys.readouterr().out
    assert "target $1,000 allocated by potential to 3 territories" in printed
    assert "total $1,000 (= target)" in printed and "$540" in printed


def test_quota_json_and_excel(plan_path, tmp_path, capsys):
    out = tmp_path / "quotas.xlsx"
    assert main(["quota", str(plan_path), "--target", "10K", "--by", "blend", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [q["quota"] for q in data["quotas"]] == [5000, 3000, 2000] and data["total"] == 10000
    sheet = openpyxl.load_workbook(out)["Quotas"]
    header = [c.value for c in sheet[1]]
    assert "quota" in header or "Quota" in header


@pytest.mark.parametrize("extra, match", [
    (["--target", "0"], "target must be a positive amount"),
    (["--target", "lots"], "cannot read the amount 'lots'"),
    (["--target", "100", "--floor", "2"], "floor (CLI: --floor) must be a share of the company target in [0, 1]"),
    (["--target", "100", "--floor", "0.5"], "lower the floor to at most 0.3333"),
    (["--target", "100", "--round", "0"], "unit (rounding; CLI: --round) must be a positive amount"),
    (["--target", "150", "--round", "100"], "not a whole number of the rounding unit 100"),
])
def test_bad_arguments(plan_path, capsys, extra, match):
    assert main(["quota", str(plan_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err


def test_not_a_plan(tmp_path, capsys):
    assert main(["quota", str(tmp_path / "nope"), "--target", "100"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
