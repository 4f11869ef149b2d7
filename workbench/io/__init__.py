"""Load and validate accounts, reps and building blocks, with messages that say what to fix.

Every loader accepts a file path (CSV, Excel, Parquet, GeoPackage, GeoJSON,
shapefile) or a frame, renames the user's columns to the standard names of
:mod:`workbench.schema`, and raises :class:`~workbench.errors.InputError`
naming the file, the column, the first offending lines, the values and the fix.
"""

from workbench.io.accounts import DEFAULT_METRICS, load_accounts, normalise_zip
from workbench.io.assignments import read_assignments
from workbench.io.blocks import check_blocks_cover, load_blocks
from workbench.io.report import LoadReport
from workbench.io.reps import load_reps

__all__ = ["DEFAULT_METRICS", "LoadReport", "check_blocks_cover", "load_accounts", "load_blocks",
           "load_reps", "normalise_zip", "read_assignments"]
