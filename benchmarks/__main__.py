"""Run the benchmarks: ``python -m benchmarks [NAME ...] [options for that module]``.

Without names every ``benchmarks/bench_*.py`` module runs; a name such as
``align`` runs ``bench_align.py`` only, and the remaining arguments (e.g.
``--quick``) go to that module's ``main(argv)``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def available() -> list[str]:
    """Benchmark names: ``bench_<name>.py`` files beside this one."""
    return sorted(p.stem[len("bench_"):] for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    chosen = []
    while argv and not argv[0].startswith("-"):
        name = argv.pop(0).removeprefix("bench_").removesuffix(".py")
        if name not in names:
            print(f"error: no benchmark {name!r}; available: {', '.join(names)}", file=sys.stderr)
            return 2
        chosen.append(name)
    status = 0
    for name in chosen or names:
        print(f"== benchmarks/bench_{name}.py", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        status = max(status, int(module.main(argv) or 0))
    return status


if __name__ == "__main__":
    sys.exit(main())
