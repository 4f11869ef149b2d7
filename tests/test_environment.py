"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:>=\s*([^,;\s]+))?")


def _parse(requirement: str) -> tuple[str, str | None]:
    match = _REQUIREMENT.match(requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2)


def _pyproject_requirements() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return dict(_parse(r) for r in requirements)


def _conda_requirements() -> tuple[dict[str, str | None], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip += entry.get("pip", [])
            continue
        name, bound = _parse(entry)
        if name not in {"python", "pip"}:
            conda[name] = bound
    return conda, pip


def test_same_packages_and_lower_bounds():
    conda, _ = _conda_requirements()
    pip = _pyproject_requirements()
    assert sorted(conda) == sorted(pip), (
        f"only in environment.yml: {sorted(set(conda) - set(pip))}; "
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}"
    )
    drift = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert not drift, f"lower bounds differ (pyproject, environment.yml): {drift}"


def test_conda_env_installs_the_package_itself():
    _, pip = _conda_requirements()
    assert "-e ." in pip


def test_python_floor_matches():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "python>=3.11" in env["dependencies"]
    assert project["requires-python"] == ">=3.11"


def test_parse_detects_a_drift():
    # The comparison above would see a changed bound: guard the parser itself.
    assert _parse("pandas>=2.2") == ("pandas", "2.2")
    assert _parse("scikit_learn >= 1.5") == ("scikit-learn", "1.5")
    assert _parse("pip") == ("pip", None)
