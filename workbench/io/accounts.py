"""Load and validate the accounts table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.io._checks import Checker, check_on_invalid, missing_column_message, normalise_name, resolve_columns
from workbench.io._source import read_table
from workbench.io.report import LoadReport
from workbench.schema import (
    ACCOUNT_ID,
    COUNTY_FIPS,
    CURRENT_TERRITORY,
    GEOCODED_FROM_ZIP,
    LATITUDE,
    LONGITUDE,
    NAME,
    POTENTIAL,
    REVENUE,
    SEGMENT,
    STATE,
    VISITS_PER_YEAR,
    WGS84,
    WORKLOAD,
    ZIP,
)

#: Metrics picked up when ``metrics=None``, in this order, if present.
DEFAULT_METRICS = (WORKLOAD, REVENUE, POTENTIAL, VISITS_PER_YEAR)

#: Standard columns always read as text (ids keep leading zeros).
TEXT_COLUMNS = (ACCOUNT_ID, ZIP, COUNTY_FIPS, CURRENT_TERRITORY, STATE, NAME, SEGMENT)


def load_accounts(
    source,
    *,
    columns=None,
    metrics=None,
    territory_col=None,
    id_col=ACCOUNT_ID,
    lat_col=LATITUDE,
    lon_col=LONGITUDE,
    zip_col=ZIP,
    geocode=True,
    zip_table=None,
    on_invalid="raise",
    valid_territories=None,
    sheet=None,
    encoding=None,
    layer=None,
    return_report=False,
    progress=False,
    required=(),
):
    """Load accounts from a file or frame, validate them and return standard columns.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or geopandas.GeoDataFrame
        CSV (``.csv``, ``.csv.gz``, ``.txt``, ``.tsv``; delimiter ``,``, ``;``,
        tab or ``|`` detected), Excel ``.xlsx``, Parquet, GeoPackage, GeoJSON or
        shapefile, or a frame. Spatial sources without latitude/longitude
        columns take coordinates from their point geometry.
    columns : dict, optional
        ``{your_name: standard_name}``, e.g. ``{"Acct": "account_id"}``.
    metrics : list of str, optional
        Numeric columns to validate as float64 amounts >= 0. Default: whichever
        of workload, revenue, potential, visits_per_year are present.
    territory_col : str, optional
        Column holding the current territory; renamed to ``current_territory``.
        Default: ``current_territory`` when present.
    id_col, lat_col, lon_col, zip_col : str
        Your names for the id, coordinate and ZIP columns.
    geocode : bool
        Place accounts without coordinates at the point of their US ZIP code
        (offline; 5-digit or ZIP+4) and flag them ``geocoded_from_zip``.
    zip_table : pandas.DataFrame, optional
        ZIP points with columns zip, latitude, longitude. Default: the bundled
        table (:func:`workbench.bundled.load_zip_points`), read only if needed.
    on_invalid : {"raise", "exclude"}
        ``"raise"``: :class:`~workbench.errors.InputError` on the first kind of
        problem. ``"exclude"``: leave bad rows out and list each in the report.
        Problems with the whole table (missing columns, swapped coordinates,
        every row invalid) raise either way.
    valid_territories : iterable of str, optional
        Known territory ids (e.g. from the reps); other values are invalid.
    sheet : str or int, optional
        Excel sheet (default: the first).
    encoding : str, optional
        Text encoding of a CSV (default: UTF-8, with or without BOM).
    layer : str, optional
        Layer of a GeoPackage.
    return_report : bool
        Also return a :class:`LoadReport`.
    progress : bool
        Read CSV in chunks with a progress bar (automatic above 50 MB).
    required : sequence of str, optional
        Other columns the caller needs (e.g. a lock column); a missing one is
        an :class:`~workbench.errors.InputError` naming the file and its columns.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, LoadReport)
        RangeIndex; ``account_id`` (str, unique), ``latitude``/``longitude``
        (float64), metrics (float64), ``zip`` (5-digit str), other columns kept,
        and the bool column ``geocoded_from_zip``.

    Raises
    ------
    InputError
        With the file, column, first offending lines, values and the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"Acct": ["00123", "00124"], "lat": [-33.87, -37.81],
    ...                       "lon": [151.21, 144.96], "revenue": ["1,200", "800"]})
    >>> accounts = load_accounts(frame, columns={"Acct": "account_id"}, lat_col="lat", lon_col="lon")
    >>> accounts[["account_id", "latitude", "revenue", "geocoded_from_zip"]]
      account_id  latitude  revenue  geocoded_from_zip
    0      00123    -33.87   1200.0              False
    1      00124    -37.81    800.0              False
    """
    check_on_invalid(on_invalid)
    if columns is not None and not isinstance(columns, dict):
        raise TypeError(f"columns must be a dict {{your_name: standard_name}}, got {type(columns).__name__}")
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    columns = dict(columns or {})
    wanted = {ACCOUNT_ID: id_col, LATITUDE: lat_col, LONGITUDE: lon_col, ZIP: zip_col,
              CURRENT_TERRITORY: territory_col or CURRENT_TERRITORY, COUNTY_FIPS: COUNTY_FIPS,
              **{m: m for m in DEFAULT_METRICS}}
    text_names = {id_col, zip_col, territory_col or CURRENT_TERRITORY, *TEXT_COLUMNS}
    text_names |= {theirs for theirs, standard in columns.items() if standard in TEXT_COLUMNS}

    def is_text(name: str) -> bool:
        return name in text_names or normalise_name(name) in TEXT_COLUMNS or name in ("county_fip", "current_te")

    table = read_table(source, what="accounts", is_text=is_text, sheet=sheet, encoding=encoding,
                       layer=layer, progress=progress)
    names = resolve_columns(table, what="accounts", wanted=wanted, columns=columns)
    frame = table.frame
    _require_columns(table, {**wanted, **names}, metrics, territory_col, geocode)
    for column in required:
        if column not in frame.columns:
            raise InputError(f"{table.source.name}: no column {column!r} (columns: {list(frame.columns)}); "
                             "check the spelling or the option")
    if metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in frame]
    metrics = list(dict.fromkeys(metrics))

    checker = Checker(table, names=names, id_column=ACCOUNT_ID, on_invalid=on_invalid)
    decimal_comma = table.delimiter == ";"
    checker.check_ids("account", "id_col= (CLI: --id-col)")

    lat_raw, lon_raw = _coordinate_columns(table, checker)
    lat, lon = checker.check_coordinates(lat_raw, lon_raw, decimal_comma=decimal_comma)
    geocoded = _place_missing(checker, lat, lon, geocode=geocode, zip_table=zip_table)
    if COUNTY_FIPS in frame:
        fips = frame[COUNTY_FIPS].str.strip()
        frame[COUNTY_FIPS] = fips.where(~fips.str.fullmatch(r"\d{4}").fillna(False), fips.str.zfill(5))

    values = {}
    for metric in metrics:
        values[metric] = checker.check_positive_numbers(
            frame[metric], metric, what=metric, decimal_comma=decimal_comma, allow_missing=False,
            strict=False, fix_missing="Fix: fill in the amount (0 if the account has none).")
    if CURRENT_TERRITORY in frame:
        _check_territories(checker, valid_territories)
    elif valid_territories is not None:
        checker.warnings.append(f"{table.source.name}: valid_territories was given but there is no territory "
                                f"column to check (pass territory_col=).")

    checker.check_all_invalid("accounts")
    frame[LATITUDE] = lat
    frame[LONGITUDE] = lon
    for metric, column in values.items():
        frame[metric] = column
    frame[GEOCODED_FROM_ZIP] = geocoded
    keep = checker.keep
    out = frame.loc[keep].reset_index(drop=True) if not keep.all() else frame
    out[ACCOUNT_ID] = out[ACCOUNT_ID].astype("str")
    if not return_report:
        return out
    report = LoadReport(
        source=table.source.name,
        n_rows_read=len(keep),
        n_loaded=len(out),
        metrics=tuple(metrics),
        geocoded=tuple(out.loc[out[GEOCODED_FROM_ZIP], ACCOUNT_ID]),
        excluded=checker.excluded_frame(),
        warnings=checker.warnings,
        unit=table.source.unit,
    )
    return out, report


def _require_columns(table, names, metrics, territory_col, geocode) -> None:
    frame = table.frame

    def missing(standard, cli):
        return InputError(missing_column_message(table, names.get(standard, standard), standard,
                                                 what="accounts", cli=cli))

    if ACCOUNT_ID not in frame:
        raise missing(ACCOUNT_ID, "--id-col")
    has_lat, has_lon = LATITUDE in frame, LONGITUDE in frame
    if has_lat != has_lon:
        raise missing(LONGITUDE if has_lat else LATITUDE, "--lon-col" if has_lat else "--lat-col")
    if not has_lat and table.geometry is None and not (geocode and ZIP in frame):
        error = missing(LATITUDE, "--lat-col")
        raise InputError(f"{error} Accounts need latitude and longitude columns, or a zip column "
                         f"(US ZIP codes, placed offline at the ZIP point).")
    for metric in metrics or ():
        if metric not in frame:
            raise InputError(missing_column_message(table, metric, metric, what="metric", cli="--metrics")
                             .replace("columns={", "metrics= with an existing column, or columns={", 1))
    if territory_col is not None and CURRENT_TERRITORY not in frame:
        raise missing(CURRENT_TERRITORY, "--territory-col")


def _coordinate_columns(table, checker):
    frame = table.frame
    if LATITUDE in frame:
        return frame[LATITUDE], frame[LONGITUDE]
    n = len(frame)
    if table.geometry is None:
        empty = pd.Series(np.full(n, np.nan))
        return empty, empty.copy()
    import shapely

    geometry = table.geometry
    if table.crs is not None and geometry.crs is not None and not geometry.crs.equals(WGS84):
        geometry = geometry.to_crs(WGS84)
    kinds = geometry.geom_type
    other = kinds.notna() & (kinds != "Point")
    if other.any():
        checker.warnings.append(
            f"{table.source.name}: {int(other.sum())} geometries are not points "
            f"({', '.join(sorted(set(kinds[other])))}); used a point inside each as the account location.")
    points = shapely.point_on_surface(np.asarray(geometry.array, dtype=object))
    x = shapely.get_x(points)
    y = shapely.get_y(points)
    x = np.where(pd.isna(points), np.nan, x)
    y = np.where(pd.isna(points), np.nan, y)
    return pd.Series(y.astype("float64")), pd.Series(x.astype("float64"))


def normalise_zip(values: pd.Series) -> pd.Series:
    """US ZIPs as 5-digit strings: ``"2134"`` -> ``"02134"``, ``"02134-1234"`` -> ``"02134"``.

    Values that are not ZIP codes become missing.

    Examples
    --------
    >>> normalise_zip(pd.Series(["2134", "02134-1234", "021341234", "2134.0", "SW1A"])).tolist()
    ['02134', '02134', '02134', '02134', nan]
    """
    text = values.astype("str").str.strip().str.replace(r"\.0+$", "", regex=True)
    plus4 = text.str.extract(r"^(\d{5})-?\d{4}$", expand=False)
    short = text.where(text.str.fullmatch(r"\d{3,5}").fillna(False)).str.zfill(5)
    return plus4.fillna(short).astype("str")


def _zip_points(zip_table) -> pd.DataFrame:
    if zip_table is None:
        try:
            from workbench.bundled import load_zip_points
        except ImportError as exc:
            raise InputError("the bundled ZIP table is not available (workbench.bundled missing). "
                             "Fix: pass zip_table= or give the accounts coordinates.") from exc
        zip_table = load_zip_points()
    if not isinstance(zip_table, pd.DataFrame):
        raise TypeError(f"zip_table must be a DataFrame with zip, latitude, longitude; got {type(zip_table).__name__}")
    lacking = [c for c in (ZIP, LATITUDE, LONGITUDE) if c not in zip_table]
    if lacking:
        raise InputError(f"zip_table lacks columns {lacking}; it needs zip, latitude, longitude. "
                         f"Fix: rename its columns.")
    points = zip_table[[ZIP, LATITUDE, LONGITUDE]].copy()
    points[ZIP] = normalise_zip(points[ZIP])
    return points.dropna(subset=[ZIP]).drop_duplicates(ZIP).set_index(ZIP)


def _place_missing(checker: Checker, lat, lon, *, geocode, zip_table) -> np.ndarray:
    """Fill missing coordinates from ZIP points (in place); flag what cannot be placed."""
    frame = checker.frame
    n = len(frame)
    geocoded = np.zeros(n, bool)
    no_lat, no_lon = np.isnan(lat), np.isnan(lon)
    checker.flag(no_lon & ~no_lat, "longitude", "longitude is missing but latitude is given",
                 "Fix: fill in the longitude, or clear both to place the account at its ZIP.")
    checker.flag(no_lat & ~no_lon, "latitude", "latitude is missing but longitude is given",
                 "Fix: fill in the latitude, or clear both to place the account at its ZIP.")
    missing = no_lat & no_lon & checker.keep
    has_zip_column = ZIP in frame
    if has_zip_column:
        raw = frame[ZIP]
        zips = normalise_zip(raw)
        frame[ZIP] = zips.fillna(raw.astype("str").str.strip())
    if not missing.any():
        return geocoded
    if not geocode or not has_zip_column:
        why = "geocode=False" if has_zip_column else f"there is no {checker.user_name(ZIP)!r} column"
        checker.flag(missing, LATITUDE, "no coordinates",
                     f"Fix: fill in latitude and longitude (decimal degrees); ZIP geocoding is off because {why}.")
        return geocoded
    no_zip = missing & (raw.isna() | (raw.astype("str").str.strip() == "")).to_numpy()
    checker.flag(no_zip, LATITUDE, "no coordinates and no ZIP",
                 "Fix: fill in latitude and longitude, or a 5-digit US ZIP code.")
    bad_zip = missing & checker.keep & zips.isna().to_numpy()
    checker.flag(bad_zip, ZIP, "no coordinates and the ZIP is not a US ZIP code",
                 "Fix: fill in latitude and longitude (ZIP geocoding covers US 5-digit ZIPs only).", values=raw)
    todo = missing & checker.keep
    if not todo.any():
        return geocoded
    points = _zip_points(zip_table)
    found = points.reindex(zips[todo].to_numpy())
    zlat = found[LATITUDE].to_numpy(dtype="float64", na_value=np.nan)
    zlon = found[LONGITUDE].to_numpy(dtype="float64", na_value=np.nan)
    unknown = np.zeros(n, bool)
    unknown[np.flatnonzero(todo)[np.isnan(zlat)]] = True
    checker.flag(unknown, ZIP, "no coordinates and the ZIP is not in the ZIP table",
                 "Fix: fill in latitude and longitude, or correct the ZIP.", values=zips)
    idx = np.flatnonzero(todo)[~np.isnan(zlat)]
    lat[idx] = zlat[~np.isnan(zlat)]
    lon[idx] = zlon[~np.isnan(zlat)]
    geocoded[idx] = True
    geocoded &= checker.keep
    return geocoded


def _check_territories(checker: Checker, valid_territories) -> None:
    frame = checker.frame
    territory = frame[CURRENT_TERRITORY].str.strip()
    territory = territory.where(territory != "")
    frame[CURRENT_TERRITORY] = territory
    if valid_territories is not None:
        if isinstance(valid_territories, str):
            raise TypeError("valid_territories must be a collection of territory ids, not a single string")
        known = sorted({str(t) for t in valid_territories})
        unknown = (territory.notna() & ~territory.isin(known)).to_numpy()
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        checker.flag(unknown, CURRENT_TERRITORY, "unknown territory id",
                     f"Fix: correct the ids or add these territories to the reps (known: {shown}).",
                     values=territory)
    blank = territory.isna().to_numpy() & checker.keep
    if blank.any():
        first = checker.table.where[np.flatnonzero(blank)[:5]]
        checker.warnings.append(
            f"{checker.source.name}: {int(blank.sum())} accounts have no "
            f"{checker.user_name(CURRENT_TERRITORY)!r} ({checker.source.unit}s "
            f"{', '.join(map(str, first))}{', ...' if blank.sum() > 5 else ''}); they count as unassigned.")
