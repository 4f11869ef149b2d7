"""``README.txt`` of an export: what each file is, for the person who opens the folder."""

from __future__ import annotations

from pathlib import Path


_README = """\
{banner}Territory plan export: {name}
{underline}

Status:     {status}
Plan hash:  {content_hash}
Input hash: {input_hash}
Approved:   {approved}
Exported:   {created_at}

Files
-----
{files}
manifest.json        sha256 and size of every file, plan and package versions

Check nothing changed: `python -c "from workbench.export import verify_export; verify_export('.')"`.
"""


_FILE_NOTES = {
    "csv": "assignments.csv      one row per account: territory, rep, region/area, current territory, moved flag\n"
           "                     (text starting with = + - @ has a leading apostrophe; workbench.export.read_assignments undoes it)",
    "excel": "summary.xlsx         scorecard, territories, transfer matrix, moved accounts",
    "gis": "territories.gpkg     one polygon per territory with totals (layer 'territories'); territories.geojson the same",
    "salesforce": "salesforce/          Data Loader files for Enterprise Territory Management; read salesforce/README.txt",
    "report": "report.html          stakeholder report: maps, scorecard, territories, moves, approval (opens offline)",
    "shp": "shapefile/           territories.shp (+ .shx .dbf .prj .cpg) for older GIS tools; field names are cut to\n"
           "                     10 characters, shapefile/fields.csv gives each one's full column name",
}


_QUOTA_NOTE = ("quotas.csv           one row per territory: rep, potential, revenue, quota (sums to the target), "
               "its share,\n                     quota / potential and the growth over revenue it asks")


def write_readme(folder: Path, info: dict, formats: list[str], created_at: str, draft: bool,
                  quotas: bool = False) -> None:
    title = f"Territory plan export: {info['name']}"
    banner = ("*** DRAFT: this plan is NOT approved. Review copy only; do not load it into the CRM. ***\n\n"
              if draft else "")
    approved = (f"by {info['approved_by']} at {info['approved_at']}; note: {info['approval_note'] or '-'}"
                if not draft else "no (DRAFT)")
    text = _README.format(
        banner=banner, name=info["name"], underline="=" * len(title), status="DRAFT" if draft else "approved",
        content_hash=info["content_hash"], input_hash=info["input_hash"], approved=approved,
        created_at=created_at, files="\n".join(_FILE_NOTES[f] for f in formats)
        + ("\n" + _QUOTA_NOTE if quotas and "csv" in formats else ""))
    (folder / "README.txt").write_text(text, encoding="utf-8")
