"""Validation building blocks shared by the loaders.

:class:`Checker` walks a table through row checks. Each check is a boolean
mask plus a message; with ``on_invalid="raise"`` the first failing check
raises :class:`~workbench.errors.InputError`, with ``"exclude"`` the rows are
set aside with their reason and the remaining checks see only the rest.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.io._source import RawTable

ON_INVALID = ("raise", "exclude")

#: Other names people give the standard columns; used for "did you mean" hints.
ALIASES = {
    "account_id": ("id", "account", "acct", "acct_id", "account_number", "customer_id", "customer"),
    "latitude": ("lat", "y", "lat_dd", "breitengrad"),
    "longitude": ("lon", "lng", "long", "x", "lon_dd"),
    "zip": ("zipcode", "zip_code", "postal_code", "postcode", "zip5"),
    "rep_id": ("id", "rep", "employee_id", "salesperson_id"),
    "capacity_hours": ("capacity", "hours", "available_hours"),
    "current_territory": ("territory", "territory_id", "terr", "territory_code"),
}


def check_on_invalid(on_invalid: str) -> None:
    if on_invalid not in ON_INVALID:
        raise ValueError(f"on_invalid must be 'raise' or 'exclude', got {on_invalid!r}")


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def near_matches(wanted: str, available, standard: str | None = None) -> list[str]:
    """Columns in ``available`` that look like ``wanted`` (aliases first, then difflib)."""
    available = [str(a) for a in available]
    by_norm = {normalise_name(a): a for a in available}
    found = []
    if standard and standard != wanted and standard in available:
        found.append(standard)
    for alias in ALIASES.get(standard or wanted, ()):
        if alias in by_norm and by_norm[alias] not in found:
            found.append(by_norm[alias])
    lowered = {a.lower(): a for a in available}
    for match in difflib.get_close_matches(wanted.lower(), list(lowered), n=3, cutoff=0.6):
        if lowered[match] not in found:
            found.append(lowered[match])
    return found[:3]


def resolve_columns(table: RawTable, *, what: str, wanted: dict, columns: dict | None) -> dict:
    """Rename the user's columns to standard names in place; return ``{standard: user_name}``.

    ``wanted`` maps each standard name the loader knows to the user's column
    name for it (from ``id_col=`` etc.). ``columns`` is the user's explicit
    ``{their_name: standard_name}`` mapping. Standard names written with other
    case or spacing ("Account ID") are matched too, with a warning.
    """
    frame = table.frame
    present = list(frame.columns)
    columns = dict(columns or {})
    if not isinstance(columns, dict):
        raise TypeError(f"columns must be a dict {{your_name: standard_name}}, got {type(columns).__name__}")
    for theirs, standard in columns.items():
        if theirs not in present:
            raise InputError(missing_column_message(table, theirs, standard, what=what, via="columns"))
    rename = dict(columns)
    taken = set(rename.values())
    notes = []
    for standard, theirs in wanted.items():
        if standard in taken or theirs is None:
            continue
        if theirs in present:
            if theirs != standard:
                rename[theirs] = standard
                if standard in present and standard not in rename:
                    # The user chose another column for this role: keep the file's own aside.
                    aside = _free_name(f"{standard}_in_file", present)
                    rename[standard] = aside
                    notes.append(f"used column {theirs!r} as {standard!r}; the file's own {standard!r} "
                                 f"column is kept as {aside!r}")
            taken.add(standard)
        elif theirs != standard:
            # Named explicitly (id_col=, territory_col=, ...) but absent: never fall back silently.
            raise InputError(missing_column_message(table, theirs, standard, what=what,
                                                    cli=_CLI_FLAGS.get(standard, "")))
        else:
            # Other case/spacing ("Account ID"), or cut to 10 characters by a shapefile.
            relaxed = [c for c in present if c not in rename and (
                normalise_name(c) == standard or (len(c) == 10 and len(standard) > 10 and standard.startswith(c)))]
            if len(relaxed) == 1:
                rename[relaxed[0]] = standard
                taken.add(standard)
                notes.append(f"read column {relaxed[0]!r} as {standard!r}")
    targets = list(rename.values())
    for standard in set(targets):
        sources = [k for k, v in rename.items() if v == standard]
        if len(sources) > 1:
            raise InputError(
                f"{table.source.name}: columns {sources} are all mapped to {standard!r}. "
                f"Fix: map only one of them (columns={{...}})."
            )
        if standard in present and standard not in rename:
            raise InputError(
                f"{table.source.name}: column {sources[0]!r} is mapped to {standard!r}, but the file already "
                f"has a column {standard!r}. Fix: rename or drop one of them, or pass columns= to map the other."
            )
    table.frame = frame.rename(columns=rename)
    table.notes.extend(notes)
    return {standard: theirs for theirs, standard in rename.items()}


#: Command-line options that name the column for each standard role.
_CLI_FLAGS = {"account_id": "--id-col", "latitude": "--lat-col", "longitude": "--lon-col", "zip": "--zip-col",
              "current_territory": "--territory-col"}
#: The same options as ``workbench align`` and ``workbench compare`` spell them.
_CLI_ALIGN_FLAGS = {"--territory-col": "--current", "--metrics": "--balance-on"}


def _free_name(name: str, present) -> str:
    candidate, n = name, 1
    while candidate in present:
        n += 1
        candidate = f"{name}{n}"
    return candidate


def missing_column_message(table: RawTable, theirs: str, standard: str, *, what: str, via: str = "", cli: str = "") -> str:
    present = [str(c) for c in table.frame.columns]
    shown = ", ".join(repr(c) for c in present[:12]) + (", ..." if len(present) > 12 else "")
    near = near_matches(theirs, present, standard)
    hint = ""
    if near:
        hint = f" Did you mean {' or '.join(repr(n) for n in near)}?"
    example = near[0] if near else "YOUR_COLUMN"
    if example == standard:  # the file has the standard column: mapping it onto itself is no fix
        fix = f"Fix: name an existing column, e.g. the file's own {standard!r}"
    else:
        fix = f"Fix: rename the column in the file, or pass columns={{{example!r}: {standard!r}}}"
    if cli:
        fix += f" (CLI: {cli} {example}"
        if cli in _CLI_ALIGN_FLAGS:
            fix += f"; workbench align/compare: {_CLI_ALIGN_FLAGS[cli]} {example}"
        fix += ")"
    fix += "."
    if via == "columns":
        near = near_matches(theirs, present)
        if standard in present:
            near = [standard] + [n for n in near if n != standard]
        hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        return (f"{table.source.name}: columns= maps {theirs!r} to {standard!r}, but there is no column "
                f"{theirs!r} (columns found: {shown}).{hint} Fix: correct the name in columns= (or drop "
                f"the entry if the column is already called {standard!r}).")
    return (f"{table.source.name}: missing the {what} column {theirs!r} (columns found: {shown}).{hint} {fix}")


# ---------------------------------------------------------------- numbers
#: Largest metric value accepted: sums of a million such values stay well inside float64's exact range
#: and far from overflow (1e308 in a cell made balancing fail with "data must be finite" and k-means print nan%).
MAX_AMOUNT = 1e15
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,\u00a0\u202f ]\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+$")


def parse_numbers(series: pd.Series, *, decimal_comma: bool = False):
    """Parse a column to float64.

    Returns ``(values, bad, fixed)``: ``values`` float64 (NaN where empty or
    bad), ``bad`` a bool mask of cells that hold text that is not a number,
    ``fixed`` a bool mask of cells read by dropping thousands separators
    (``"1,234"`` -> 1234) or, in semicolon files, a decimal comma
    (``"52,37"`` -> 52.37).
    """
    n = len(series)
    if pd.api.types.is_bool_dtype(series) or isinstance(series.dtype, pd.DatetimeTZDtype) or \
            pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        # True/False, dates and durations are not amounts (pd.to_numeric would read a date as nanoseconds).
        return np.full(n, np.nan), series.notna().to_numpy(), np.zeros(n, bool)
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype="float64", na_value=np.nan, copy=True), np.zeros(n, bool), np.zeros(n, bool)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    candidates = np.isnan(numbers) & series.notna().to_numpy()
    bad = np.zeros(n, bool)
    fixed = np.zeros(n, bool)
    if candidates.any():
        text = series[candidates].astype("str").str.strip()
        empty = (text == "").to_numpy() | text.str.lower().isin(["nan", "none", "null", "na", "n/a"]).to_numpy()
        pattern = _DECIMAL_COMMA if decimal_comma else _THOUSANDS
        matches = text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
        if decimal_comma:
            cleaned = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            cleaned = text.str.replace(r"[,\u00a0\u202f ]", "", regex=True)
        reparsed = pd.to_numeric(cleaned.where(matches), errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
        idx = np.flatnonzero(candidates)
        ok = matches & ~np.isnan(reparsed)
        numbers[idx[ok]] = reparsed[ok]
        fixed[idx[ok]] = True
        bad[idx[~ok & ~empty]] = True
    return numbers, bad, fixed


# ---------------------------------------------------------------- row checks
class Checker:
    """Apply row checks to a table; raise on the first problem or set rows aside."""

    def __init__(self, table: RawTable, *, names: dict, id_column: str, on_invalid: str):
        self.table = table
        self.frame = table.frame
        self.source = table.source
        self.names = names  # standard -> user's name
        self.id_column = id_column
        self.on_invalid = on_invalid
        self.keep = np.ones(len(table.frame), bool)
        self.excluded: list[pd.DataFrame] = []
        self.warnings: list[str] = list(table.notes)

    def user_name(self, standard: str) -> str:
        return self.names.get(standard, standard)

    def ids(self) -> np.ndarray:
        if self.id_column in self.frame:
            return self.frame[self.id_column].to_numpy(dtype=object, na_value=None)
        return np.full(len(self.frame), None, dtype=object)

    def flag(self, mask, column: str, problem: str, fix: str, values=None, reasons=None) -> None:
        """Rows in ``mask`` have ``problem`` in ``column`` (standard name)."""
        mask = np.asarray(mask, dtype=bool) & self.keep
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        shown = None if values is None else np.asarray(values, dtype=object)[positions]
        if self.on_invalid == "raise":
            rows = self.source.rows(self.table.where[positions], shown)
            count = len(positions)
            unit = self.source.unit + ("s" if count > 1 else "")
            raise InputError(
                f"{self.source.name}: column {self.user_name(column)!r}: {problem} on {count} {unit}: {rows}. {fix}"
            )
        self.keep[positions] = False
        if reasons is None:
            reasons = problem
            if shown is not None:
                reasons = [f"{problem}: {_value(v)}" for v in shown]
        elif not isinstance(reasons, str):
            reasons = np.asarray(reasons, dtype=object)[positions]
        self.excluded.append(pd.DataFrame({
            "line": self.table.where[positions],
            self.id_column: self.ids()[positions],
            "column": self.user_name(column),
            "reason": reasons,
        }))

    def fail(self, message: str) -> None:
        raise InputError(f"{self.source.name}: {message}")

    def excluded_frame(self) -> pd.DataFrame:
        if not self.excluded:
            return pd.DataFrame({"line": pd.Series(dtype="int64"), self.id_column: pd.Series(dtype="str"),
                                 "column": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")})
        out = pd.concat(self.excluded, ignore_index=True)
        return out.sort_values("line", kind="stable").reset_index(drop=True)

    def check_all_invalid(self, what: str) -> None:
        if len(self.keep) and not self.keep.any():
            excluded = self.excluded_frame()
            reasons = excluded["reason"].str.split(":").str[0].value_counts()
            top = "; ".join(f"{reason} ({count})" for reason, count in reasons.head(3).items())
            raise InputError(
                f"{self.source.name}: all {len(self.keep)} {what} are invalid, nothing to load "
                f"(most common problems: {top}). Fix: check the column mapping (columns=, lat_col=, "
                f"lon_col=) and the first rows of the file."
            )

    # -------------------------------------------------------- common checks
    def check_ids(self, what: str, cli: str) -> pd.Series:
        """Strip ids; flag missing and duplicate ones. Returns the stripped ids."""
        ids = self.frame[self.id_column].astype("str").str.strip()
        self.frame[self.id_column] = ids
        missing = (ids.isna() | (ids == "")).to_numpy()
        self.flag(missing, self.id_column, f"missing {what} id",
                  f"Fix: give every row a unique {what} id, or point {cli} at the id column.")
        # Ids that look the same (Unicode NFC vs NFD, e.g. "Café" typed on two systems) are one account.
        import unicodedata

        nfc = ids.copy()
        # ASCII is NFC already: only the other ids are normalised (fast on large files).
        other = ids.notna().to_numpy() & ~ids.str.isascii().fillna(True).to_numpy(dtype=bool)
        nfc[other] = [unicodedata.normalize("NFC", v) for v in ids[other]]
        forms = " (some of them are the same text written with different Unicode characters, NFC vs NFD)" \
            if (nfc[other] != ids[other]).any() else ""
        live = pd.Series(np.where(self.keep, nfc.to_numpy(dtype=object, na_value=None), None), dtype=object)
        dup = (live.duplicated(keep="first") & live.notna()).to_numpy()
        if dup.any():
            where = pd.Series(self.table.where)
            first = where.groupby(live.to_numpy()).transform("first").to_numpy()
            repeated = live[live.duplicated(keep=False) & live.notna()]
            listing = ", ".join(  # only the first five ids: a file loaded twice has a million of them
                f"{key!r} ({self.source.unit}s "
                f"{', '.join(str(w) for w in self.table.where[repeated.index[repeated == key][:5]])})"
                for key in repeated.unique()[:5]
            )
            n_ids = repeated.nunique()
            if self.on_invalid == "raise":
                self.fail(
                    f"column {self.user_name(self.id_column)!r}: {n_ids} duplicate {what} id"
                    f"{'s' if n_ids > 1 else ''}: {listing}{' and more' if n_ids > 5 else ''}{forms}. "
                    f"Fix: make the ids unique (merge or renumber the repeated rows), or check that "
                    f"{cli} names the id column."
                )
            reasons = np.full(len(dup), None, dtype=object)
            reasons[dup] = (f"duplicate {what} id '" + live[dup].astype(str) + f"' (first on {self.source.unit} "
                            + pd.Series(first[dup]).astype(str).to_numpy() + ")").to_numpy()
            self.flag(dup, self.id_column, f"duplicate {what} id", "", reasons=reasons)
        return ids

    def check_coordinates(self, lat_raw: pd.Series, lon_raw: pd.Series, *, decimal_comma: bool):
        """Parse and range-check coordinates. Returns float arrays (NaN where missing)."""
        lat, bad_lat, fixed_lat = parse_numbers(lat_raw, decimal_comma=decimal_comma)
        lon, bad_lon, fixed_lon = parse_numbers(lon_raw, decimal_comma=decimal_comma)
        self.note_fixed(fixed_lat, "latitude", lat_raw, lat)
        self.note_fixed(fixed_lon, "longitude", lon_raw, lon)
        fix = "Fix: write decimal degrees such as 40.7128 / -74.0060 (not degrees-minutes-seconds), or leave the cell empty"
        self.flag(bad_lat, "latitude", "latitude is not a number", fix + ".", values=lat_raw)
        self.flag(bad_lon, "longitude", "longitude is not a number", fix + ".", values=lon_raw)
        both = ~np.isnan(lat) & ~np.isnan(lon) & self.keep
        self.check_swapped(lat, lon, both)
        lat_out = both & ~(np.abs(lat) <= 90)
        lon_out = both & ~(np.abs(lon) <= 180)
        projected = ""
        if (lat_out | lon_out).any() and np.nanmedian(np.abs(np.r_[lat[lat_out], lon[lon_out]])) > 1000:
            projected = (" These look like projected coordinates (metres), not degrees: convert them to "
                         "WGS84, e.g. with geopandas .to_crs('EPSG:4326').")
        self.flag(lat_out, "latitude", "latitude outside [-90, 90]",
                  "Fix: correct these values; latitude is north-south in decimal degrees." + projected, values=lat)
        self.flag(lon_out, "longitude", "longitude outside [-180, 180]",
                  "Fix: correct these values; longitude is east-west in decimal degrees." + projected, values=lon)
        null_island = both & (lat == 0) & (lon == 0)
        self.flag(null_island, "latitude", "coordinates are (0, 0) ('null island', usually a failed geocode)",
                  "Fix: correct the coordinates, or leave both cells empty so the account is placed at its ZIP.")
        return lat, lon

    def check_swapped(self, lat, lon, both) -> None:
        """Stop when most rows make sense only with latitude and longitude exchanged.

        Valid means |lat| <= 90 and |lon| <= 180; plausible for an account also
        needs -60 <= lat <= 85 (nobody is selling in Antarctica). US east-coast
        longitudes (-70 to -80) are valid latitudes, but not plausible ones.
        """
        n = int(both.sum())
        if n == 0:
            return
        la, lo = lat[both], lon[both]
        ok = (np.abs(la) <= 90) & (np.abs(lo) <= 180)
        ok_swapped = (np.abs(lo) <= 90) & (np.abs(la) <= 180)
        plausible = ok & (la >= -60) & (la <= 85)
        plausible_swapped = ok_swapped & (lo >= -60) & (lo <= 85)
        only_swapped = ~ok & ok_swapped
        only_plausible_swapped = ~plausible & plausible_swapped
        if (ok_swapped.all() and only_swapped.sum() > n / 2) or only_plausible_swapped.sum() > 0.9 * n:
            worse = only_swapped if only_swapped.any() else only_plausible_swapped
            example = np.flatnonzero(both)[np.flatnonzero(worse)[0]]
            count = int(worse.sum())
            self.fail(
                f"latitude and longitude look swapped: {count} of {n} rows make sense only with the two "
                f"columns exchanged (e.g. {self.source.unit} {self.table.where[example]}: "
                f"{self.user_name('latitude')}={lat[example]:g}, {self.user_name('longitude')}={lon[example]:g}). "
                f"Fix: rename the columns, or pass lat_col={self.user_name('longitude')!r}, "
                f"lon_col={self.user_name('latitude')!r} (CLI: --lat-col/--lon-col)."
            )

    def note_fixed(self, fixed, column: str, raw: pd.Series, values) -> None:
        if fixed.any():
            first = np.flatnonzero(fixed)[0]
            self.warnings.append(
                f"{self.source.name}: column {self.user_name(column)!r}: read {int(fixed.sum())} values "
                f"written with separators as numbers (e.g. {self.source.unit} {self.table.where[first]}: "
                f"{raw.iloc[first]!r} -> {values[first]:g})."
            )

    def check_positive_numbers(self, raw: pd.Series, column: str, *, what: str, decimal_comma: bool,
                               allow_missing: bool, strict: bool, fix_missing: str) -> np.ndarray:
        values, bad, fixed = parse_numbers(raw, decimal_comma=decimal_comma)
        self.note_fixed(fixed, column, raw, values)
        self.flag(bad, column, f"{what} is not a number",
                  "Fix: use plain numbers with a point as decimal separator (e.g. 1234.5; no units or currency "
                  "signs); thousands separators "
                  "like 1,234 are accepted.", values=raw)
        if not allow_missing:
            self.flag(np.isnan(values), column, f"{what} is missing", fix_missing)
        finite = ~np.isnan(values)
        self.flag(finite & np.isinf(values), column, f"{what} is not finite", "Fix: use a finite number.", values=values)
        self.flag(finite & ~np.isinf(values) & (np.abs(values) > MAX_AMOUNT), column,
                  f"{what} is above {MAX_AMOUNT:.0e} (totals of such values are no longer exact)",
                  "Fix: check these cells, or use a larger unit (e.g. thousands).", values=values)
        if strict:
            self.flag(finite & (values <= 0), column, f"{what} must be positive",
                      "Fix: use a number above 0, or leave the cell empty.", values=values)
        else:
            self.flag(finite & (values < 0), column, f"{what} is negative",
                      "Fix: correct the sign, or use 0 for no value; balancing needs amounts >= 0.",
                      values=values)
        return values


def _value(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    if isinstance(value, float):
        return f"{value:.10g}"
    return repr(str(value))
