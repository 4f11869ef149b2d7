"""Single values for people: money, counts, percents, points, kilometres, hours, flags.

Every function takes one machine number and returns the text a person reads;
a missing value (None, NaN, NA) reads :data:`MISSING`. Never scientific
notation, never more than two decimals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Shown for a missing value.
MISSING = "—"


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


def count(n, noun: str, plural: str | None = None) -> str:
    """A count with its noun, singular or plural: ``1 warning``, ``1,169 accounts``.

    Examples
    --------
    >>> count(1, "warning"), count(1169, "account"), count(2, "territory", "territories")
    ('1 warning', '1,169 accounts', '2 territories')
    """
    return f"{integer(n)} {noun if not _missing(n) and abs(float(n)) == 1 else (plural or noun + 's')}"


__all__ = ["MISSING", "count", "number", "integer", "money", "money_k", "percent", "points", "km", "hours", "yes_no"]
