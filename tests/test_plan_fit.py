"""``Plan.from_fit``: the one handoff from a fitted estimator to a plan (``workbench/plan/_fit.py``)."""

import json

import numpy as np
import pandas as pd
import pytest

from workbench.align import BalancedTerritories, KMeansTerritories, Realignment
from workbench.cli import main
from workbench.errors import InputError
from workbench.export import export_plan
from workbench.plan import Plan, load_plan, save_plan
from workbench.signoff import review_and_approve

# Six accounts in two clusters; visits are heavy in the west, workload is even.
ACCOUNTS = pd.DataFrame({
    "account_id": [f"a{i}" for i in range(6)],
    "latitude": [40.0, 40.1, 40.2, 40.0, 40.1, 40.2],
    "longitude": [-100.0, -100.1, -100.2, -90.0, -90.1, -90.2],
    "workload": [1.0] * 6,
    "visits_per_year": [12.0, 12.0, 12.0, 2.0, 2.0, 2.0],
    "current_territory": ["T1", "T1", "T1", "T2", "T2", "T2"],
})


def test_from_fit_records_the_estimators_own_parameter_names_and_its_report():
    model = BalancedTerritories(2, balance_on=["visits_per_year"], tolerance=0.2, random_state=0).fit(ACCOUNTS)
    plan = Plan.from_fit(model, ACCOUNTS)
    parameters = plan.metadata.parameters
    assert parameters["n_territories"] == 2
    assert list(parameters["balance_on"]) == ["visits_per_year"]
    assert parameters["tolerance"] == 0.2 and parameters["random_state"] == 0
    assert "progress" not in parameters and "metrics" not in parameters and "territories" not in parameters
    assert plan.balance_on == ("visits_per_year",) and plan.tolerance == 0.2
    assert plan.metadata.method == "balanced"
    report = plan.metadata.report
    assert report["max_deviation"]["visits_per_year"] == pytest.approx(model.report_.max_deviation["visits_per_year"])
    assert "seconds" not in report
    np.testing.assert_array_equal(plan.labels, model.labels_)


def test_the_same_fit_gives_the_same_content_hash_and_an_edit_drops_the_report():
    first = Plan.from_fit(KMeansTerritories(2, random_state=0).fit(ACCOUNTS), ACCOUNTS)
    second = Plan.from_fit(KMeansTerritories(2, random_state=0, progress=True).fit(ACCOUNTS), ACCOUNTS)
    assert first.content_hash == second.content_hash
    edited = first.reassign(["a0"], first.labels[5])
    assert edited.metadata.report == {} and edited.parent.metadata.report


def test_from_fit_accepts_renamed_territories_and_refuses_other_labels():
    model = KMeansTerritories(2, random_state=0).fit(ACCOUNTS)
    renamed = np.where(model.labels_ == model.labels_[0], "West", "East")
    assert set(Plan.from_fit(model, ACCOUNTS, labels=renamed).labels) == {"West", "East"}
    with pytest.raises(InputError, match="labels must only rename the model's territories"):
        Plan.from_fit(model, ACCOUNTS, labels=["West"] * 6)
    with pytest.raises(InputError, match="is not fitted"):
        Plan.from_fit(KMeansTerritories(2), ACCOUNTS)
    with pytest.raises(InputError, match="labels_ has 6 entries but accounts has 3 rows"):
        Plan.from_fit(model, ACCOUNTS.iloc[:3])


def test_a_saved_plan_keeps_its_report_and_parameters(tmp_path):
    plan = Plan.from_fit(Realignment(balance_on=["visits_per_year"], tolerance=0.5).fit(ACCOUNTS), ACCOUNTS)
    back = load_plan(save_plan(plan, tmp_path / "plan"))
    assert back.content_hash == plan.content_hash
    assert back.metadata.report == plan.metadata.report and back.balance_on == ("visits_per_year",)


def test_a_plan_balanced_on_visits_exports_visits_not_only_workload(tmp_path):
    """Regression: --balance-on was recorded as balance_on but export read 'metrics', which nothing wrote."""
    source = tmp_path / "accounts.csv"
    ACCOUNTS.to_csv(source, index=False)
    assert main(["align", str(source), "--territories", "2", "--balance-on", "visits_per_year",
                 "--tolerance", "0.5", "--out", str(tmp_path / "plan"), "--seed", "0"]) == 0
    plan = load_plan(tmp_path / "plan")
    assert plan.balance_on == ("visits_per_year",) and plan.metadata.parameters["n_territories"] == 2
    assert plan.metadata.parameters["inputs"]["accounts"] == str(source)
    out = export_plan(review_and_approve(plan, by="Ana"), tmp_path / "export", formats="gis,excel")
    geo = json.loads((out / "territories.geojson").read_text(encoding="utf-8"))
    properties = geo["features"][0]["properties"]
    assert "visits_per_year" in properties and "visits_per_year_deviation" in properties
    territories = pd.read_excel(out / "summary.xlsx", sheet_name="Territories", header=None)
    assert territories.astype(str).apply(lambda column: column.str.contains("visits_per_year")).any().any()
