"""Alignment estimators: scikit-learn-style, ``fit(accounts)`` sets ``labels_``, ``centres_``, ``report_``.

The names are imported on first use (PEP 562): a balanced fit on the command
line then loads neither geopandas nor the block-based estimators.
"""

from workbench.lazy import lazy_names

#: Where each public name lives.
_HOMES = {
    "BalancedTerritories": "workbench.align.balanced",
    "Distance": "workbench.align.base",
    "TerritoryEstimator": "workbench.align.base",
    "check_accounts": "workbench.align.base",
    "check_n_territories": "workbench.align.base",
    "ContiguousTerritories": "workbench.align.contiguous",
    "RegionGrouping": "workbench.align.hierarchy",
    "build_hierarchy": "workbench.align.hierarchy",
    "match_territory_ids": "workbench.align.ids",
    "KMeansTerritories": "workbench.align.kmeans",
    "choose_n_territories": "workbench.align.kmeans",
    "elbow_table": "workbench.align.kmeans",
    "Realignment": "workbench.align.realign",
    "AlignmentReport": "workbench.align.report",
    "ToleranceWarning": "workbench.align.report",
    "build_report": "workbench.align.report",
    "RepAnchoredTerritories": "workbench.align.reps",
    "rep_territory_ids": "workbench.align.reps",
}

__all__ = [
    "AlignmentReport", "BalancedTerritories", "ContiguousTerritories", "Distance", "KMeansTerritories",
    "Realignment", "RegionGrouping", "RepAnchoredTerritories", "TerritoryEstimator", "ToleranceWarning",
    "rep_territory_ids",
    "build_hierarchy", "build_report", "check_accounts", "check_n_territories", "choose_n_territories",
    "elbow_table", "match_territory_ids",
]


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__, globals())
