"""workbench compare / approve / plans, end to end on the six-account fixture (shifted 1 degree east
so no account sits on (0, 0), which the loader rightly refuses; distances along the equator are unchanged)."""

import json
import stat

import pandas as pd
import pytest
from test_metrics import six_accounts, three_reps

from workbench.cli import main
from workbench.plan import Plan, load_plan, save_plan
from workbench.signoff import review_and_approve


@pytest.fixture
def files(tmp_path):
    accounts = six_accounts().assign(longitude=lambda f: f["longitude"] + 1)
    reps = three_reps().assign(longitude=lambda f: f["longitude"] + 1)
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    reps.to_csv(tmp_path / "reps.csv", index=False)
    out = accounts[["account_id", "proposed"]].rename(columns={"proposed": "territory_id"})
    out.to_csv(tmp_path / "out.csv", index=False)
    return tmp_path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compare_prints_scorecards_side_by_side(files, capsys):
    code, out, err = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                          "--proposed", files / "out.csv", "--reps", files / "reps.csv", "--moved",
                          files / "moved.csv")
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if "Current" in line and "Proposed" in line and "Change" in line)
    assert header.split() == ["Item", "Current", "Proposed", "Change"]
    # Read by people: readable labels, one percent convention, changes of a percentage in points.
    assert next(line for line in lines if line.startswith("Revenue: largest deviation")).split()[-4:] == [
        "50.0%", "25.0%", "-25.0", "pts"]
    assert next(line for line in lines if line.startswith("Mean distance to rep's home")).split()[-6:] == [
        "111", "km", "778", "km", "+667", "km"]
    assert "moved: 2 of 6 accounts (33.3%), 50 h workload (41.7%), $500 revenue (41.7%)" in out
    moved = pd.read_csv(files / "moved.csv")
    assert moved["account_id"].tolist() == ["a4", "a5"]
    assert moved["explanation"].iloc[1].startswith("Moved from T3 (60 h, +50% over) to T1 (20 h, -50% under): "
                                                   "2,224 km farther")


def test_compare_json_is_one_object_with_hand_checked_values(files, capsys):
    code, out, err = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                          "--proposed", files / "out.csv", "--balance-on", "workload", "--json")
    assert code == 0, err
    data = json.loads(out)  # exactly one JSON document
    assert data["metrics"] == ["workload"] and data["tolerance"] == 0.05
    assert data["scorecards"]["workload_max_deviation_pct"] == {"current": 50.0, "proposed": 50.0, "change": 0.0}
    assert data["disruption"]["accounts_moved"] == 2 and data["disruption"]["workload_moved"] == 50.0
    transfers = {(t["from_territory"], t["to_territory"]): t["workload"] for t in data["transfer_matrix"]}
    assert transfers == {("T1", "T1"): 20.0, ("T2", "T2"): 20.0, ("T2", "T3"): 20.0, ("T3", "T1"): 30.0,
                         ("T3", "T3"): 30.0}
    assert [m["account_id"] for m in data["moved_accounts"]] == ["a4", "a5"]
    assert data["proposed"]["method"] == "file"


def test_compare_names_every_problem_of_the_assignments_file(files, capsys):
    rows = pd.read_csv(files / "out.csv")
    bad = pd.concat([rows.iloc[1:], rows.iloc[[2]], pd.DataFrame({"account_id": ["zz"], "territory_id": ["T1"]})])
    bad.to_csv(files / "bad.csv", index=False)
    code, out, err = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                          "--proposed", files / "bad.csv")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "'a3' (lines 3, 7); keep one row per account" in err
    assert "1 account is not in accounts.csv: ['zz']" in err
    assert "no row for 1 account of accounts.csv: ['a1']" in err


def test_compare_refuses_a_file_without_territory_id(files, capsys):
    pd.DataFrame({"account_id": ["a1"], "territory": ["T1"]}).to_csv(files / "wrong.csv", index=False)
    code, _, err = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                        "--proposed", files / "wrong.csv")
    assert code == 2 and "has no column(s) ['territory_id']" in err
    code, _, err = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                        "--proposed", files / "nowhere.csv")
    assert code == 2 and "no such file or plan folder" in err
    code, _, err = _run(capsys, "compare", files / "accounts.csv", "--current", "territory",
                        "--proposed", files / "out.csv")
    assert code == 2 and "--current territory: " in err and "has no column 'territory'" in err


