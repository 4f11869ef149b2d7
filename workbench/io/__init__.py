"""Load and validate accounts, reps and building blocks, with messages that say what to fix.

Every loader accepts a file path (CSV, Excel, Parquet, GeoPackage, GeoJSON,
shapefile) or a frame, renames the user's columns to the standard names of
:mod:`workbench.schema`, and raises :class:`~workbench.errors.InputError`
naming the file, the column, the first offending lines, the values and the fix.
"""

from workbench.io.accounts import DEFAULT_METRICS, load_accounts, normalise_zip
from workbench.io.report import LoadReport

__all__ = ["DEFAULT_METRICS", "LoadReport", "load_accounts", "normalise_zip"]
