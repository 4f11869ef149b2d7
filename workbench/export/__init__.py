"""Files for people and systems: CSV, Excel, GeoPackage/GeoJSON, Salesforce loads, the report.

>>> from workbench.export import export_plan, read_assignments, verify_export
"""

from workbench.export.core import export_plan
from workbench.export.formats import FORMAT_FILES, FORMATS
from workbench.export.manifest import read_manifest, verify_export
from workbench.export.tables import read_assignments_table
from workbench.io.assignments import read_assignments  # the one reader; kept here for callers

__all__ = ["export_plan", "read_assignments", "read_assignments_table", "verify_export", "read_manifest",
           "FORMATS", "FORMAT_FILES"]
