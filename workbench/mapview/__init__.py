"""Interactive maps: compare the current and proposed alignment and edit the proposal.

The widget classes are imported on first use, so that the widget-free parts
of this package (colours, the model) can serve static maps and exports
without loading ipyleaflet and ipywidgets.

>>> from workbench.mapview import ComparisonMap, ComparisonModel
"""

import importlib

__all__ = ["ComparisonMap", "ComparisonModel", "ApprovalPanel", "territory_map"]

_HOMES = {"ComparisonMap": "workbench.mapview.view", "ComparisonModel": "workbench.mapview.model",
          "ApprovalPanel": "workbench.mapview.approval", "territory_map": "workbench.mapview.overview"}


def __getattr__(name):
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbench.mapview' has no attribute {name!r}")
