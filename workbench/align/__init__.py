"""Alignment estimators: scikit-learn-style, ``fit(accounts)`` sets ``labels_``, ``centers_``, ``report_``."""

from workbench.align.report import AlignmentReport, ToleranceWarning, build_report

__all__ = ["AlignmentReport", "ToleranceWarning", "build_report"]
