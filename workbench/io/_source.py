"""Read a table from a file or a frame, remembering where every row came from.

Every loader starts here. The result is a :class:`RawTable`: the rows as read
(text columns kept as strings so ids like ``"00123"`` keep their zeros), the
name to use in messages, and for each row the label a person can look up:
the line in a text file, the row in a spreadsheet, the index label of a frame.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import EncodingFallbackWarning, InputError

#: Files at least this big are read in chunks with a progress bar.
LARGE_FILE_BYTES = 50 * 1024 * 1024
CHUNK_ROWS = 250_000

#: Cells read as missing in numeric columns (pandas' defaults).
NA_VALUES = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
             "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".topojson", ".fgb", ".gml", ".kml")
SUPPORTED = "CSV (.csv, .csv.gz, .txt, .tsv), Excel (.xlsx), Parquet (.parquet), " \
    "GeoPackage (.gpkg), GeoJSON (.geojson), TopoJSON (.topojson), shapefile (.shp)"


@dataclass(frozen=True)
class Source:
    """Where rows came from, for messages."""

    name: str  # "accounts.csv" or "the DataFrame"
    path: Path | None
    unit: str  # "line" (text file), "row" (spreadsheet, table, frame)

    def rows(self, labels, values=None, limit: int = 5) -> str:
        """``"line 3 ('abc'), line 7 ('x')"`` for the first ``limit`` labels, plus a count of the rest."""
        labels = list(labels)
        values = None if values is None else list(values)
        items = []
        for i, label in enumerate(labels[:limit]):
            item = f"{self.unit} {label}"
            if values is not None:
                item += f" ({_show(values[i])})"
            items.append(item)
        text = ", ".join(items)
        if len(labels) > limit:
            text += f" and {len(labels) - limit} more"
        return text


@dataclass
class RawTable:
    """Rows as read; ``where[i]`` is the line/row label of row ``i``."""

    frame: pd.DataFrame
    source: Source
    where: np.ndarray
    geometry: object = None  # GeoSeries for spatial files, else None
    crs: object = None
    delimiter: str | None = None
    notes: list = field(default_factory=list)  # warnings found while reading/renaming


def _show(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "empty"
    if isinstance(value, (float, np.floating)):
        return f"{value:.10g}"
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)


def read_table(
    source,
    *,
    what: str,
    is_text: Callable[[str], bool],
    sheet=None,
    encoding: str | None = None,
    layer=None,
    progress: bool = False,
) -> RawTable:
    """Read ``source`` (path or frame) into a :class:`RawTable`.

    ``what`` names the table in messages ("accounts", "reps", "blocks").
    Columns for which ``is_text(name)`` is true are read as strings.
    """
    if isinstance(source, pd.DataFrame):
        table = _from_frame(source, is_text)
        if len(table.frame) == 0:
            raise InputError(f"{table.source.name} has no rows (columns: {list(table.frame.columns)[:10]}). "
                             f"Fix: pass a frame with the {what}, one per row.")
        return table
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"{what} source must be a file path or a pandas DataFrame, got {type(source).__name__}"
        )
    path = Path(source)
    suffix = _suffix(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} file not found: {path} (working directory: {Path.cwd()})")
    if path.is_dir() and suffix not in GEO_SUFFIXES:
        raise IsADirectoryError(f"{what} source {path} is a folder; pass the file inside it")
    if suffix in TEXT_SUFFIXES or suffix in tuple(s + ".gz" for s in TEXT_SUFFIXES):
        return _read_text(path, what=what, is_text=is_text, encoding=encoding, progress=progress)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, what=what, is_text=is_text, sheet=sheet)
    if suffix == ".xls":
        raise InputError(
            f"{path.name}: old Excel .xls files cannot be read (openpyxl reads .xlsx only). "
            f"Fix: open it in Excel or LibreOffice and save as .xlsx or CSV UTF-8."
        )
    if suffix in PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise InputError(f"{path.name}: cannot read as Parquet ({exc}). Fix: re-export the file.") from exc
        if len(frame) == 0:
            raise InputError(f"{path.name} has columns but no rows. Fix: export the {what} again including the rows.")
        table = _from_frame(frame, is_text)
        return _relabel(table, Source(path.name, path, "row"), start=1)
    if suffix in GEO_SUFFIXES:
        return _read_geo(path, what=what, is_text=is_text, layer=layer)
    raise InputError(
        f"{path.name}: unsupported file type {suffix or '(no extension)'!r} for {what}. "
        f"Fix: save it as one of {SUPPORTED}, or load it yourself and pass a pandas DataFrame."
    )


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if not suffixes:
        return ""
    if suffixes[-1] == ".gz" and len(suffixes) > 1:
        return suffixes[-2] + ".gz"
    return suffixes[-1]


def _relabel(table: RawTable, source: Source, start: int) -> RawTable:
    table.source = source
    table.where = np.arange(start, start + len(table.frame))
    return table


def to_text(series: pd.Series) -> pd.Series:
    """Convert a column to strings without ``"123.0"`` artefacts; missing stays missing."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("str").where(series.notna(), None).astype("str")
    if pd.api.types.is_numeric_dtype(series):
        values = series
        if pd.api.types.is_float_dtype(series):
            # Whole numbers as whole-number text, exactly and value by value (3.0 -> "3", 1e20 ->
            # "100000000000000000000": Int64 cannot hold it, and "1e+20" is not the id a person typed).
            values = series.map(_cell_text, na_action="ignore")
        out = values.astype("str")
        return out.where(series.notna(), None).astype("str")
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return series
    out = series.map(_cell_text, na_action="ignore")
    return out.astype("str")


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _from_frame(frame: pd.DataFrame, is_text) -> RawTable:
    geometry = crs = None
    if hasattr(frame, "geometry") and getattr(frame, "_geometry_column_name", None) in frame:
        geometry = frame.geometry
        crs = frame.crs
        frame = pd.DataFrame(frame.drop(columns=frame._geometry_column_name))
    else:
        frame = pd.DataFrame(frame)
    where = frame.index.to_numpy()
    frame = frame.reset_index(drop=True).copy()
    frame.columns = [str(c) for c in frame.columns]
    for col in frame.columns:
        if is_text(col):
            frame[col] = to_text(frame[col])
    if geometry is not None:
        geometry = geometry.reset_index(drop=True)
    name = "the GeoDataFrame" if geometry is not None else "the DataFrame"
    return RawTable(frame, Source(name, None, "row"), where, geometry, crs)


