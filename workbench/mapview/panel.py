"""The side panel of the comparison map as HTML: scorecard, warnings, balance bars, small markers.

Pure functions from the model's numbers to HTML strings; :class:`~workbench.mapview.view.ComparisonMap`
puts them in its ``HTML`` widgets.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from workbench import present
from workbench.mapview.colors import TOL_BURD


def review_html(notes: list[str]) -> str:
    """The warnings box: the model's review notes, or a line saying there are none."""
    if not notes:
        return ("<div class='wb-review' style='font-size:12px;color:#1b5e20'>No warnings: every "
                "territory is contiguous and no block is far from its rep.</div>")
    items = "".join(f"<li>{html.escape(n, quote=False)}</li>" for n in notes)
    return (f"<div class='wb-review' style='font-size:12px;color:#842029'><b>Warnings "
            f"({len(notes)})</b><ul style='margin:2px 0 0 16px;padding:0'>{items}</ul></div>")


def scorecard_html(card: pd.DataFrame) -> str:
    """The live scorecard table (current vs proposed) of :meth:`ComparisonModel.scorecard`."""
    n = int(card.loc["territories", "current"]) if "territories" in card.index else 0
    rows = []
    for name, (cur, new) in card.iterrows():
        if name.startswith("max deviation"):
            label = f"{name.removeprefix('max deviation ').capitalize()}: largest deviation"
            cells = present.percent(cur, fraction=True), present.percent(new, fraction=True)
        elif name.endswith(" moved") and name != "accounts moved":
            label = f"{name.removesuffix(' moved').capitalize()} moved"
            cells = present.percent(cur, fraction=True), present.percent(new, fraction=True)
        elif name.startswith("within tolerance"):
            label = f"Within tolerance ({name.removeprefix('within tolerance ')})"
            cells = f"{present.integer(cur)} of {n}", f"{present.integer(new)} of {n}"
        else:
            label = name[:1].upper() + name[1:]
            cells = present.integer(cur), present.integer(new)
        worse = name in ("non-contiguous territories", "far moves") and new > cur
        style = "text-align:right" + (";color:#B2182B" if worse else "")
        rows.append(f"<tr data-item='{html.escape(name)}'><td>{html.escape(label)}</td>"
                    f"<td style='text-align:right'>{cells[0]}</td><td style='{style}'><b>{cells[1]}</b></td></tr>")
    return ("<table class='wb-scorecard' style='border-collapse:collapse;font-size:12px;width:100%'>"
            "<tr><th style='text-align:left'>Scorecard (live)</th><th>current</th><th>proposed</th></tr>"
            + "".join(rows) + "</table>")


