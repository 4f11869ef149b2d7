"""Excel number formats for ``summary.xlsx``: values stay numbers, the format makes them read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.present.columns import is_signed, kind_of
from workbench.present.labels import label
from workbench.present.numbers import _missing


#: Excel number formats per kind (values stay numbers; percents are stored as fractions).
EXCEL_FORMATS = {
    "money": '"$"#,##0', "hours": '#,##0" h"', "km": '#,##0" km"', "percent": "0.0%", "fraction": "0.0%",
    "count": "#,##0", "score": "0.00", "coordinate": "0.0000", "number": "#,##0.##",
}
#: Signed variants (changes and deviations).
EXCEL_SIGNED_FORMATS = {
    "money": '+"$"#,##0;-"$"#,##0;"$"0', "hours": '+#,##0" h";-#,##0" h";0" h"',
    "km": '+#,##0" km";-#,##0" km";0" km"', "percent": "+0.0%;-0.0%;0.0%", "fraction": "+0.0%;-0.0%;0.0%",
    "count": "+#,##0;-#,##0;0", "score": "+0.00;-0.00;0.00", "coordinate": "0.0000",
    "number": "+#,##0.##;-#,##0.##;0",
}
#: A change of a percentage, in points.
EXCEL_POINTS_FORMAT = '+0.0" pts";-0.0" pts";0.0" pts"'


def excel_format(column, dtype=None, *, signed: bool | None = None) -> str | None:
    """The Excel number format for a column (None for text and flags).

    Examples
    --------
    >>> excel_format("revenue"), excel_format("workload_deviation_pct"), excel_format("accounts")
    ('"$"#,##0', '+0.0%;-0.0%;0.0%', '#,##0')
    >>> excel_format("name", np.dtype(object)) is None, excel_format("contiguous", np.dtype(bool)) is None
    (True, True)
    """
    if dtype is not None and (pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype)):
        if not (dtype == object):
            return None
    kind = kind_of(column)
    if kind == "flag":
        if dtype is not None and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            kind = "count"
        else:
            return None
    if dtype is not None and dtype == object and kind == "number":
        return None
    if kind == "number" and dtype is not None and pd.api.types.is_integer_dtype(dtype):
        kind = "count"
    signed = is_signed(column) if signed is None else signed
    return (EXCEL_SIGNED_FORMATS if signed else EXCEL_FORMATS)[kind]


def excel_value(value, column):
    """A number as Excel should hold it for :func:`excel_format`: percents become fractions.

    Examples
    --------
    >>> excel_value(12.5, "workload_deviation_pct"), excel_value(0.125, "revenue_deviation"), excel_value(3, "accounts")
    (0.125, 0.125, 3)
    """
    if isinstance(value, (bool, np.bool_)) or _missing(value):
        return value
    if kind_of(column) == "percent" and isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) / 100.0
    return value


def excel_scorecard(scorecards: pd.DataFrame, *, labels: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A scorecard for a worksheet: (values, formats), both with readable labels as the index.

    Values stay numbers (percents as fractions); ``formats`` holds each cell's Excel format.
    ``labels=False`` keeps the item keys and column names (for a sheet others build formulas on).

    Examples
    --------
    >>> card = pd.DataFrame({"current": [40, 18.0], "proposed": [40, 4.5], "change": [0, -13.5]},
    ...                     index=["territories", "workload_max_deviation_pct"])
    >>> values, formats = excel_scorecard(card)
    >>> values.loc["Workload: largest deviation"].tolist(), formats.loc["Workload: largest deviation", "Change"]
    ([0.18, 0.045, -13.5], '+0.0" pts";-0.0" pts";0.0" pts"')
    """
    if isinstance(scorecards, pd.Series):
        scorecards = scorecards.rename(scorecards.name or "value").to_frame()
    name = label if labels else str
    values, formats = {}, {}
    for item, row in scorecards.iterrows():
        kind = kind_of(item)
        kind = "count" if kind == "flag" else kind
        value_row, format_row = {}, {}
        for column, value in row.items():
            key = name(column)
            is_change = str(column) == "change"
            if isinstance(value, (bool, np.bool_)) or _missing(value):
                value_row[key], format_row[key] = (None if _missing(value) else bool(value)), None
                continue
            if not isinstance(value, (int, float, np.integer, np.floating)):
                value_row[key], format_row[key] = str(value), None
                continue
            if is_change and kind == "percent":
                value_row[key], format_row[key] = float(value), EXCEL_POINTS_FORMAT
                continue
            value_row[key] = excel_value(value, item)
            signed = is_change or (is_signed(item) and kind != "percent")
            format_row[key] = (EXCEL_SIGNED_FORMATS if signed else EXCEL_FORMATS)[kind]
        values[name(item)], formats[name(item)] = value_row, format_row
    index = pd.Index(list(values), name="Item" if labels else (scorecards.index.name or "item"))
    return (pd.DataFrame.from_dict(values, orient="index").reindex(index),
            pd.DataFrame.from_dict(formats, orient="index").reindex(index))


__all__ = ["EXCEL_FORMATS", "EXCEL_SIGNED_FORMATS", "EXCEL_POINTS_FORMAT", "excel_format", "excel_value",
           "excel_scorecard"]