def test_compare_current_from_another_column(files, capsys):
    # the file has current_territory too: --current proposed must still use the proposed column
    code, out, err = _run(capsys, "compare", files / "accounts.csv", "--current", "proposed",
                          "--proposed", files / "out.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["disruption"]["accounts_moved"] == 0
    accounts = pd.read_csv(files / "accounts.csv").drop(columns="current_territory")
    accounts.to_csv(files / "renamed.csv", index=False)
    code, out, err = _run(capsys, "compare", files / "renamed.csv", "--current", "proposed",
                          "--proposed", files / "out.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["disruption"]["accounts_moved"] == 0


def test_compare_against_a_saved_plan_and_a_column(files, capsys):
    from workbench.io import load_accounts

    plan = Plan.from_column(load_accounts(files / "accounts.csv"), "proposed", name="saved proposal")
    save_plan(plan, files / "plans" / "proposal")
    code, out, err = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                          "--proposed", files / "plans" / "proposal", "--json")
    assert code == 0, err
    assert json.loads(out)["proposed"]["name"] == "saved proposal"
    code, out, _ = _run(capsys, "compare", files / "accounts.csv", "--current", "current_territory",
                        "--proposed", "proposed", "--json")
    assert code == 0 and json.loads(out)["disruption"]["accounts_moved"] == 2


def test_approve_in_place_prints_hash_and_locks_files(files, capsys):
    plan = Plan.from_column(six_accounts(), "proposed", name="q3")
    folder = save_plan(plan, files / "plans" / "q3")
    code, out, err = _run(capsys, "approve", folder, "--by", "Dana VP", "--note", "signed off")
    assert code == 2 and "--accept-warnings" in err and len(err.strip().splitlines()) == 1
    assert not load_plan(folder).is_approved  # warnings not acknowledged: nothing approved
    assert "Review of plan 'q3'" in out and "Workload: largest deviation" in out  # the review was shown
    code, out, err = _run(capsys, "approve", folder, "--by", "Dana VP", "--note", "signed off", "--accept-warnings")
    assert code == 0, err
    assert f"content hash: {plan.content_hash}" in out
    approved = load_plan(folder)
    assert approved.is_approved and approved.metadata.approved_by == "Dana VP"
    assert approved.metadata.approval_note == "signed off" and approved.content_hash == plan.content_hash
    assert not (folder / "assignments.parquet").stat().st_mode & stat.S_IWUSR
    code, _, err = _run(capsys, "approve", folder, "--by", "Eve")
    assert code == 2 and "is already approved (by Dana VP" in err


def test_approve_refuses_a_tampered_plan(files, capsys):
    folder = save_plan(Plan.from_column(six_accounts(), "proposed"), files / "p")
    table = pd.read_parquet(folder / "assignments.parquet")
    table.loc[0, "territory_id"] = "T2"
    table.to_parquet(folder / "assignments.parquet", index=False)
    code, _, err = _run(capsys, "approve", folder, "--by", "Dana")
    assert code == 2 and "assignments.parquet changed since the plan was saved" in err
    assert json.loads((folder / "manifest.json").read_text())["status"] == "draft"


def test_plans_lists_saved_plans(files, capsys):
    plan = Plan.from_column(six_accounts())
    save_plan(plan, files / "plans" / "a")
    save_plan(plan.reassign(["a1"], "T2").with_name("edited"), files / "plans" / "b")
    code, out, err = _run(capsys, "plans", files / "plans")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [r[:3] for r in rows] == [["a", "current", "draft"], ["b", "edited", "draft"]]
    (files / "plans" / "c-broken").mkdir()
    (files / "plans" / "c-broken" / "manifest.json").write_text("{")
    code, out, err = _run(capsys, "plans", files / "plans")
    assert code == 0, err
    broken = out.splitlines()[-1]
    assert broken.split()[:3] == ["c-broken", "-", "unreadable"] and "is not valid JSON" in broken
    code, out, _ = _run(capsys, "plans", files / "plans", "--json")
    records = json.loads(out)
    assert [r["name"] for r in records] == ["current", "edited", None]
    assert records[2]["status"] == "unreadable"
    assert records[1]["parent_hash"] is not None and records[0]["accounts"] == 6
    code, _, err = _run(capsys, "plans", files / "nowhere")
    assert code == 2 and "no folder" in err


def test_approve_refuses_unassigned_accounts_unless_allowed(files, capsys):
    plan = Plan.from_labels(six_accounts(), ["T1", "T1", None, "T2", "T3", ""])
    folder = save_plan(plan, files / "gaps")
    code, _, err = _run(capsys, "approve", folder, "--by", "Dana")
    assert code == 2 and "leaves 2 accounts without a territory (e.g. 'a3', 'a6')" in err
    assert not load_plan(folder).is_approved
    code, out, err = _run(capsys, "approve", folder, "--by", "Dana", "--allow-unassigned", "--accept-warnings")
    assert code == 0, err
    assert "2 accounts are unassigned" in out and load_plan(folder).is_approved


def test_compare_reads_accounts_with_their_own_column_names(tmp_path, capsys):
    from workbench.cli import main

    accounts = tmp_path / "crm.csv"
    accounts.write_text("acct,lat,lon,workload,cur\nX1,40.0,-100.0,1,A\nX2,40.1,-100.1,1,A\nX3,41.0,-90.0,1,B\n")
    proposed = tmp_path / "proposed.csv"
    proposed.write_text("account_id,territory_id\nX1,A\nX2,B\nX3,B\n")
    code = main(["compare", str(accounts), "--current", "cur", "--proposed", str(proposed), "--id-col", "acct",
                 "--lat-col", "lat", "--lon-col", "lon", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["disruption"]["accounts_moved"] == 1
    assert [row["account_id"] for row in result["moved_accounts"]] == ["X2"]


def test_approve_shows_the_review_and_records_accepted_warnings(files, capsys):
    plan = Plan.from_column(six_accounts(), "proposed", name="q3").reassign(["a1"], "T2")
    folder = save_plan(plan, files / "plans" / "q3-edited")
    code, out, err = _run(capsys, "approve", folder, "--by", "Dana")
    assert code == 2, out
    assert "Accounts that change territory: 3 of 6 (50.0%)" in out
    assert "Largest transfers:" in out and "Territories (reps) that lose accounts: 3: T1, T2, T3" in out
    assert "! workload: " in out and "! edited after the last optimisation (column): Moved 1 account from T1 to T2" in out
    assert "(listed above)" in err
    code, out, err = _run(capsys, "approve", folder, "--by", "Dana", "--accept-warnings")
    assert code == 0, err
    approved = load_plan(folder)
    assert approved.metadata.accepted_warnings and any("edited after" in w for w in approved.metadata.accepted_warnings)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["accepted_warnings"] == list(approved.metadata.accepted_warnings)


def test_plans_tree_shows_history_through_unsaved_steps(files, capsys):
    from workbench.plan import save_scenario

    base = Plan.from_column(six_accounts(), "proposed", name="proposal")
    save_plan(base, files / "plans" / "proposal")
    scenario = base.reassign(["a1"], "T2").reassign(["a2"], "T3")
    path = save_scenario(scenario, files / "plans", "adjusted")
    approved = review_and_approve(load_plan(path), by="Dana", accept_warnings=True)
    save_plan(approved, files / "plans" / "adjusted-approved")
    code, out, err = _run(capsys, "plans", files / "plans", "--tree")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("proposal  draft") and lines[0].endswith("[proposal]")
    assert "(unsaved step, recorded)" in lines[1] and "Moved 1 account from T1 to T2" in lines[1]
    assert lines[-2].lstrip(" └├─").startswith("adjusted  draft") and lines[-2].endswith("[adjusted]")
    assert lines[-1].lstrip(" └├─").startswith("adjusted  approved by Dana") and "[adjusted-approved]" in lines[-1]
    assert "not in this folder" not in out  # every parent resolves
    code, out, _ = _run(capsys, "plans", files / "plans", "--tree", "--json")
    nodes = json.loads(out)
    assert [n["depth"] for n in nodes] == [0, 1, 2, 3, 4] and all(n["parent_found"] for n in nodes)
    code, out, _ = _run(capsys, "plans", files / "plans")  # the table stays as it was
    assert code == 0 and out.splitlines()[0].split()[:3] == ["path", "name", "status"]
