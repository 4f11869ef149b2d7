"""``workbench gaps``: the ranked CSV, the uncovered accounts beside it, one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_gaps import BLOCKS, REPS, accounts
from workbench.cli import main


@pytest.fixture
def files(tmp_path):
    accounts().rename(columns={"territory": "terr", "potential": "pot"}).to_csv(tmp_path / "accounts.csv", index=False)
    REPS.to_csv(tmp_path / "reps.csv", index=False)
    BLOCKS.to_file(tmp_path / "blocks.gpkg", layer="blocks")
    return tmp_path


def test_gaps_csv_ranked_and_uncovered_beside_it(files, capsys):
    out = files / "gaps.csv"
    assert main(["gaps", str(files / "accounts.csv"), "--reps", str(files / "reps.csv"), "--current", "terr",
                 "--potential-col", "pot", "--block-col", "block", "--max-km", "160", "--out", str(out)]) == 0
    gaps = pd.read_csv(out, dtype={"block_id": str})
    assert gaps["block_id"].tolist() == ["E", "W", "M"] and gaps["gap_score"].tolist() == [100.0, 6.7, 0.0]
    assert gaps["territory_id"].tolist() == ["T2", "T1", "T1"]
    assert {"potential", "revenue", "penetration", "accounts", "km_to_rep"} <= set(gaps.columns)
    uncovered = pd.read_csv(files / "gaps_uncovered.csv")
    assert uncovered["account_id"].tolist() == ["e1", "e2"]
    printed = capsys.readouterr().out
    assert "uncovered: 2 accounts farther than 160 km from every rep home" in printed
    assert "wrote 3 blocks" in printed


def test_gaps_with_block_polygons(files):
    out = files / "gaps.csv"
    frame = pd.read_csv(files / "accounts.csv").drop(columns="block")
    frame.to_csv(files / "accounts.csv", index=False)
    assert main(["gaps", str(files / "accounts.csv"), "--reps", str(files / "reps.csv"), "--potential-col", "pot",
                 "--blocks", str(files / "blocks.gpkg"), "--block-col", "block_id", "--out", str(out)]) == 0
    gaps = pd.read_csv(out)
    assert gaps.set_index("block_id")["block_name"].to_dict() == {"E": "East", "W": "West", "M": "Middle"}


@pytest.mark.parametrize("extra, match", [
    (["--max-km", "-3"], "max_km (CLI: --max-km) must be a positive distance in kilometres (e.g. 160), got -3"),
    (["--revenue-col", "sales"], "sales"),
    (["--blocks", "x.gpkg"], "needs --block-col"),
])
def test_bad_arguments(files, capsys, extra, match):
    argv = ["gaps", str(files / "accounts.csv"), "--reps", str(files / "reps.csv"), "--potential-col", "pot",
            "--block-col", "block", "--out", str(files / "g.csv"), *extra]
    if "--blocks" in extra:
        argv.remove("--block-col"), argv.remove("block")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err
    assert not (files / "g.csv").exists()
