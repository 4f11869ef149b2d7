"""Quotas in the export: quotas.csv, the Quotas sheet, scorecard rows, salesforce/ForecastingQuota.csv."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import InputError
from workbench.export import export_plan
from workbench.plan import Plan, save_plan
from workbench.quota import territory_quotas
from workbench.signoff import review_and_approve


@pytest.fixture
def plan():
    accounts = pd.DataFrame({"account_id": ["a1", "a2", "a3", "a4"], "latitude": [40.0, 40.1, 41.0, 41.1],
                             "longitude": [-75.0, -75.1, -74.0, -74.1], "workload": [1.0, 2.0, 3.0, 4.0],
                             "potential": [100.0, 300.0, 200.0, 400.0], "revenue": [10.0, 20.0, 30.0, 40.0],
                             "current_territory": ["T1", "T1", "T2", "T2"]})
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "name": ["Ann", "Bo"], "territory_id": ["T1", "T2"],
                         "latitude": [40.0, 41.0], "longitude": [-75.0, -74.0]})
    plan = Plan.from_labels(accounts, ["T1", "T1", "T2", "T2"], method="manual", reps=reps)
    return review_and_approve(plan, by="Lead", accept_warnings=True)


def test_export_writes_quotas_everywhere(plan, tmp_path):
    quotas = territory_quotas(plan, 1_000_001)  # potential 400 : 600
    out = export_plan(plan, tmp_path / "export", quotas=quotas, quota_start="2027-01-01",
                      formats="csv,excel,salesforce")
    written = pd.read_csv(out / "quotas.csv", dtype={"territory_id": str})
    assert written["quota"].tolist() == [400_000, 600_001] and written["quota"].sum() == 1_000_001
    sf = pd.read_csv(out / "salesforce" / "ForecastingQuota.csv", dtype=str)
    assert sf.columns.tolist()[:3] == ["QuotaAmount", "QuotaOwnerId", "StartDate"]
    assert sf[["QuotaAmount", "QuotaOwnerId", "StartDate"]].values.tolist() == [
        ["400000", "R1", "2027-01-01"], ["600001", "R2", "2027-01-01"]]
    territory2 = pd.read_csv(out / "salesforce" / "Territory2.csv", dtype=str)
    assert set(sf["Territory2Id"]) <= set(territory2["DeveloperName"])
    readme = (out / "salesforce" / "README.txt").read_text()
    assert "ForecastingQuota.csv              2 territory quotas" in readme
    assert "QuotaOwnerId" in readme and "2027-01-01" in readme
    assert "quotas.csv" in (out / "README.txt").read_text()
    book = openpyxl.load_workbook(out / "summary.xlsx")
    assert "Quotas" in book.sheetnames
    card = {row[0]: row[1:] for row in book["Scorecard"].iter_rows(values_only=True)}
    assert 1_000_001 in card["quota_total"] and 600_001 in card["quota_largest"]
    header = [c.value for c in book["Territories"][1]]
    assert "quota" in header


def test_export_reads_the_quota_csv_of_workbench_quota(plan, tmp_path, capsys):
    saved = save_plan(plan, tmp_path / "plan")
    quotas_csv = tmp_path / "quotas.csv"
    assert main(["quota", str(saved), "--target", "5000", "--by", "revenue", "--out", str(quotas_csv)]) == 0
    assert main(["export", str(saved), "--to", str(tmp_path / "export"), "--format", "csv,salesforce",
                 "--quotas", str(quotas_csv), "--quota-start", "2027-07-01"]) == 0
    sf = pd.read_csv(tmp_path / "export" / "salesforce" / "ForecastingQuota.csv")
    assert sf["QuotaAmount"].tolist() == [1500, 3500] and set(sf["StartDate"]) == {"2027-07-01"}


def test_quotas_that_do_not_fit_the_plan_are_refused(plan, tmp_path):
    quotas = territory_quotas(plan, 1000)
    with pytest.raises(InputError, match=r"plan territories \['T2'\] have no quota"):
        export_plan(plan, tmp_path / "a", quotas=quotas.iloc[:1], formats="csv")
    with pytest.raises(InputError, match=r"territories \['T9'\] are not in plan"):
        export_plan(plan, tmp_path / "b", quotas=quotas.assign(territory_id=["T1", "T9"]), formats="csv")
    with pytest.raises(InputError, match="quota must be an amount >= 0; lines \\[3\\]"):
        export_plan(plan, tmp_path / "c", quotas=quotas.assign(quota=[1, -5]), formats="csv")
    with pytest.raises(InputError, match="first day of a month"):
        export_plan(plan, tmp_path / "d", quotas=quotas, quota_start="2027-01-15", formats="csv")
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_quota_start_needs_quotas(plan, tmp_path, capsys):
    saved = save_plan(plan, tmp_path / "plan")
    assert main(["export", str(saved), "--to", str(tmp_path / "x"), "--quota-start", "2027-01-01"]) == 2
    assert "--quota-start needs --quotas FILE" in capsys.readouterr().err
