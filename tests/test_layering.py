"""The package's import rules: other subpackages' public names only, and no lower layer importing export or cli."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "workbench"
#: Layers that must not import the layers built on them.
LOWER = ("labels", "safeio", "provenance", "schema", "errors", "io", "geo", "metrics", "align", "plan")
UPPER = ("export", "cli")


def _imports(path: Path):
    """(line, module parts, imported names) of every ``from workbench...`` import in a file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "workbench":
            yield node.lineno, node.module.split("."), [alias.name for alias in node.names]


def _violations(path: Path) -> list[str]:
    top = path.relative_to(PACKAGE).with_suffix("").parts[0]
    found = []
    for line, parts, names in _imports(path):
        target = parts[1] if len(parts) > 1 else None
        if target == top:
            continue  # inside one subpackage its private modules are its own business
        private = [p for p in parts[1:] if p.startswith("_")] + [n for n in names if n.startswith("_")
                                                               and not n.startswith("__")]
        if private:
            found.append(f"{path.name}:{line} imports private {private} from {'.'.join(parts)}")
        if top in LOWER and (target in UPPER or set(names) & set(UPPER) and target is None):
            found.append(f"{path.name}:{line} ({top}) imports {'.'.join(parts)} (an upper layer)")
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_between_subpackages_are_public_and_downward(path):
    assert _violations(path) == []


def test_the_rule_can_fail(tmp_path, monkeypatch):
    bad = tmp_path / "probe.py"  # pretend it is workbench/plan/probe.py
    bad.write_text("from workbench.mapview.model import _labels_of\nfrom workbench.export import export_plan\n")
    monkeypatch.setattr(Path, "relative_to", lambda self, other: Path("plan/probe.py"))
    found = _violations(bad)
    assert len(found) == 2
    assert "imports private ['_labels_of']" in found[0] and "an upper layer" in found[1]
