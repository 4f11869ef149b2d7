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

import html
import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: Shown for a missing value.
MISSING = "—"
#: Words that make a column a money amount (dollars).
MONEY_WORDS = ("revenue", "potential", "quota", "amount", "sales", "bookings", "arr", "mrr", "price", "cost",
               "spend", "value_usd", "usd")
#: Words that make a column hours of work.
HOUR_WORDS = ("workload", "hours")
#: Words that make a column a count of things.
COUNT_WORDS = ("accounts", "territories", "pieces", "count", "reps", "moved_items", "visits", "edits", "blocks",
               "counties", "items", "rows")
#: Columns holding yes/no flags.
FLAG_COLUMNS = ("contiguous", "within_tolerance", "locked", "moved", "geocoded_from_zip", "kept")

_LABELS = {
    "account_id": "Account", "name": "Account name", "account_name": "Account name",
    "territory_id": "Territory", "territory_name": "Territory name", "rep_id": "Rep ID", "rep_name": "Rep",
    "from_territory": "From", "to_territory": "To", "explanation": "Why it moves", "region": "Region",
    "area": "Area", "status": "Status", "segment": "Segment", "state": "State", "county_fips": "County FIPS",
    "current_territory": "Current territory", "moved": "Moved", "plan_status": "Plan status",
    "territories": "Territories", "accounts": "Accounts", "unassigned_accounts": "Unassigned accounts",
    "within_tolerance_pct": "Territories within tolerance", "within_tolerance": "Within tolerance",
    "compactness_km": "Compactness", "max_distance_km": "Farthest account from centre",
    "mean_polsby_popper": "Shape score, mean (Polsby-Popper)", "min_polsby_popper": "Shape score, worst (Polsby-Popper)",
    "polsby_popper": "Shape score (Polsby-Popper)",
    "non_contiguous_territories": "Non-contiguous territories", "contiguous": "Contiguous",
    "rep_home_distance_km": "Mean distance to rep's home", "centre_to_home_km": "Centre to rep's home",
    "distance_to_home_before_km": "Distance to rep's home, before",
    "distance_to_home_after_km": "Distance to rep's home, after",
    "distance_change_km": "Distance change", "accounts_moved": "Accounts moved",
    "from_load_before": "From territory's load, before", "from_load_after": "From territory's load, after",
    "to_load_before": "To territory's load, before", "to_load_after": "To territory's load, after",
    "from_deviation_before_pct": "From territory's deviation, before",
    "from_deviation_after_pct": "From territory's deviation, after",
    "to_deviation_before_pct": "To territory's deviation, before",
    "to_deviation_after_pct": "To territory's deviation, after", "territories_touched": "Territories touched",
    "load_metric": "Load", "centre_latitude": "Centre latitude", "centre_longitude": "Centre longitude",
    "accounts_in": "Accounts in", "accounts_out": "Accounts out", "accounts_kept": "Accounts kept",
    "current": "Current", "proposed": "Proposed", "change": "Change", "item": "Item", "value": "Value",
    "capacity_hours": "Capacity", "visits_per_year": "Visits per year", "latitude": "Latitude",
    "longitude": "Longitude", "workload": "Workload", "revenue": "Revenue", "potential": "Potential",
}


# ---------------------------------------------------------------------------- single values
def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and not math.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _sign(value: float, signed: bool) -> str:
    return "+" if signed and value > 0 else ""


def number(value, decimals: int = 0, *, signed: bool = False, unit: str = "") -> str:
    """A number with thousands separators, ``decimals`` places (0 to 2), an optional sign and unit.

    Examples
    --------
    >>> number(1820961888000.0), number(2.5, 1), number(-3, signed=True), number(12, signed=True, unit=" h")
    ('1,820,961,888,000', '2.5', '-3', '+12 h')
    >>> number(float("nan")), number(-0.4)
    ('—', '0')
    """
    if _missing(value):
        return MISSING
    decimals = max(0, min(int(decimals), 2))
    value = float(value)
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # -0 and -0.0 read as 0
        text, value = text.lstrip("-"), 0.0
    return f"{_sign(value, signed)}{text}{unit}"


def integer(value, *, signed: bool = False) -> str:
    """A whole number: ``1,234`` (``40.0`` is shown as ``40``).

    Examples
    --------
    >>> integer(40.0), integer(1234), integer(5, signed=True)
    ('40', '1,234', '+5')
    """
    return number(value, 0, signed=signed)


