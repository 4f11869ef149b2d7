"""Checks of frames handed over in Python: the reps' homes, an amount column, a territory per row.

Files are checked by :mod:`workbench.io` when they are loaded; these are the
checks the library functions (capacity, gaps, rep-anchored alignment) make
on the frames they are given, written once so the messages agree.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.labels import labels_for_rows
from workbench.schema import LATITUDE, LONGITUDE, REP_ID


def real_number(value) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool, not text), else None.

    The shared first step of every numeric parameter check; each caller says what range it allows.

    Examples
    --------
    >>> real_number(3), real_number(np.float32(0.5)), real_number(True), real_number("3"), real_number(float("nan"))
    (3.0, 0.5, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def share_hint(value) -> str:
    """`` (did you mean 0.85?)`` for a share typed as a percent (85), else ``""``.

    Examples
    --------
    >>> share_hint(85), share_hint(0.85), share_hint(500)
    (' (did you mean 0.85?)', '', '')
    """
    number = real_number(value)
    return f" (did you mean {number / 100:g}?)" if number is not None and 1 < number <= 100 else ""


def check_tolerance(tolerance, *, name: str = "tolerance", cli: str = " (CLI: --tolerance)") -> float:
    """Validate a balance tolerance (a share, 0.05 = 5%); ``name`` as the user spells it.

    Examples
    --------
    >>> check_tolerance(5)
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: tolerance must be a share between 0 and 1 (0.05 = 5%), got 5 (CLI: --tolerance) (did you mean 0.05?)
    """
    number = real_number(tolerance)
    if number is None or not 0 < number < 1:
        raise InputError(f"{name} must be a share between 0 and 1 (0.05 = 5%), got {tolerance!r}{cli}"
                         f"{share_hint(tolerance)}")
    return number


def check_frame(frame, what: str) -> pd.DataFrame:
    """``frame`` if it is a DataFrame, else a :class:`TypeError` naming ``what``.

    Examples
    --------
    >>> check_frame([1], "reps")
    Traceback (most recent call last):
    ...
    TypeError: reps must be a pandas DataFrame, got list
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    return frame


def rep_columns(reps, *, need: str = "rep_id, latitude and longitude") -> pd.DataFrame:
    """Check that ``reps`` is a frame with ``rep_id``, ``latitude`` and ``longitude``; return it.

    ``need`` says in the message what the caller needs of the reps.
    """
    check_frame(reps, "reps")
    missing = [c for c in (REP_ID, LATITUDE, LONGITUDE) if c not in reps.columns]
    if missing:
        raise InputError(f"reps have no column(s) {missing} (columns: {list(reps.columns)}); reps need {need} "
                         "(load them with workbench.io.load_reps)")
    return reps


def rep_homes(reps, *, purpose: str, need: str = "rep_id, latitude and longitude of their home"):
    """Rep ids, home latitudes and longitudes of a non-empty reps frame with a home for every rep.

    Parameters
    ----------
    reps : pandas.DataFrame
    purpose : str
        What needs the reps, for the message about an empty table (e.g. "distances to the nearest rep").
    need : str
        What the caller needs of the reps, for the message about missing columns.

    Returns
    -------
    ids : numpy.ndarray of str (object)
    latitude, longitude : numpy.ndarray of float

    Examples
    --------
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "latitude": [40.0, None], "longitude": [-100.0, -99.0]})
    >>> rep_homes(reps, purpose="a test")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: reps ['R2'] have no home latitude/longitude; fill them in
    """
    rep_columns(reps, need=need)
    if len(reps) == 0:
        raise InputError(f"reps are empty: {purpose} need at least one rep")
    lat = pd.to_numeric(reps[LATITUDE], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(reps[LONGITUDE], errors="coerce").to_numpy(dtype=float)
    ids = reps[REP_ID].astype(str).to_numpy(dtype=object)
    bad = ~(np.isfinite(lat) & np.isfinite(lon))
    if bad.any():
        raise InputError(f"reps {ids[bad][:5].tolist()} have no home latitude/longitude; fill them in")
    return ids, lat, lon


def amount_column(frame: pd.DataFrame, column: str, *, unit: str = "amounts", missing_hint: str,
                  what: str = "accounts", label: str | None = None) -> np.ndarray:
    """The numbers of ``frame[column]``, every one finite and >= 0, or an :class:`InputError` naming the rows.

    Parameters
    ----------
    frame : pandas.DataFrame
    column : str
    unit : str, default "amounts"
        What the values are ("hours", "amounts"), for the message.
    missing_hint : str
        What the column is for and how to name another one, said when it is missing.
    what : str, default "accounts"
        Whose column it is.
    label : str, optional
        A word shown after the column name in messages (e.g. "potential").

    Examples
    --------
    >>> amount_column(pd.DataFrame({"workload": [1.0, -2.0]}), "workload", unit="hours", missing_hint="")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: accounts column 'workload' must hold hours >= 0; the rows with index [1] do not (values [-2.0])
    """
    check_frame(frame, what)
    shown = f"{column!r} ({label})" if label else repr(column)
    if column not in frame.columns:
        about = f"{label} column {column!r}" if label else f"{column!r} column"
        raise InputError(f"{what} have no {about} (columns: {list(frame.columns)}); {missing_hint}")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = frame.index[bad][:5].tolist()
        raise InputError(f"{what} column {shown} must hold {unit} >= 0; the rows with index {rows} do not "
                         f"(values {frame[column].to_numpy()[bad][:5].tolist()})")
    return values


def territory_per_row(labels, accounts: pd.DataFrame) -> np.ndarray:
    """One territory per account row as stripped text, None where unassigned (missing or blank).

    ``labels`` is anything :func:`workbench.labels.labels_for_rows` takes (a Plan, a Series, an array).

    Examples
    --------
    >>> territory_per_row([" T1", None, ""], pd.DataFrame(index=range(3))).tolist()
    ['T1', None, None]
    """
    values = labels_for_rows(labels, accounts)
    text = pd.Series(values, dtype=object)
    missing = text.isna().to_numpy() | text.astype(str).str.strip().eq("").to_numpy()
    return np.where(missing, None, text.astype(str).str.strip().to_numpy(dtype=object)).astype(object)


def rep_capacity(reps: pd.DataFrame, column: str) -> np.ndarray:
    """Each rep's hours per year from ``reps[column]``: positive numbers, or an :class:`InputError` naming the reps.

    Examples
    --------
    >>> rep_capacity(pd.DataFrame({"rep_id": ["R1", "R2"], "capacity_hours": [1600, 0]}), "capacity_hours")
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: reps column 'capacity_hours' must be positive numbers; reps ['R2'] have [0]; fill in each rep's hours per year
    """
    capacity = pd.to_numeric(reps[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(capacity) | (capacity <= 0)
    if bad.any():
        ids = reps[REP_ID].astype(str).to_numpy()[bad][:5].tolist()
        raise InputError(f"reps column {column!r} must be positive numbers; reps {ids} have "
                         f"{reps[column].to_numpy()[bad][:5].tolist()}; fill in each rep's hours per year")
    return capacity
