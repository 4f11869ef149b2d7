"""How a column reads, decided from its name: money, hours, km, percent, fraction, count, ...

:func:`kind_of` is the one decision every table, the Excel formats and the
single-value formatter share; :func:`format_value` formats one value by it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from workbench.present.numbers import (MISSING, _missing, hours, integer, km, money, number, percent,
                                       yes_no)

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


__all__ = ["MONEY_WORDS", "HOUR_WORDS", "COUNT_WORDS", "FLAG_COLUMNS", "kind_of", "is_signed", "format_value"]