def money(value, *, compact: bool = True, signed: bool = False, symbol: str = "$") -> str:
    """A money amount: whole dollars with separators, ``$K`` is never used below a million.

    With ``compact`` (default), a million and more reads ``$23.4M`` and a
    billion and more ``$1.23B``; smaller amounts are whole dollars
    (``$45,210``). ``compact=False`` always writes whole dollars.

    Examples
    --------
    >>> money(72838480.0), money(9175308000.0), money(999.6), money(-2500000, signed=True)
    ('$72.8M', '$9.18B', '$1,000', '-$2.5M')
    >>> money(1234567, compact=False), money(1500, signed=True), money(None)
    ('$1,234,567', '+$1,500', '—')
    """
    if _missing(value):
        return MISSING
    value = float(value)
    size = abs(value)
    if compact and round(size) >= 999_500_000_000:
        body = f"{size / 1e12:,.2f}T"
    elif compact and round(size) >= 999_500_000:
        body = f"{size / 1e9:,.2f}B"
    elif compact and round(size) >= 999_950:
        body = f"{size / 1e6:,.1f}M"
    else:
        body = f"{size:,.0f}"
    if body.strip("0.,TBM") == "":
        return f"{symbol}0"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{symbol}{body}"


def money_k(value, *, signed: bool = False, symbol: str = "$") -> str:
    """A money amount in thousands or millions for tight spaces: ``$45K``, ``$23.4M``.

    Examples
    --------
    >>> money_k(45210), money_k(950), money_k(23_400_000)
    ('$45K', '$950', '$23.4M')
    """
    if _missing(value):
        return MISSING
    size = abs(float(value))
    if round(size) >= 999_950 or round(size) < 10_000:
        return money(value, signed=signed, symbol=symbol)
    sign = "-" if float(value) < 0 else ("+" if signed and float(value) > 0 else "")
    return f"{sign}{symbol}{size / 1e3:,.0f}K"


def percent(value, *, fraction: bool = False, signed: bool = False, decimals: int = 1) -> str:
    """A percentage, one decimal: ``12.3%``; ``signed`` adds ``+`` (deviations, changes).

    ``value`` is in percent (``12.3``) unless ``fraction=True`` (``0.123``).

    Examples
    --------
    >>> percent(12.345), percent(-0.051, fraction=True, signed=True), percent(0.0, signed=True)
    ('12.3%', '-5.1%', '0.0%')
    """
    if _missing(value):
        return MISSING
    value = float(value) * (100.0 if fraction else 1.0)
    return number(value, decimals, signed=signed) + "%"


def points(value, decimals: int = 1) -> str:
    """A change of a percentage, in percentage points: ``-3.1 pts``.

    Examples
    --------
    >>> points(-3.14), points(2), points(0)
    ('-3.1 pts', '+2.0 pts', '0.0 pts')
    """
    if _missing(value):
        return MISSING
    return number(value, decimals, signed=True) + " pts"


def km(value, *, signed: bool = False) -> str:
    """A distance in whole kilometres: ``151 km``.

    Examples
    --------
    >>> km(150.976575), km(-0.3), km(12.4, signed=True)
    ('151 km', '0 km', '+12 km')
    """
    return number(value, 0, signed=signed, unit=" km") if not _missing(value) else MISSING


def hours(value, *, signed: bool = False) -> str:
    """Hours of work: whole from 10 h up (``1,950 h``), one decimal below (``2.7 h``, an account's load).

    Examples
    --------
    >>> hours(1949.6), hours(-12.2, signed=True), hours(2.73), hours(4.0)
    ('1,950 h', '-12 h', '2.7 h', '4 h')
    """
    if _missing(value):
        return MISSING
    value = float(value)
    whole = abs(value) >= 9.95 or round(value, 1) == round(value)
    return number(value, 0 if whole else 1, signed=signed, unit=" h")


def yes_no(value) -> str:
    """``yes``/``no`` for a flag, the dash for unknown.

    Examples
    --------
    >>> yes_no(True), yes_no(np.False_), yes_no(None)
    ('yes', 'no', '—')
    """
    if _missing(value):
        return MISSING
    return "yes" if bool(value) else "no"


