"""Build hook: put the repository's ``data/`` and ``notebooks/`` into the wheel.

The repository keeps the bundled data in ``data/`` (rebuilt by ``make sample``)
and the guided notebooks in ``notebooks/`` (opened by ``make lab``), one copy
each. A wheel must carry both inside the package, so ``build_py`` copies them
to ``workbench/resources/data`` and ``workbench/resources/notebooks`` of the
build; :mod:`workbench.bundled` finds them there with ``importlib.resources``
and falls back to the repository folders in a checkout or an editable
install. Everything else is configured in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Repository folder -> (folder inside the installed package, file patterns shipped).
SHIPPED = {
    "data": ("workbench/resources/data", ("README.md", "geo/*.gpkg", "geo/*.csv.gz", "sample/*.csv")),
    "notebooks": ("workbench/resources/notebooks", ("[0-9][0-9]_*.ipynb",)),
}


class BuildPyWithResources(build_py):
    """``build_py`` that also copies the bundled data and notebooks into the build."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads data/ and notebooks/ from the checkout
        for source, (target, patterns) in SHIPPED.items():
            files = sorted({path for pattern in patterns for path in (ROOT / source).glob(pattern) if path.is_file()})
            if not files:
                raise SystemExit(f"build: nothing to ship in {ROOT / source} (patterns {patterns}); run make sample")
            for path in files:
                destination = Path(self.build_lib) / target / path.relative_to(ROOT / source)
                self.mkpath(str(destination.parent))
                self.copy_file(str(path), str(destination), preserve_mode=False)


setup(cmdclass={"build_py": BuildPyWithResources})
