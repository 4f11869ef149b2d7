"""``workbench notebooks DIR``: the guided notebooks copied into a working folder."""

from __future__ import annotations

import json

from workbench import bundled
from workbench.cli import main


def test_notebooks_copies_into_a_new_folder(tmp_path, capsys):
    assert main(["notebooks", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert f"{len(bundled.notebook_paths())} guided notebooks in {tmp_path / 'work'}" in out
    assert "jupyter lab --notebook-dir" in out
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [p.name for p in bundled.notebook_paths()]


def test_notebooks_json_lists_the_copies(tmp_path, capsys):
    assert main(["notebooks", str(tmp_path), "--json"]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert [p.rsplit("/", 1)[1] for p in paths] == [p.name for p in bundled.notebook_paths()]


def test_notebooks_keeps_edits_without_overwrite(tmp_path, capsys):
    main(["notebooks", str(tmp_path)])
    edited = tmp_path / "01_explore_accounts.ipynb"
    edited.write_text("{}")
    assert main(["notebooks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "01_explore_accounts.ipynb: they were kept; pass --overwrite" in err
    assert edited.read_text() == "{}"
    assert main(["notebooks", str(tmp_path), "--overwrite"]) == 0
    assert edited.read_bytes() == bundled.notebook_paths()[0].read_bytes()
