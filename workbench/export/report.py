"""``report.html``: one self-contained, interactive page for stakeholders.

The headline first (what changes, who is affected, balance before and after),
then an interactive Leaflet map (current and proposed territories, toggled or
side by side, hover tooltips; Leaflet is vendored and inlined, see
:mod:`workbench.export.webmap`), the approval, and tables formatted for people
(:mod:`workbench.present`) that fit the page. Nothing is fetched: no CDN, no
tiles, no fonts; the static map is kept as an embedded PNG for printing. The
file opens offline and can be mailed as is. Every piece of user text goes
through :func:`html.escape`; no code and no local paths are shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#1b1f24;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:.25em .6em}th{background:#eef2f7;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.banner{background:#f8d7da;color:#842029;border:2px solid #842029;padding:.8em;font-weight:bold;
font-size:1.2em;margin:1em 0}
.approval{background:#e8f5e9;border:1px solid #2e7d32;padding:.6em 1em}
.approval.draft{background:#fff3cd;border-color:#997404}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #d0d7de}
.hash{font-family:monospace;word-break:break-all}
.headline{font-size:1.05em;background:#eef2f7;border-left:4px solid #1f4e8c;padding:.5em 1em}
.headline li{margin:.2em 0}.accepted{color:#842029}
details summary{cursor:pointer;color:#1f4e8c}
"""


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@dataclass
class ReportContent:
    """What the report shows; built by :func:`workbench.export.export_plan`."""

    plan_name: str
    plan_hash: str
    input_hash: str
    draft: bool
    approval: dict
    maps: list = field(default_factory=list)  # (caption, data URI)
    scorecard: pd.DataFrame | None = None
    territories: pd.DataFrame | None = None
    moved_summary: dict = field(default_factory=dict)
    transfers: pd.DataFrame | None = None
    created_at: str = ""
    versions: dict = field(default_factory=dict)
    headline: list = field(default_factory=list)  # sentences for people, most important first
    map_data: dict | None = None  # layers for the interactive map (workbench.export.webmap.map_data)


def render_report(content: ReportContent) -> str:
    """The whole HTML page as text.

    Examples
    --------
    >>> page = render_report(ReportContent("<Q3>", "abc", "def", True, {"approved_by": None}))
    >>> "&lt;Q3&gt;" in page and "<Q3>" not in page and "DRAFT" in page
    True
    """
    from workbench import present

    title = f"{'DRAFT ' if content.draft else ''}Territory plan: {content.plan_name}"
    interactive = content.map_data is not None
    script_src = " script-src 'unsafe-inline';" if interactive else ""
    style, scripts = ("", "")
    if interactive:
        from workbench.export import webmap

        style, scripts = webmap.page_assets()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        f'style-src \'unsafe-inline\';{script_src}">',
        f"<title>{_esc(title)}</title><style>{_CSS}{style}</style></head><body>",
    ]
    if content.draft:
        parts.append('<div class="banner" id="draft-banner">DRAFT: this plan is NOT approved. '
                     "Review copy only; do not load it into the CRM or share it as final.</div>")
    parts.append(f"<h1>{_esc(title)}</h1>")
    parts.append(f"<p>Exported {_esc(content.created_at)} by Territory Workbench "
                 f"{_esc(content.versions.get('territory-workbench', ''))}.</p>")
    parts.append('<h2 id="headline">What changes</h2>')
    summary = content.moved_summary
    lines = []
    if summary:
        lines.append(f"{summary['moved']:,} of {summary['accounts']:,} accounts change territory "
                     f"({summary['moved_share']:.1%})"
                     + (f", carrying {summary['load_share']:.1%} of the {summary['load']}"
                        if summary.get("load_share") is not None else "") + ".")
    else:
        lines.append("No current alignment was given, so moves are not known.")
    lines += list(content.headline)
    parts.append('<ul class="headline">' + "".join(f"<li>{_esc(line)}</li>" for line in lines) + "</ul>")
    parts.append('<h2 id="maps">Map</h2>')
    if interactive:
        from workbench.export import webmap

        parts.append(webmap.map_section(content.map_data))
    for caption, uri in content.maps:
        tag = "details" if interactive else "div"
        opening = f"<{tag}><summary>Static picture for printing: {_esc(caption)}</summary>" if interactive else "<div>"
        parts.append(f'{opening}<figure><img src="{_esc(uri)}" alt="{_esc(caption)}">'
                     f"<figcaption>{_esc(caption)}</figcaption></figure></{tag}>")
    if not interactive and not content.maps:
        parts.append("<p>No map (the map module was not available).</p>")
    parts.append(_approval_block(content))
    if content.scorecard is not None:
        parts.append('<h2 id="scorecard">Scorecard</h2>')
        parts.append(present.html_table(present.scorecard_table(content.scorecard), index=True))
    if content.territories is not None:
        parts.append('<h2 id="territories">Territories</h2>')
        parts.append(present.html_table(content.territories, index=True))
    parts.append('<h2 id="moved">Largest transfers</h2>')
    if not summary:
        parts.append("<p>No current alignment was given, so moves are not known.</p>")
    elif content.transfers is not None and len(content.transfers):
        parts.append(present.html_table(content.transfers, caption="From the current to the proposed territory, "
                                        "largest first", max_rows=30))
    else:
        parts.append("<p>No account changes territory.</p>")
    if interactive:
        parts.append(f"<script>{scripts}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _approval_block(content: ReportContent) -> str:
    a = content.approval
    rows = [
        ("Status", "DRAFT (not approved)" if content.draft else "Approved"),
        ("Approved by", a.get("approved_by") or "—"),
        ("Approved at", a.get("approved_at") or "—"),
        ("Note", a.get("approval_note") or "—"),
        ("Warnings acknowledged", "; ".join(a.get("accepted_warnings") or ()) or "—"),
        ("Plan hash", content.plan_hash),
        ("Input data hash", content.input_hash),
    ]
    css = "approval draft" if content.draft else "approval"
    hash_class = ' class="hash"'
    body = "".join(
        f"<tr><th>{_esc(k)}</th><td{hash_class if 'hash' in k else ''}>{_esc(v)}</td></tr>" for k, v in rows
    )
    return f'<h2 id="approval">Approval</h2><div class="{css}"><table>{body}</table></div>'