# ---------------------------------------------------------------- text files
def _open_binary(path: Path):
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if path.suffix.lower() == ".gz":
        return raw, gzip.GzipFile(fileobj=raw, mode="rb")
    return raw, raw


def _head_text(path: Path, encoding: str) -> tuple[bytes, str]:
    raw, stream = _open_binary(path)
    try:
        head = stream.read(65536)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path.name}: cannot read the file ({exc}). Fix: check it is not truncated or corrupt.") from exc
    finally:
        stream.close()
        raw.close()
    # An incremental decoder does not choke on a character split at the end of the sample.
    return head, codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < 65536)


def _encoding_error(path: Path, encoding: str, exc: UnicodeDecodeError, user_encoding: bool) -> InputError:
    raw, stream = _open_binary(path)
    try:
        data = stream.read(256 * 1024 * 1024)
    finally:
        stream.close()
        raw.close()
    line = position = None
    try:
        data.decode(encoding)
    except UnicodeDecodeError as err:
        position = err.start
        line = data.count(b"\n", 0, err.start) + 1
    where = f" on line {line} (byte {data[position:position + 1]!r})" if line else ""
    guess = ""
    for candidate in ("cp1252", "latin-1"):
        if candidate == encoding:
            continue
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        guess = f" It decodes as {candidate!r}, so try encoding={candidate!r} (CLI: --encoding {candidate})."
        break
    told = "the encoding you passed" if user_encoding else "UTF-8 (also tried UTF-8 with BOM)"
    return InputError(
        f"{path.name}: cannot decode the file as {encoding!r}, {told}{where}. "
        f"Fix: re-save it as UTF-8 (Excel: Save As > 'CSV UTF-8'), or pass encoding= with the "
        f"file's real encoding.{guess}"
    )


def sniff_delimiter(header: str) -> str:
    """Pick ``,``, ``;``, tab or ``|`` by counting them (outside quotes) in the header line."""
    best, best_count = ",", 0
    for delimiter in (",", ";", "\t", "|"):
        row = next(csv.reader([header], delimiter=delimiter), [])
        if len(row) - 1 > best_count:
            best, best_count = delimiter, len(row) - 1
    return best


#: Tried, in order, when no encoding was given and the file is not UTF-8 (cp1252 is Excel's
#: "CSV" on Windows; latin-1 decodes any byte, so it is the last resort).
FALLBACK_ENCODINGS = ("cp1252", "latin-1")


