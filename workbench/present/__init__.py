"""Numbers and tables for people: one place that decides how every figure reads.

Scorecards, territory tables, transfer matrices and moved-accounts lists are
frames of machine numbers (``72838480.0``, ``-150.976575``, fractions next to
percents). This module turns them into what a sales manager reads:

* money with thousands separators, and ``$K``/``$M``/``$B`` where it helps
  (``$45,200``, ``$23.4M``);
* whole numbers as integers (``1,234``), hours and kilometres rounded
  (``1,950 h``, ``151 km``);
* **one percent convention**: every share or deviation is shown in percent with
  one decimal and a sign where it is a change or a deviation (``+12.3%``);
  changes of a percentage are in points (``-3.1 pts``);
* readable column labels (``workload_max_deviation_pct`` ->
  ``Workload: largest deviation``) and the explanation column shown whole;
* never scientific notation, never more than two decimals.

How a column is read is decided from its name (:func:`kind_of`): columns ending
in ``_pct`` hold percents (``15.0`` = 15%); columns naming a deviation or share
without ``_pct`` hold fractions (``0.15`` = 15%). The same decision gives the
Excel number format (:func:`excel_format`), so ``summary.xlsx`` keeps real
numbers with real formats instead of text.

Examples
--------
>>> money(72838480.0), money(45210.4), number(40.0), km(-150.976575)
('$72.8M', '$45,210', '40', '-151 km')
>>> percent(12.345, signed=True), percent(0.05, fraction=True)
('+12.3%', '5.0%')
>>> label("workload_max_deviation_pct"), label("distance_change_km")
('Workload: largest deviation', 'Distance change')
"""

from __future__ import annotations

from workbench.present.columns import (COUNT_WORDS, FLAG_COLUMNS, HOUR_WORDS, MONEY_WORDS, format_value, is_signed,
                                       kind_of)
from workbench.present.excel import (EXCEL_FORMATS, EXCEL_POINTS_FORMAT, EXCEL_SIGNED_FORMATS, excel_format,
                                     excel_scorecard, excel_value)
from workbench.present.labels import label
from workbench.present.numbers import (MISSING, count, hours, integer, km, money, money_k, number, percent, points,
                                       yes_no)
from workbench.present.tables import format_frame, html_table, scorecard_table, scorecard_text, text_table

__all__ = ["count", "number", "integer", "money", "money_k", "percent", "points", "km", "hours", "yes_no", "kind_of",
           "is_signed", "format_value", "label", "format_frame", "scorecard_table", "scorecard_text", "text_table",
           "html_table", "excel_format", "excel_value", "excel_scorecard", "MISSING", "COUNT_WORDS", "FLAG_COLUMNS",
           "HOUR_WORDS", "MONEY_WORDS", "EXCEL_FORMATS", "EXCEL_POINTS_FORMAT", "EXCEL_SIGNED_FORMATS"]
