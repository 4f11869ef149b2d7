"""Alignment estimators: scikit-learn-style, ``fit(accounts)`` sets ``labels_``, ``centres_``, ``report_``."""

from workbench.align.balanced import BalancedTerritories
from workbench.align.base import Distance, TerritoryEstimator, check_accounts, check_n_territories
from workbench.align.contiguous import ContiguousTerritories
from workbench.align.hierarchy import RegionGrouping, build_hierarchy
from workbench.align.ids import match_territory_ids
from workbench.align.kmeans import KMeansTerritories, choose_n_territories, elbow_table
from workbench.align.realign import Realignment
from workbench.align.report import AlignmentReport, ToleranceWarning, build_report
from workbench.align.reps import RepAnchoredTerritories, rep_territory_ids

__all__ = [
    "AlignmentReport", "BalancedTerritories", "ContiguousTerritories", "Distance", "KMeansTerritories",
    "Realignment", "RegionGrouping", "RepAnchoredTerritories", "TerritoryEstimator", "ToleranceWarning",
    "rep_territory_ids",
    "build_hierarchy", "build_report", "check_accounts", "check_n_territories", "choose_n_territories",
    "elbow_table", "match_territory_ids",
]