# ---------------------------------------------------------------------------- columns
def _tokens(column: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", str(column).lower()) if t]


def _has(tokens: list[str], words: Iterable[str]) -> bool:
    joined = "_".join(tokens)
    for word in words:
        if "_" in word:
            if word in joined:
                return True
        elif word in tokens:
            return True
    return False


def kind_of(column) -> str:
    """How the values of a column read: one of ``money``, ``hours``, ``km``, ``percent`` (values in
    percent), ``fraction`` (a share or deviation as a fraction, shown in percent), ``count``,
    ``score`` (0-1 shape scores), ``coordinate``, ``flag`` or ``number``.

    Examples
    --------
    >>> [kind_of(c) for c in ["revenue_current", "workload", "distance_change_km", "workload_deviation_pct",
    ...                       "revenue_deviation", "accounts_in", "polsby_popper", "centre_latitude", "contiguous"]]
    ['money', 'hours', 'km', 'percent', 'fraction', 'count', 'score', 'coordinate', 'flag']
    """
    tokens = _tokens(column)
    if not tokens:
        return "number"
    if tokens[-1] in ("pct", "percent") or "pct" in tokens:
        return "percent"
    if tokens[-1] == "km" or "km" in tokens:
        return "km"
    if _has(tokens, ("deviation", "share", "ratio", "cv")):
        return "fraction"
    if _has(tokens, ("polsby", "popper", "score")):
        return "score"
    if _has(tokens, ("latitude", "longitude", "lat", "lon")):
        return "coordinate"
    if "_".join(tokens) in FLAG_COLUMNS or tokens[0] in ("is", "has"):
        return "flag"
    if _has(tokens, MONEY_WORDS):
        return "money"
    if _has(tokens, HOUR_WORDS):
        return "hours"
    if _has(tokens, COUNT_WORDS):
        return "count"
    return "number"


def is_signed(column) -> bool:
    """Whether a column holds a change or a deviation (shown with ``+``/``-``).

    Examples
    --------
    >>> is_signed("workload_change"), is_signed("revenue_deviation_pct_proposed"), is_signed("revenue")
    (True, True, False)
    """
    return _has(_tokens(column), ("change", "deviation", "delta", "difference"))


def format_value(value, column="", *, signed: bool | None = None, kind: str | None = None) -> str:
    """One value as a person reads it, by its column (see :func:`kind_of`).

    Examples
    --------
    >>> format_value(72838480.0, "revenue"), format_value(-150.976575, "distance_change_km")
    ('$72.8M', '-151 km')
    >>> format_value(0.05, "workload_deviation"), format_value(40.0, "territories"), format_value(0.7312, "polsby_popper")
    ('+5.0%', '40', '0.73')
    >>> format_value("Moved from T3 to T1.", "explanation")
    'Moved from T3 to T1.'
    """
    if isinstance(value, str):
        return value
    if _missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return yes_no(value)
    kind = kind or kind_of(column)
    signed = is_signed(column) if signed is None else signed
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    if kind == "money":
        return money(value, signed=signed)
    if kind == "hours":
        return hours(value, signed=signed)
    if kind == "km":
        return km(value, signed=signed)
    if kind == "percent":
        return percent(value, signed=signed)
    if kind == "fraction":
        return percent(value, fraction=True, signed=signed)
    if kind == "count":
        return integer(value, signed=signed)
    if kind == "score":
        return number(value, 2, signed=signed)
    if kind == "coordinate":
        return number(value, 2)
    if kind == "flag":
        return yes_no(value)
    value = float(value)
    if value.is_integer() or abs(value) >= 100:
        return integer(value, signed=signed)
    return number(value, 1 if abs(value) >= 10 else 2, signed=signed)


def label(column) -> str:
    """A readable column label (units are on the values, not in the label).

    Examples
    --------
    >>> label("workload_max_deviation_pct"), label("revenue_cv_pct"), label("revenue_current")
    ('Workload: largest deviation', 'Revenue: spread (CV)', 'Revenue, current')
    >>> label("workload_deviation_pct_proposed"), label("accounts_kept_pct"), label("revenue_moved")
    ('Workload deviation, proposed', '% of accounts kept', 'Revenue moved')
    >>> label("compactness_km_current"), label("distance_change_km"), label("some_new_column")
    ('Compactness, current', 'Distance change', 'Some new column')
    """
    text = str(column)
    if text in _LABELS:
        return _LABELS[text]
    tokens = [t for t in text.split("_") if t] or [text]
    if len(tokens) > 1 and tokens[-1] in _SIDES:
        return f"{label('_'.join(tokens[:-1]))}, {_SIDES[tokens[-1]]}"
    if len(tokens) > 1 and tokens[-1] in ("pct", "percent"):
        stem = tokens[:-1]
        if len(stem) > 2 and stem[-2:] == ["max", "deviation"]:
            return f"{_words(stem[:-2])}: largest deviation"
        if len(stem) > 1 and stem[-1] == "cv":
            return f"{_words(stem[:-1])}: spread (CV)"
        if len(stem) > 1 and stem[-1] in ("kept", "moved"):
            return f"% of {_words(stem[:-1]).lower()} {stem[-1]}"
        return _words(stem)
    if len(tokens) > 1 and tokens[-1] == "km":
        return label("_".join(tokens[:-1]))
    return _words(tokens)


_SIDES = {"current": "current", "proposed": "proposed", "change": "change", "before": "before", "after": "after",
          "total": "total"}


def _words(tokens: list[str]) -> str:
    name = "_".join(tokens)
    if name in _LABELS:
        return _LABELS[name]
    words = " ".join(tokens)
    return words[:1].upper() + words[1:]


# ---------------------------------------------------------------------------- frames
def format_frame(frame: pd.DataFrame, *, index: bool = False, labels: bool = True) -> pd.DataFrame:
    """Every cell as text for people; headers readable.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table (territory table, transfers, moved accounts).
    index : bool, default False
        Turn the index into a first column (e.g. ``territory_id``).
    labels : bool, default True
        Replace column names by :func:`label`.

    Examples
    --------
    >>> frame = pd.DataFrame({"territory_id": ["T1"], "revenue": [72838480.0], "workload_deviation_pct": [-3.14159]})
    >>> format_frame(frame).to_dict("records")
    [{'Territory': 'T1', 'Revenue': '$72.8M', 'Workload deviation': '-3.1%'}]
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"format_frame needs a pandas DataFrame, got {type(frame).__name__}")
    if index:
        frame = frame.reset_index()
    out = pd.DataFrame(index=range(len(frame)))
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        kind = kind_of(column)
        signed = is_signed(column)
        if kind == "flag" and not pd.api.types.is_bool_dtype(values.dtype) and values.dtype != object:
            kind = "count"
        out[position] = [format_value(v, column, signed=signed, kind=kind) for v in values.to_numpy(dtype=object)]
    out.columns = [label(c) if labels else str(c) for c in frame.columns]
    return out


def scorecard_table(scorecards, *, labels: bool = True) -> pd.DataFrame:
    """A scorecard (a Series, or current/proposed/change side by side) as text for people.

    Rows are scorecard items (:func:`workbench.metrics.scorecard`), each
    formatted by its own kind; a ``change`` column is signed, in points for
    percentages.

    Examples
    --------
    >>> card = pd.DataFrame({"current": [40, 18.04, 2], "proposed": [40, 4.9, 0], "change": [0, -13.14, -2]},
    ...                     index=["territories", "workload_max_deviation_pct", "non_contiguous_territories"])
    >>> scorecard_table(card).to_dict("index")["Workload: largest deviation"]
    {'Current': '18.0%', 'Proposed': '4.9%', 'Change': '-13.1 pts'}
    >>> scorecard_table(card).to_dict("index")["Non-contiguous territories"]["Change"]
    '-2'
    """
    if isinstance(scorecards, pd.Series):
        scorecards = scorecards.rename(scorecards.name or "value").to_frame()
    if not isinstance(scorecards, pd.DataFrame):
        raise TypeError(f"scorecard_table needs a pandas Series or DataFrame, got {type(scorecards).__name__}")
    rows = {}
    for item, row in scorecards.iterrows():
        kind = kind_of(item)
        if kind == "flag":
            kind = "count"
        cells = {}
        for column, value in row.items():
            if str(column) == "change":
                cells[column] = (points(value) if kind == "percent" and not _missing(value) and not isinstance(value, bool)
                                 else format_value(value, item, signed=True, kind=kind))
            else:
                cells[column] = format_value(value, item, signed=is_signed(item) and kind != "percent", kind=kind)
        rows[label(item) if labels else item] = cells
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.columns = [label(c) if labels else str(c) for c in scorecards.columns]
    out.index.name = "Item" if labels else scorecards.index.name
    return out


def text_table(frame: pd.DataFrame, *, index: bool = True) -> str:
    """A text table for the terminal: readable headers, numbers right-aligned, text left-aligned.

    Examples
    --------
    >>> print(text_table(pd.DataFrame({"territory_id": ["T1", "T22"], "accounts": [5, 1200]}), index=False))
    Territory  Accounts
    T1                5
    T22           1,200
    """
    shown = frame.reset_index() if index and frame.index.name is not None else frame
    if not all(isinstance(v, str) for v in shown.to_numpy().ravel()):
        shown = format_frame(shown)
    elif index and frame.index.name is not None:
        shown = shown.rename(columns={frame.index.name: label(frame.index.name)})
    columns = [str(c) for c in shown.columns]
    cells = [[str(v) for v in row] for row in shown.to_numpy(dtype=object)]
    numeric = [all(_looks_numeric(row[i]) for row in cells) and bool(cells) for i in range(len(columns))]
    widths = [max([len(columns[i])] + [len(row[i]) for row in cells]) for i in range(len(columns))]

    def line(values):
        parts = [(v.rjust(w) if right else v.ljust(w)) for v, w, right in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns)] + [line(row) for row in cells])


def _looks_numeric(text: str) -> bool:
    return text == MISSING or bool(re.fullmatch(r"[+-]?\$?[\d,.]+[KMB]?( ?(%|pts|km|h))?", text))


def scorecard_text(scorecards) -> str:
    """The scorecard as an aligned text table for the terminal.

    Examples
    --------
    >>> card = pd.DataFrame({"current": [40, 18.04], "proposed": [40, 4.9], "change": [0, -13.14]},
    ...                     index=["territories", "workload_max_deviation_pct"])
    >>> print(scorecard_text(card))
    Item                         Current  Proposed     Change
    Territories                       40        40          0
    Workload: largest deviation    18.0%      4.9%  -13.1 pts
    """
    return text_table(scorecard_table(scorecards), index=True)


def html_table(frame: pd.DataFrame, *, index: bool = False, caption: str | None = None, max_rows: int | None = None,
               table_class: str = "wb-table") -> str:
    """An HTML table for people: readable headers, formatted numbers right-aligned, every cell escaped.

    A frame whose cells are already text (e.g. from :func:`scorecard_table`)
    is shown as it is.

    Examples
    --------
    >>> html_table(pd.DataFrame({"name": ["<b>x</b>"], "revenue": [1200.0]}))
    '<table class="wb-table"><thead><tr><th>Account name</th><th class="num">Revenue</th></tr></thead><tbody><tr><td>&lt;b&gt;x&lt;/b&gt;</td><td class="num">$1,200</td></tr></tbody></table>'
    """
    truncated = max_rows is not None and len(frame) > max_rows
    total = len(frame)
    if truncated:
        frame = frame.head(max_rows)
    if index:
        frame = frame.reset_index()
    if all(isinstance(v, str) for v in frame.to_numpy().ravel()):
        shown = frame
    else:
        shown = format_frame(frame)
    cells = shown.to_numpy(dtype=object)
    numeric = [bool(len(cells)) and all(_looks_numeric(str(v)) for v in cells[:, i]) for i in range(cells.shape[1])]
    esc = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    parts = [f'<table class="{esc(table_class)}">']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f'<th class="num">{esc(c)}</th>' if n else f"<th>{esc(c)}</th>"
                                         for c, n in zip(shown.columns, numeric)) + "</tr></thead><tbody>")
    for row in cells:
        parts.append("<tr>" + "".join(f'<td class="num">{esc(v)}</td>' if n else f"<td>{esc(v)}</td>"
                                      for v, n in zip(row, numeric)) + "</tr>")
    parts.append("</tbody></table>")
    if truncated:
        parts.append(f"<p>First {max_rows:,} of {total:,} rows; the full table is in summary.xlsx.</p>")
    return "".join(parts)


# ---------------------------------------------------------------------------- Excel
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


__all__ = ["number", "integer", "money", "money_k", "percent", "points", "km", "hours", "yes_no", "kind_of",
           "is_signed", "format_value", "label", "format_frame", "scorecard_table", "scorecard_text", "text_table",
           "html_table", "excel_format", "excel_value", "excel_scorecard", "MISSING"]
