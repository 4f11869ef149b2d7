"""`workbench info`: summary of an accounts file, JSON output, one-line errors."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main

ACCOUNTS = (
    "account_id,latitude,longitude,zip,workload,revenue,current_territory\n"
    "A1,40.75,-73.99,10001,1,100,T1\n"
    "A2,40.71,-74.01,10007,2,300,T1\n"
    "A3,42.36,-71.06,02108,3,200,T2\n"
)


@pytest.fixture
def accounts_csv(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS)
    return path


def test_info_prints_totals_and_territory_loads(accounts_csv, capsys):
    assert main(["info", str(accounts_csv)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("accounts.csv: 3 accounts loaded (3 rows read)")
    rows = [line.split() for line in out.splitlines()]
    # workload 6 in total, 2 per account; revenue 600, 200 per account
    assert ["workload", "6.0", "2.00"] in rows
    assert ["revenue", "600.0", "200.00"] in rows
    assert "2 territories in 'current_territory'" in out
    assert ["territory", "accounts", "dev%", "workload", "dev%", "revenue", "dev%"] in rows
    # T1: 2 accounts (+33.3% vs mean 1.5), workload 3 (0%), revenue 400 (+33.3%)
    assert ["T1", "2", "+33.3", "3.0", "+0.0", "400.0", "+33.3"] in rows
    assert ["T2", "1", "-33.3", "3.0", "+0.0", "200.0", "-33.3"] in rows
    assert "max deviation: workload 0.0%, revenue 33.3%" in out
    assert "nothing flagged" in out


def test_info_json(accounts_csv, capsys):
    assert main(["info", str(accounts_csv), "--json", "--metrics", "revenue"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_accounts"] == 3
    assert data["metrics"] == {"revenue": {"total": 600.0, "mean_per_account": 200.0}}
    t1 = data["territories"][0]
    assert (t1["territory_id"], t1["accounts"], t1["revenue"]) == ("T1", 2, 400.0)
    assert t1["revenue_deviation_pct"] == pytest.approx(100 / 3)
    assert data["excluded"] == [] and data["warnings"] == []


def test_info_with_mapped_columns_and_flags(tmp_path, capsys):
    path = tmp_path / "crm.csv"
    path.write_text("Acct;Lat;Lon;calls;Terr\nX1;48.85;2.35;4;P\nX2;95;2.35;1;P\nX3;51.5;-0.12;2;L\n")
    code = main(["info", str(path), "--id-col", "Acct", "--lat-col", "Lat", "--lon-col", "Lon",
                 "--territory-col", "Terr", "--metrics", "calls", "--exclude-invalid"])
    assert code == 0
    out = capsys.readouterr().out
    assert "crm.csv: 2 accounts loaded (3 rows read)" in out
    assert "excluded: 1" in out
    assert "line 3, X2: latitude outside [-90, 90]: 95 (column 'Lat')" in out


def test_info_bad_file_is_one_line_error(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("acct,latitude,longitude\nA1,40,-74\n")
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: bad.csv: missing the accounts column 'account_id'")
    assert "--id-col acct" in lines[0]


def test_info_missing_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "none.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: accounts file not found:")


def test_info_on_the_bundled_sample(capsys):
    from workbench import bundled

    path = bundled.sample_accounts_path()
    if not path.exists():
        pytest.skip("bundled sample not built")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("accounts.csv: ")
    assert "territories in 'current_territory'" in out
    assert "T01" in out


def test_info_checks_territories_against_reps(accounts_csv, tmp_path, capsys):
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,latitude,longitude,territory_id\nR1,40.7,-74.0,T1\n")
    assert main(["info", str(accounts_csv), "--reps", str(reps)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: accounts.csv: column 'current_territory': unknown territory id on 1 line: "
                          "line 4 ('T2'). Fix: correct the ids or add these territories to the reps (known: T1).")
    assert main(["info", str(accounts_csv), "--reps", str(reps), "--exclude-invalid"]) == 0
    assert "line 4, A3: unknown territory id: 'T2'" in capsys.readouterr().out
