"""Interactive maps: compare the current and proposed alignment and edit the proposal.

>>> from workbench.mapview import ComparisonMap, ComparisonModel
"""

from workbench.mapview.model import ComparisonModel
from workbench.mapview.view import ComparisonMap

__all__ = ["ComparisonMap", "ComparisonModel"]
