"""Load and validate the sales reps table."""

from __future__ import annotations

import numpy as np

from workbench.errors import InputError
from workbench.io._checks import Checker, check_on_invalid, missing_column_message, normalise_name, resolve_columns
from workbench.io._source import read_table
from workbench.io.report import LoadReport
from workbench.schema import CAPACITY_HOURS, HOME_CITY, LATITUDE, LONGITUDE, REP_ID, REP_NAME, TERRITORY_ID

TEXT_COLUMNS = (REP_ID, REP_NAME, TERRITORY_ID, HOME_CITY)


def load_reps(
    source,
    *,
    columns=None,
    id_col=REP_ID,
    name_col=REP_NAME,
    lat_col=LATITUDE,
    lon_col=LONGITUDE,
    territory_col=TERRITORY_ID,
    capacity_col=CAPACITY_HOURS,
    on_invalid="raise",
    sheet=None,
    encoding=None,
    layer=None,
    return_report=False,
):
    """Load sales reps (home locations, territories, capacities) and validate them.

    Parameters
    ----------
    source : str, pathlib.Path or pandas.DataFrame
        Any format :func:`load_accounts` reads.
    columns : dict, optional
        ``{your_name: standard_name}``.
    id_col, name_col, lat_col, lon_col, territory_col, capacity_col : str
        Your names for rep_id, name, latitude, longitude, territory_id and
        capacity_hours. Only the id and coordinates are required; a missing
        name defaults to the rep id.
    on_invalid : {"raise", "exclude"}
        As in :func:`load_accounts`.
    sheet, encoding, layer, return_report
        As in :func:`load_accounts`.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, LoadReport)
        ``rep_id`` (str, unique), ``name`` (str), ``latitude``/``longitude``
        (float64), and when present ``territory_id`` (str), ``home_city`` and
        ``capacity_hours`` (float64, > 0 or missing); other columns kept.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"rep_id": ["R1", "R2"], "latitude": [51.51, 53.48],
    ...                       "longitude": [-0.13, -2.24], "capacity_hours": [1600, None]})
    >>> load_reps(frame)[["rep_id", "name", "capacity_hours"]]
      rep_id name  capacity_hours
    0     R1   R1          1600.0
    1     R2   R2             NaN
    """
    check_on_invalid(on_invalid)
    if columns is not None and not isinstance(columns, dict):
        raise TypeError(f"columns must be a dict {{your_name: standard_name}}, got {type(columns).__name__}")
    columns = dict(columns or {})
    wanted = {REP_ID: id_col, REP_NAME: name_col, LATITUDE: lat_col, LONGITUDE: lon_col,
              TERRITORY_ID: territory_col, CAPACITY_HOURS: capacity_col}
    text_names = {id_col, name_col, territory_col, *TEXT_COLUMNS}
    text_names |= {theirs for theirs, standard in columns.items() if standard in TEXT_COLUMNS}

    def is_text(name: str) -> bool:
        return name in text_names or normalise_name(name) in TEXT_COLUMNS

    table = read_table(source, what="reps", is_text=is_text, sheet=sheet, encoding=encoding, layer=layer)
    names = resolve_columns(table, what="reps", wanted=wanted, columns=columns)
    frame = table.frame
    for standard in (REP_ID, LATITUDE, LONGITUDE):
        if standard not in frame:
            raise InputError(missing_column_message(table, names.get(standard, standard), standard, what="reps"))
    checker = Checker(table, names=names, id_column=REP_ID, on_invalid=on_invalid)
    decimal_comma = table.delimiter == ";"
    ids = checker.check_ids("rep", "id_col=")
    lat, lon = checker.check_coordinates(frame[LATITUDE], frame[LONGITUDE], decimal_comma=decimal_comma)
    checker.flag(np.isnan(lat) | np.isnan(lon), LATITUDE, "rep has no home coordinates",
                 "Fix: fill in latitude and longitude (decimal degrees) of the rep's home or base.")
    capacity = None
    if CAPACITY_HOURS in frame:
        capacity = checker.check_positive_numbers(
            frame[CAPACITY_HOURS], CAPACITY_HOURS, what="capacity", decimal_comma=decimal_comma,
            allow_missing=True, strict=True, fix_missing="")
    checker.check_all_invalid("reps")

    if REP_NAME in frame:
        name = frame[REP_NAME].str.strip()
        frame[REP_NAME] = name.where(name.notna() & (name != ""), ids)
    else:
        frame.insert(1, REP_NAME, ids)
    frame[LATITUDE] = lat
    frame[LONGITUDE] = lon
    if capacity is not None:
        frame[CAPACITY_HOURS] = capacity
    if TERRITORY_ID in frame:
        territory = frame[TERRITORY_ID].str.strip()
        frame[TERRITORY_ID] = territory.where(territory != "")
        shared = territory[checker.keep]
        shared = shared[shared.notna() & shared.duplicated(keep=False)]
        if len(shared):
            checker.warnings.append(
                f"{table.source.name}: territories with more than one rep: "
                f"{', '.join(sorted(set(shared))[:10])}.")
    keep = checker.keep
    out = frame.loc[keep].reset_index(drop=True) if not keep.all() else frame
    if not return_report:
        return out
    report = LoadReport(source=table.source.name, n_rows_read=len(keep), n_loaded=len(out),
                        excluded=checker.excluded_frame(), warnings=checker.warnings,
                        unit=table.source.unit)
    return out, report
