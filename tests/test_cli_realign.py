"""``workbench align --current``: headcount changes, closures, the disruption budget and both lower bounds."""

import re

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main


@pytest.fixture
def grid(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3):
        for j in range(3):
            for _ in range(20):
                rows.append((40 + i + rng.random() * 0.9, -100 + j + rng.random() * 0.9, f"T{i * 3 + j + 1}"))
    frame = pd.DataFrame(rows, columns=["latitude", "longitude", "team"])
    frame.insert(0, "account_id", [f"A{i:03d}" for i in range(len(frame))])
    frame["workload"] = 1.0
    frame.loc[frame["team"] == "T9", "workload"] = 2.0
    path = tmp_path / "accounts.csv"
    frame.to_csv(path, index=False)
    return path, frame, tmp_path


def _out(path):
    return pd.read_csv(path, dtype=str)


def test_more_territories_than_today_opens_new_ones_named_after_the_scheme(grid, capsys):
    path, frame, tmp = grid
    out = tmp / "out.csv"
    assert main(["align", str(path), "--current", "team", "--territories", "11", "--tolerance", "0.1",
                 "--out", str(out)]) == 0
    result = _out(out)
    assert result["account_id"].tolist() == frame["account_id"].tolist()
    assert set(result["territory_id"]) == {f"T{i}" for i in range(1, 12)}
    printed = capsys.readouterr().out
    assert "opened: T10, T11 (new territories)" in printed
    assert "lower bound (any territory may take from any other):" in printed
    assert "lower bound (moves only between bordering territories):" in printed


def test_fewer_territories_and_named_closures(grid, capsys):
    path, _, tmp = grid
    out = tmp / "out.csv"
    assert main(["align", str(path), "--current", "team", "--close", "T1,T5", "--tolerance", "0.1",
                 "--out", str(out)]) == 0
    assert set(_out(out)["territory_id"]) == {"T2", "T3", "T4", "T6", "T7", "T8", "T9"}
    assert "closed: T1, T5" in capsys.readouterr().out
    assert main(["align", str(path), "--current", "team", "--territories", "8", "--tolerance", "0.1",
                 "--out", str(out)]) == 0
    kept = set(_out(out)["territory_id"])
    assert len(kept) == 8 and kept < {f"T{i}" for i in range(1, 10)}


def test_max_moved_is_kept_exactly(grid, capsys):
    path, frame, tmp = grid
    out = tmp / "out.csv"
    assert main(["align", str(path), "--current", "team", "--max-moved", "0.02", "--move-penalty-km", "50",
                 "--out", str(out)]) == 0
    moved = (_out(out)["territory_id"].to_numpy() != frame["team"].to_numpy())
    assert frame["workload"][moved].sum() <= 0.02 * frame["workload"].sum() + 1e-9
    assert "disruption budget 2.0% of workload kept" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--max-moved", "0"], r"max_moved_share \(CLI: --max-moved\) must be a share of the workload in \(0, 1\]"),
    (["--max-moved", "1.5"], r"max_moved_share \(CLI: --max-moved\) must be a share .*, got 1\.5"),
    (["--move-penalty-km", "-1"], r"move_penalty_km \(CLI: --move-penalty-km\) must be a distance in km"),
    (["--close", " , "], r"--close needs territory ids"),
    (["--close", "T42"], r"close=\['T42'\] names territories that are not current"),
])
def test_bad_realignment_options_get_one_clear_line(grid, capsys, args, message):
    path, _, tmp = grid
    code = main(["align", str(path), "--current", "team", *args, "--out", str(tmp / "out.csv")])
    assert code != 0
    assert re.search(message, capsys.readouterr().err)


def test_realignment_options_need_current(grid, capsys):
    path, _, tmp = grid
    assert main(["align", str(path), "--territories", "3", "--close", "T1", "--out", str(tmp / "o.csv")]) != 0
    assert "--close needs --current COL" in capsys.readouterr().err


def test_a_budget_too_small_for_the_new_territories_is_named_in_the_summary(tmp_path, capsys):
    # Four territories of 60 accounts, two overloaded; six wanted with a 5% budget: the new ones cannot be filled.
    rng = np.random.default_rng(0)
    rows = []
    for name, lat, lon, w in [("T1", 41, -101, 1.6), ("T2", 41, -100, 1.2), ("T3", 40, -101, 0.6), ("T4", 40, -100, 0.6)]:
        for _ in range(60):
            rows.append((lat + rng.random() * 0.9, lon + rng.random() * 0.9, w * rng.uniform(0.8, 1.2), name))
    frame = pd.DataFrame(rows, columns=["latitude", "longitude", "workload", "team"])
    frame.insert(0, "account_id", [f"A{i:03d}" for i in range(len(frame))])
    path, out = tmp_path / "accounts.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    assert main(["align", str(path), "--current", "team", "--territories", "6", "--max-moved", "0.05",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert re.search(r"disruption budget 5\.0% of workload cannot fill the new territories: T5 holds \d+\.\d% and "
                     r"T6 \d+\.\d% of workload against a target of 16\.7% each", text)
    assert "--max-moved" in text
    result = _out(out)
    assert set(result["territory_id"]) == {"T1", "T2", "T3", "T4", "T5", "T6"}
    moved = (result["territory_id"] != frame["team"]).to_numpy()
    assert frame["workload"][moved].sum() <= 0.05 * frame["workload"].sum() + 1e-9
