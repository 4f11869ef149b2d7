"""Alignment estimators: scikit-learn-style, ``fit(accounts)`` sets ``labels_``, ``centers_``, ``report_``."""

from workbench.align.balanced import BalancedTerritories
from workbench.align.base import Distance, TerritoryEstimator, check_accounts, check_n_territories
from workbench.align.report import AlignmentReport, ToleranceWarning, build_report

__all__ = [
    "AlignmentReport", "BalancedTerritories", "Distance", "TerritoryEstimator", "ToleranceWarning",
    "build_report", "check_accounts", "check_n_territories",
]
