"""The README's command-line reference lists every command and every option of each."""

from __future__ import annotations

import re
from pathlib import Path

from workbench.cli.reference import commands, option_names, reference

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def _section() -> str:
    text = README.read_text()
    assert START in text and END in text, "README.md needs the command-line reference between its markers"
    return text.split(START, 1)[1].split(END, 1)[0]


def _subsections(section: str) -> dict:
    parts = re.split(r"^#### `workbench ([a-z-]+)`$", section, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def _listed(option: str, text: str) -> bool:
    return re.search(rf"^- `{re.escape(option)}[` ]", text, flags=re.M) is not None


def test_every_command_has_its_reference_section_in_order():
    assert list(_subsections(_section())) == list(commands()), \
        "regenerate with: python -m workbench.cli.reference (and paste between the markers)"


def test_every_option_of_every_command_is_in_its_section():
    sections = _subsections(_section())
    missing = {name: [o for o in option_names(sub) if not _listed(o, sections.get(name, ""))]
               for name, sub in commands().items()}
    assert {k: v for k, v in missing.items() if v} == {}, "python -m workbench.cli.reference prints the reference"


def test_the_check_can_fail():
    fake = reference().replace("`--strict`", "`--stricter`")
    sections = _subsections(fake)
    assert "--strict" in option_names(commands()["align"]) and not _listed("--strict", sections["align"])
    assert _listed("--strict", _subsections(reference())["align"])
