"""Which files an export writes: the format names, their aliases and the files of each."""

from __future__ import annotations

from workbench.errors import InputError


#: Output groups written by default, in the order they are written.
FORMATS = ("csv", "excel", "gis", "salesforce", "report")
#: Formats written only when asked for (``--format shp``): ESRI shapefile for older GIS tools.
OPTIONAL_FORMATS = ("shp",)


#: Files (or folders) each format writes.
FORMAT_FILES = {
    "csv": ("assignments.csv",),
    "excel": ("summary.xlsx",),
    "gis": ("territories.gpkg", "territories.geojson"),
    "salesforce": ("salesforce/",),
    "report": ("report.html",),
    "shp": ("shapefile/",),
}


_ALIASES = {"assignments": "csv", "xlsx": "excel", "gpkg": "gis", "geojson": "gis", "html": "report",
            "crm": "salesforce", "sfdc": "salesforce", "shapefile": "shp", "esri": "shp"}


def check_formats(formats) -> list[str]:
    """Canonical format names from ``formats`` (None = all; a comma-separated str or a list).

    Examples
    --------
    >>> check_formats("csv,html"), check_formats(None) == list(FORMATS), check_formats("shp,gis")
    (['csv', 'report'], True, ['gis', 'shp'])
    """
    if formats is None:
        return list(FORMATS)
    if isinstance(formats, str):
        formats = formats.split(",")
    chosen = []
    for name in formats:
        if not isinstance(name, str):
            raise TypeError(f"formats must be strings, got {type(name).__name__}")
        key = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if key not in FORMATS + OPTIONAL_FORMATS:
            raise InputError(f"unknown export format {name!r}; choose from {', '.join(FORMATS + OPTIONAL_FORMATS)} "
                             f"(or aliases {', '.join(sorted(_ALIASES))})")
        if key not in chosen:
            chosen.append(key)
    if not chosen:
        raise InputError("formats is empty; choose at least one of " + ", ".join(FORMATS))
    return [f for f in FORMATS + OPTIONAL_FORMATS if f in chosen]
