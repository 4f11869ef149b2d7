"""Alignment metrics as pure functions of accounts and their territory labels.

Every function takes the accounts frame (standard columns, see
:mod:`workbench.schema`) and ``labels``: one territory id per account row
(an array aligned with the rows, or a Series indexed like ``accounts``).
Nothing here mutates its inputs.

- Loads and balance: :func:`territory_loads`, :func:`deviation_from_mean`, :func:`max_deviation`;
  :func:`balance_targets` is the one definition of each territory's target (rep capacity, else the mean).
- Travel: :func:`territory_centres`, :func:`distance_to_centre_km`, :func:`compactness_km`,
  :func:`overall_compactness_km`, :func:`rep_homes`, :func:`distance_to_rep_km`.
- Shape of block territories: :func:`polsby_popper`, :func:`contiguity`.
- Everything at once: :func:`territory_summary` (per territory) and :func:`scorecard` (one column).
"""

from workbench.metrics._core import (assigned_mask, balance_targets, compactness_km, deviation_from_mean,
                                     deviation_from_target, distance_to_centre_km, max_deviation, moved_share,
                                     overall_compactness_km, territory_centres, territory_loads, whole_blocks)
from workbench.metrics.shape import block_graph, contiguity, polsby_popper
from workbench.metrics.summary import (SUMMARY_COLUMNS, distance_to_rep_km, rep_homes, scorecard,
                                       territory_summary)

__all__ = ["territory_loads", "balance_targets", "deviation_from_target", "deviation_from_mean", "max_deviation",
           "territory_centres", "distance_to_centre_km",
           "compactness_km", "overall_compactness_km", "assigned_mask", "rep_homes", "distance_to_rep_km",
           "polsby_popper", "contiguity", "block_graph", "territory_summary", "scorecard", "SUMMARY_COLUMNS",
           "moved_share", "whole_blocks"]
