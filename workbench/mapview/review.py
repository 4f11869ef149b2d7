"""What the comparison map tells people about an edited proposal: scorecard, warnings, tooltips.

Functions of a :class:`~workbench.mapview.model.ComparisonModel`; they read its
state and never change it. The model's methods of the same names call them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import present

#: At most this many far moves are listed one by one in the review (the rest are counted).
MAX_FAR_LISTED = 10
#: At most this many far moves of one edit are listed in its alerts.
MAX_FAR_ALERTS = 5


def scorecard(model) -> pd.DataFrame:
    """Balance and disruption, current vs proposed; see :meth:`ComparisonModel.scorecard`."""
    rows = {}
    total = model._values.sum(axis=0)
    for side, current in (("current", True), ("proposed", False)):
        deviation = np.abs(model.deviation(current))
        array = model.current_loads_array if current else model._loads
        column = {}
        for j, metric in enumerate(model.metrics):
            column[f"max deviation {metric}"] = float(np.nanmax(deviation[:, j])) if deviation.size else 0.0
            column[f"within tolerance {metric}"] = int((deviation[:, j] <= model.tolerance + 1e-12).sum())
        column["territories"] = int((array[:, 0] > 0).sum())
        if model.graph is not None:
            pieces = model.current_pieces if current else model.pieces
            column["non-contiguous territories"] = int((pieces > 1).sum())
        column["far moves"] = 0 if current else int(model.far_items().sum())
        column["edits on the map"] = 0 if current else len(model._undo)
        column["accounts moved"] = 0 if current else int(model._moved[0])
        for j, metric in enumerate(model.metrics):
            column[f"{metric} moved"] = (0.0 if current else float(model._moved[j + 1] / total[j + 1])
                                         if total[j + 1] else 0.0)
        rows[side] = column
    return pd.DataFrame(rows)


def review_notes(model) -> list[str]:
    """Warnings about the edited proposal; see :meth:`ComparisonModel.review`."""
    notes = []
    for code in np.flatnonzero((model.pieces > 1) & (model.pieces > model.current_pieces)):
        notes.append(f"{model.territory_label(code)} is not contiguous: {model.pieces[code]} separate pieces")
    far = np.flatnonzero(model.far_items())
    for item in far[:MAX_FAR_LISTED]:
        owner = model.item_owner[item]
        notes.append(f"{model.item_names[item]} moved to {model.territory_label(owner)} is "
                     f"{present.km(model.home_km[item, owner])} from the rep's home")
    if len(far) > MAX_FAR_LISTED:
        notes.append(f"... and {len(far) - MAX_FAR_LISTED} more blocks moved far from their rep's home")
    return notes


def edit_alerts(model, touched: np.ndarray, items: np.ndarray) -> list[str]:
    """Warnings about one edit: territories it leaves in more pieces than today, blocks it sends far."""
    notes = []
    for code in touched:
        if model.pieces[code] > 1 and model.pieces[code] > model.current_pieces[code]:
            notes.append(f"{model.territory_label(code)} is no longer contiguous: {model.pieces[code]} pieces")
    far = model.far_items()
    for item in items[far[items]][:MAX_FAR_ALERTS]:
        owner = model.item_owner[item]
        notes.append(f"{model.item_names[item]} is {present.km(model.home_km[item, owner])} from the home of "
                     f"{model.territory_label(owner)}'s rep (far: over {present.km(model.far_limit[owner])})")
    return notes


def describe_item(model, item_id, side: str = "proposed") -> dict:
    """What the tooltip shows for an item; see :meth:`ComparisonModel.describe_item`."""
    key = str(item_id)
    if key in model._empty_index:
        name = model.empty_names[model._empty_index[key]]
        return {"name": str(name), "accounts": 0, "territory": None,
                "text": f"{name}: no accounts (belongs to no territory)"}
    index = model.item_index(key)
    owner = (model.item_owner if side == "proposed" else model.item_current)[index]
    loads = model.current_loads_array if side == "current" else model._loads
    deviation = model.deviation(current=(side == "current"))
    parts = [f"{model.item_names[index]}", f"{model.territory_label(owner)}",
             f"{present.count(model.item_count[index], 'account')} here"]
    for j, metric in enumerate(model.metrics[:2]):
        parts.append(f"territory {metric} {present.format_value(loads[owner, j + 1], metric)} "
                     f"({present.percent(deviation[owner, j], fraction=True, signed=True)})")
    return {"name": str(model.item_names[index]), "territory": str(model.territories[owner]),
            "rep": str(model.rep_names[owner]), "accounts": int(model.item_count[index]), "text": " · ".join(parts)}
