import numpy as np
import pandas as pd
import pytest

from workbench.align.ids import match_territory_ids
from workbench.cli import main


def test_each_new_territory_takes_the_current_id_it_shares_most_weight_with():
    labels = ["x", "x", "y", "y", "z"]
    current = ["B", "B", "A", "B", "A"]
    weights = [1, 1, 3, 1, 1]
    # x<->B (weight 2) and y<->A (weight 4) are the best one-to-one match; z gets a fresh id.
    out = match_territory_ids(labels, current, weights)
    assert out[:4].tolist() == ["B", "B", "A", "A"]
    assert out[4] not in {"A", "B"}


def test_extra_new_territories_continue_the_current_numbering_and_never_reuse_an_id():
    out = match_territory_ids(["a", "b", "c"], ["T09", "T10", "T10"])
    assert sorted(out.tolist()) == ["T09", "T10", "T11"]


def test_missing_current_values_are_allowed():
    out = match_territory_ids(["a", "b"], ["T1", None])
    assert out.tolist() == ["T1", "T2"]


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in length"):
        match_territory_ids(["a"], ["T1", "T2"])


def test_cli_fresh_alignment_keeps_current_names(tmp_path, capsys):
    rng = np.random.default_rng(0)
    west = pd.DataFrame({"latitude": 40 + rng.random(20), "longitude": -120 + rng.random(20), "current_territory": "WEST"})
    east = pd.DataFrame({"latitude": 40 + rng.random(20), "longitude": -75 + rng.random(20), "current_territory": "EAST"})
    accounts = pd.concat([west, east], ignore_index=True)
    accounts.insert(0, "account_id", [f"A{i:02d}" for i in range(40)])
    accounts["workload"] = 1.0
    path = tmp_path / "accounts.csv"
    accounts.to_csv(path, index=False)
    out = tmp_path / "out.csv"
    assert main(["align", str(path), "--territories", "2", "--out", str(out), "--seed", "1"]) == 0
    result = pd.read_csv(out, dtype=str)
    assert (result["territory_id"] == accounts["current_territory"]).all()
    assert "40 of 40 accounts keep their territory id" in capsys.readouterr().out
