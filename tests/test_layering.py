"""The package's import rules: other subpackages' public names only, and imports only downwards through the layers."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "workbench"

#: The layers, lowest first. A module may import from its own layer and the layers below it, never from
#: a layer above (so a change to the CLI or an export format can never break a loader or an estimator).
LAYERS = (
    ("errors", "schema"),                                                        # words everything uses
    ("labels", "geo", "provenance", "siblings", "present", "crmnames", "progress", "lazy"),  # pure helpers
    ("checks", "locking", "safeio", "shapes", "metrics"),                        # checks, safe files, measures
    ("bundled", "zipareas", "sample", "io", "render_notebooks"),                 # data in
    ("align", "plan"),                                                           # estimators, the Plan
    ("compare", "gaps", "capacity", "quota", "signoff", "marketmaps"),           # analyses of plans
    ("mapview", "staticmap"),                                                    # maps
    ("export",),                                                                 # files out
    ("cli", "__main__", "__init__"),                                             # the command line, the package
)
LAYER = {name: level for level, names in enumerate(LAYERS) for name in names}


def _imports(path: Path):
    """(line, module parts, imported names) of every ``from workbench...`` import in a file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "workbench":
            yield node.lineno, node.module.split("."), [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "workbench":
                    yield node.lineno, alias.name.split("."), []


def _violations(path: Path, relative: Path | None = None) -> list[str]:
    top = (relative or path.relative_to(PACKAGE)).with_suffix("").parts[0]
    found = []
    for line, parts, names in _imports(path):
        # `from workbench import present` imports the top-level module named; `from workbench.x import y` imports x.
        targets = [parts[1]] if len(parts) > 1 else [n for n in names if not n.startswith("__")]
        for target in targets:
            if target == top:
                continue  # inside one subpackage its private modules are its own business
            private = [p for p in parts[2:] if p.startswith("_")] + [n for n in names if n.startswith("_")
                                                                   and not n.startswith("__")]
            if target.startswith("_") and target not in LAYER:
                private.insert(0, target)
            if private:
                found.append(f"{path.name}:{line} imports private {private} from {'.'.join(parts)}")
            if target not in LAYER:
                found.append(f"{path.name}:{line} imports workbench.{target}, which has no layer in LAYERS")
            elif LAYER[target] > LAYER.get(top, len(LAYERS)):
                found.append(f"{path.name}:{line} ({top}, layer {LAYER[top]}) imports {'.'.join(parts)} "
                             f"(layer {LAYER[target]}): an upward import")
    return found


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).with_suffix("").parts[0] for p in PACKAGE.rglob("*.py")}
    assert tops - set(LAYER) == set(), "add the new module to LAYERS in tests/test_layering.py"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_between_subpackages_are_public_and_downward(path):
    assert _violations(path) == []


@pytest.mark.parametrize("source, relative, expected", [
    ("from workbench.mapview.model import Change\n", "plan/probe.py", "an upward import"),
    ("from workbench.export import export_plan\n", "plan/probe.py", "an upward import"),
    ("from workbench import signoff\n", "plan/probe.py", "an upward import"),
    ("import workbench.cli\n", "safeio.py", "an upward import"),
    ("def f():\n    from workbench.compare import compare_plans\n", "metrics/probe.py", "an upward import"),
    ("from workbench.align._partition import partition\n", "plan/probe.py", "imports private ['_partition']"),
    ("from workbench.labels import _private\n", "plan/probe.py", "imports private ['_private']"),
    ("from workbench.plan._store import approve\n", "signoff.py", "imports private ['_store']"),
])
def test_the_rule_can_fail(tmp_path, source, relative, expected):
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    found = _violations(probe, Path(relative))
    assert len(found) == 1 and expected in found[0], found


def test_same_layer_and_downward_imports_pass(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from workbench.plan import Plan\nfrom workbench.labels import show\n"
                     "from workbench.align._partition import partition\n")
    assert _violations(probe, Path("align/probe.py")) == []
