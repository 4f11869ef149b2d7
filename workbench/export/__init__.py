"""Files for people and systems: CSV, Excel, GeoPackage/GeoJSON, Salesforce loads, the report.

>>> from workbench.export import export_plan, read_assignments, verify_export

The names are imported on first use (PEP 562): ``workbench.export.formats``
and the command line's ``--help`` then load neither openpyxl nor geopandas.
"""

from workbench.lazy import lazy_names

#: Where each public name lives.
_HOMES = {
    "export_plan": "workbench.export.core",
    "FORMAT_FILES": "workbench.export.formats",
    "FORMATS": "workbench.export.formats",
    "read_manifest": "workbench.export.manifest",
    "verify_export": "workbench.export.manifest",
    "read_assignments_table": "workbench.export.tables",
    "read_assignments": "workbench.io.assignments",  # the one reader; kept here for callers
}

__all__ = ["export_plan", "read_assignments", "read_assignments_table", "verify_export", "read_manifest",
           "FORMATS", "FORMAT_FILES"]


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__, globals())
