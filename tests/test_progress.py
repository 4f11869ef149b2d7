"""workbench.progress: bars where work is long, on stderr only, off with --quiet."""

import json

import pandas as pd
import pytest

from workbench import progress


@pytest.fixture(autouse=True)
def _automatic():
    yield
    progress.configure(None)


def test_steps_draw_a_bar_on_stderr_when_enabled(capsys):
    with progress.steps(["read", "write"], desc="demo", enabled=True) as bar:
        bar.step()
        bar.step()
    out, err = capsys.readouterr()
    assert out == "" and "demo: 0/2" in err and bar.done == 2


def test_no_bar_when_not_on_a_terminal_nor_in_a_notebook(capsys, monkeypatch):
    monkeypatch.delenv("WORKBENCH_PROGRESS", raising=False)
    assert not progress.in_notebook() and not progress.enabled()  # pytest's stderr is no terminal
    with progress.steps(["a"], desc="quiet") as bar:
        bar.step()
    assert capsys.readouterr().err == ""


def _accounts(tmp_path):
    frame = pd.DataFrame({"account_id": [f"a{i}" for i in range(40)], "latitude": [40 + i / 20 for i in range(40)],
                          "longitude": [-100 + (i % 7) / 3 for i in range(40)], "workload": [1.0 + i % 3 for i in range(40)]})
    path = tmp_path / "accounts.csv"
    frame.to_csv(path, index=False)
    return path


def test_cli_shows_progress_on_stderr_and_quiet_turns_it_off(tmp_path, capsys, monkeypatch):
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_PROGRESS", "1")  # as on a terminal
    accounts = _accounts(tmp_path)
    assert main(["align", str(accounts), "--territories", "3", "--out", str(tmp_path / "p"), "--json"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)  # stdout keeps exactly one JSON document
    assert "align: 0/3" in err
    assert main(["align", str(accounts), "--territories", "3", "--out", str(tmp_path / "q"), "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "align:" not in err
    assert main(["export", str(tmp_path / "p"), "--to", str(tmp_path / "ex"), "--allow-draft",
                 "--format", "csv,excel"]) == 0
    assert "export: 0/3" in capsys.readouterr().err