def _read_text(path: Path, *, what, is_text, encoding, progress) -> RawTable:
    try:
        return _read_text_as(path, what=what, is_text=is_text, encoding=encoding, progress=progress)
    except _NotUTF8:
        pass
    fallback = _fallback_encoding(path)
    table = _read_text_as(path, what=what, is_text=is_text, encoding=fallback, progress=progress)
    note = (f"{path.name} is not UTF-8: read it as {fallback!r}"
            f"{' (Windows-1252)' if fallback == 'cp1252' else ''}. If accented letters look wrong, pass the "
            f"file's real encoding (encoding=..., CLI: --encoding), or re-save it as CSV UTF-8.")
    warnings.warn(note, EncodingFallbackWarning, stacklevel=4)
    table.notes.insert(0, note)
    return table


class _NotUTF8(Exception):
    """No encoding was given and the file does not decode as UTF-8."""


def _fallback_encoding(path: Path) -> str:
    raw, stream = _open_binary(path)
    try:
        data = stream.read()
    finally:
        stream.close()
        raw.close()
    for candidate in FALLBACK_ENCODINGS:
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return FALLBACK_ENCODINGS[-1]  # pragma: no cover - latin-1 decodes every byte


def _read_text_as(path: Path, *, what, is_text, encoding, progress) -> RawTable:
    user_encoding = encoding is not None
    if encoding is None:
        raw, stream = _open_binary(path)
        try:
            bom = stream.read(4)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path.name}: cannot read the file ({exc}). "
                             f"Fix: check it is not truncated or corrupt.") from exc
        finally:
            stream.close()
            raw.close()
        # A UTF-16 byte-order mark is unambiguous (Excel's "Unicode text" export).
        encoding = "utf-16" if bom[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        head_bytes, head = _head_text(path, encoding)
    except UnicodeDecodeError as exc:
        if not user_encoding and encoding == "utf-8-sig":
            raise _NotUTF8 from exc
        raise _encoding_error(path, encoding, exc, user_encoding) from exc
    except LookupError as exc:
        raise InputError(f"{path.name}: unknown encoding {encoding!r}. Fix: pass a Python codec name such as 'utf-8' or 'cp1252'.") from exc
    if not head.strip():
        raise InputError(
            f"{path.name} is empty: no header and no {what}. "
            f"Fix: export the {what} again with a header line (e.g. account_id,latitude,longitude)."
        )
    wide = encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32"))
    if b"\x00" in head_bytes[:4096] and not wide:
        raise InputError(
            f"{path.name} looks binary, not text (NUL bytes near the start; maybe an Excel or UTF-16 "
            f"file saved as {path.suffix}). Fix: save it as CSV UTF-8, or pass encoding='utf-16'."
        )
    lines = head.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = "\t" if _suffix(path).startswith(".tsv") else sniff_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    header = [h.strip() for h in header]
    dtype = {name: "str" for name in header if is_text(name)}
    # In id/code columns only an empty cell is missing: "NA" (Namibia), "NULL" or "None" stay text.
    na_values = {name: [""] if name in dtype else list(NA_VALUES) for name in header}
    size = path.stat().st_size
    chunked = progress or size >= LARGE_FILE_BYTES
    kwargs = dict(
        sep=delimiter,
        dtype=dtype,
        na_values=na_values,
        keep_default_na=False,
        encoding=encoding,
        skip_blank_lines=False,
        skipinitialspace=True,
        compression="gzip" if path.suffix.lower() == ".gz" else None,
    )
    try:
        if chunked:
            frame = _read_chunks(path, kwargs, size, show=True)
        else:
            frame = pd.read_csv(path, **kwargs)
    except UnicodeDecodeError as exc:
        if not user_encoding and encoding == "utf-8-sig":
            raise _NotUTF8 from exc
        raise _encoding_error(path, encoding, exc, user_encoding) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path.name} is empty: no header and no {what}. Fix: export the {what} again with a header line.") from exc
    except pd.errors.ParserError as exc:
        raise InputError(
            f"{path.name}: cannot parse as a {_delimiter_name(delimiter)}-separated file ({' '.join(str(exc).split())}). "
            f"Fix: check that every line has the same number of fields and that text with "
            f"{_delimiter_name(delimiter)}s is quoted."
        ) from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{path.name}: cannot read the file ({exc}). Fix: check it is not truncated or corrupt.") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    where = np.arange(2, len(frame) + 2)
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
        where = where[~blank]
    if len(frame) == 0:
        raise InputError(
            f"{path.name} has a header ({', '.join(header[:6])}{', ...' if len(header) > 6 else ''}) "
            f"but no data rows. Fix: export the {what} again including the rows, not just the header."
        )
    return RawTable(frame, Source(path.name, path, "line"), where, delimiter=delimiter)


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]