def bars_html(model, colors: dict, fill) -> str:
    """Balance bars per territory of the metric shown, with the legend.

    ``colors`` maps territory id to its colour; ``fill(codes, side)`` gives the deviation
    colours when the map is coloured by a metric.
    """
    metric = model.color_by if model.color_by != "territory" else (model.metrics[0] if model.metrics else None)
    if metric is None:
        return ""
    column = model.metrics.index(metric)
    deviation = model.deviation()[:, column]
    loads = model.loads()[metric].to_numpy()
    top = max(float(np.nanmax(loads)), 1e-12)
    mean_share = np.nanmean(np.where(np.isnan(deviation), np.nan, loads)) / top
    if model.color_by == "territory":
        fills = [colors[str(t)] for t in model.territories]
    else:
        fills = fill(np.arange(len(model.territories)), "proposed")
    rows = []
    for i, territory in enumerate(model.territories):
        if np.isnan(deviation[i]) and territory != model.target:
            continue
        over = abs(deviation[i]) > model.tolerance
        is_target = territory == model.target
        target = " data-target='1'" if is_target else ""
        rep = html.escape(str(model.rep_names[i]))
        title = html.escape(f"{model.territory_label(i)}: {present.format_value(loads[i], metric)}")
        rows.append(
            f"<div data-territory='{html.escape(str(territory))}' data-color='{fills[i]}'{target} title='{title}' "
            f"style='display:flex;align-items:center;gap:4px;height:16px;{'font-weight:bold' if is_target else ''}'>"
            f"<span style='width:12px;height:12px;background:{fills[i]};border:1px solid #555;flex:0 0 12px'></span>"
            f"<span style='width:34px'>{html.escape(str(territory))}</span>"
            f"<span style='width:92px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;color:#444'>{rep}</span>"
            f"<span style='position:relative;flex:1;height:11px;background:#f0f0f0'>"
            f"<span style='position:absolute;left:0;top:0;height:11px;width:{100 * loads[i] / top:.1f}%;"
            f"background:{fills[i]};border:1px solid #555;box-sizing:border-box'></span>"
            f"<span style='position:absolute;left:{100 * mean_share:.1f}%;top:-2px;height:15px;"
            f"border-left:1px dashed #000'></span></span>"
            f"<span style='width:52px;text-align:right;{'color:#B2182B;font-weight:bold' if over else ''}'>"
            f"{present.MISSING if np.isnan(deviation[i]) else present.percent(deviation[i], fraction=True, signed=True)}"
            f"</span></div>")
    legend = ("<div class='wb-legend' style='font-size:11px;margin-top:6px;line-height:1.6'>"
              "<span style='display:inline-block;width:14px;height:10px;border:2px solid #000'></span> moved block "
              "&nbsp; <span style='display:inline-block;width:14px;height:10px;border:2px dashed #333'></span> locked "
              "&nbsp; <span style='display:inline-block;width:14px;height:10px;background:#d9d9d9'></span> no accounts "
              "&nbsp; <span style='display:inline-block;width:8px;height:8px;border-radius:50%;background:#fff;"
              "border:2px solid #000'></span> rep's home &nbsp; dashed line = mean</div>")
    if model.color_by != "territory":
        gradient = ", ".join(TOL_BURD)
        legend += (f"<div style='font-size:11px'>under <span style='display:inline-block;width:120px;height:9px;"
                   f"background:linear-gradient(to right, {gradient})'></span> over the mean</div>")
    return (f"<div class='wb-bars' style='font-size:11px'><b>Legend: {html.escape(metric)} by territory</b> "
            f"(deviation from the mean, tolerance ±{present.percent(model.tolerance, fraction=True)})"
            + "".join(rows) + legend + "</div>")


#: The marker next to the save button.
UNSAVED_HTML = {
    True: "<span class='wb-unsaved' data-unsaved='1' style='color:#842029;font-weight:bold'>&#9679; unsaved changes</span>",
    False: "<span class='wb-unsaved' data-unsaved='0' style='color:#555'>no unsaved changes</span>",
}


def smaller(height: str) -> str:
    """The current map's height: 80% of the proposed map's (it is for reading, not editing)."""
    if height.endswith("px"):
        return f"{int(float(height[:-2]) * 0.8)}px"
    return height


def rep_icon(name, show_name: bool = True) -> str:
    """A small home dot with the rep's name beside it (DivIcon HTML); without ``show_name``, the dot alone.

    The name lets the mouse through (``pointer-events:none``): it lies over the blocks around the home,
    and must not stop a click or hover on them. Names are left out where they would overlap
    (:func:`workbench.mapview.homes.names_that_fit`); the marker's title still names the rep on hover.
    """
    dot = ("<div style='width:8px;height:8px;border-radius:50%;background:#fff;"
           "border:2px solid #000;box-sizing:border-box'></div>")
    if not show_name:
        return "<div style='position:relative'>" + dot + "</div>"
    return ("<div style='position:relative'>" + dot + "<div class='wb-rep-name' style='pointer-events:none;"
            "position:absolute;left:10px;top:-4px;white-space:nowrap;font-size:10px;font-weight:600;color:#000;"
            "text-shadow:0 0 2px #fff,0 0 2px #fff'>" + html.escape(str(name)) + "</div></div>")
