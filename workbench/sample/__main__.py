"""``python -m workbench.sample [--raw DIR] [--out DIR]``: rebuild the bundled sample data."""

from __future__ import annotations

import argparse
import sys

from workbench.errors import WorkbenchError
from workbench.sample import DEFAULT_OUT_DIR, RAW_ENV, build_sample, default_raw_dir


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build, print the summary; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m workbench.sample", description=__doc__)
    parser.add_argument("--raw", default=None,
                        help=f"raw data folder (default: ${RAW_ENV} or {default_raw_dir()})")
    parser.add_argument("--out", default=None, help=f"output folder (default: {DEFAULT_OUT_DIR or 'none when installed: required'})")
    args = parser.parse_args(argv)
    try:
        summary = build_sample(args.raw, args.out)
    except (WorkbenchError, FileNotFoundError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