def _read_chunks(path: Path, kwargs: dict, size: int, show: bool) -> pd.DataFrame:
    from tqdm.auto import tqdm

    raw = open(path, "rb")  # noqa: SIM115
    try:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if kwargs["compression"] == "gzip" else raw
        kwargs = {**kwargs, "compression": None}
        text = io.TextIOWrapper(stream, encoding=kwargs.pop("encoding"), newline="")
        parts = []
        with tqdm(total=size, unit="B", unit_scale=True, desc=f"reading {path.name}", disable=not show) as bar:
            done = 0
            for chunk in pd.read_csv(text, chunksize=CHUNK_ROWS, **kwargs):
                parts.append(chunk)
                position = raw.tell()
                bar.update(position - done)
                done = position
    finally:
        raw.close()
    if not parts:
        return pd.DataFrame()
    frame = pd.concat(parts, ignore_index=True)
    return frame


# ---------------------------------------------------------------- Excel
def _read_excel(path: Path, *, what, is_text, sheet) -> RawTable:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError(f"{path.name}: reading Excel needs openpyxl. Fix: pip install openpyxl.") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(
            f"{path.name}: cannot open as an Excel workbook ({exc}). Fix: open and re-save it in Excel as .xlsx, or export CSV UTF-8."
        ) from exc
    try:
        names = book.sheetnames
    finally:
        book.close()
    if sheet is None:
        sheet_name = names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise InputError(f"{path.name}: no sheet number {sheet} (it has {len(names)}: {names}). Fix: pass sheet= with one of those names.")
        sheet_name = names[sheet]
    elif sheet not in names:
        raise InputError(f"{path.name}: no sheet {sheet!r}; sheets are {names}. Fix: pass sheet= with one of those names.")
    else:
        sheet_name = sheet
    header = pd.read_excel(path, sheet_name=sheet_name, nrows=0, engine="openpyxl").columns
    if len(header) == 0:
        raise InputError(f"{path.name}, sheet {sheet_name!r} is empty. Fix: put a header row and the {what} on the first sheet or pass sheet=.")
    dtype = {name: str for name in header if is_text(str(name))}
    frame = pd.read_excel(path, sheet_name=sheet_name, dtype=dtype, engine="openpyxl")
    frame.columns = [str(c).strip() for c in frame.columns]
    where = np.arange(2, len(frame) + 2)
    blank = frame.isna().all(axis=1).to_numpy()
    frame = frame.loc[~blank].reset_index(drop=True)
    where = where[~blank]
    for col in frame.columns:
        if is_text(col):
            frame[col] = to_text(frame[col])
    label = path.name if sheet is None else f"{path.name} (sheet {sheet_name!r})"
    if len(frame) == 0:
        raise InputError(f"{label} has a header but no data rows. Fix: put the {what} below the header row.")
    return RawTable(frame, Source(label, path, "row"), where)


# ---------------------------------------------------------------- spatial files
def _read_geo(path: Path, *, what, is_text, layer) -> RawTable:
    import geopandas as gpd
    import pyogrio

    if layer is None and _suffix(path) != ".shp":
        try:
            layers = pyogrio.list_layers(path)
        except Exception as exc:
            raise InputError(f"{path.name}: cannot open as a spatial file ({' '.join(str(exc).split())}). "
                             f"Fix: re-export it from your GIS as GeoPackage or GeoJSON.") from exc
        if len(layers) > 1:
            raise InputError(
                f"{path.name} has {len(layers)} layers ({', '.join(map(str, layers[:, 0]))}). "
                f"Fix: pass layer= with the one holding the {what}."
            )
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:
        hint = ""
        if layer is not None:
            try:
                hint = f" Layers in the file: {', '.join(map(str, pyogrio.list_layers(path)[:, 0]))}."
            except Exception:
                hint = ""
        raise InputError(f"{path.name}: cannot read as a spatial file ({' '.join(str(exc).split())}).{hint} "
                         f"Fix: check the file and layer=, or re-export it as GeoPackage.") from exc
    if len(frame) == 0:
        raise InputError(f"{path.name} has no features (no {what}). Fix: check the layer= and the export.")
    table = _from_frame(frame, is_text)
    return _relabel(table, Source(path.name, path, "row"), start=1)
