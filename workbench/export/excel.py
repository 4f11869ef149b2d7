"""``summary.xlsx``: the plan's tables as a formatted workbook (openpyxl).

Each sheet has a bold, frozen header row, real number formats (the values stay
numbers) chosen by :mod:`workbench.present` for each column: dollars with
separators, hours (``#,##0" h"``), kilometres, counts, and one percent
convention: every share or deviation is a fraction shown as a percent
(``+12.3%``), including the ``_pct`` columns, which are divided by 100; changes of a
percentage are points. Column widths fit the content. Text cells are formula-escaped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from workbench import present
from workbench.safeio import escape_cell

#: Excel's limit on sheet-title length.
MAX_SHEET_TITLE = 31
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_DRAFT_FILL = PatternFill("solid", fgColor="F8D7DA")
_MAX_WIDTH = 50
#: Shown in place of the control characters a worksheet cannot hold (assignments.csv keeps them).
REPLACEMENT_CHARACTER = "\ufffd"
#: Most characters an Excel cell holds; longer text is cut (with a note) so the workbook still opens.
MAX_CELL_CHARS = 32_767
_CUT = " [... cut: longer than an Excel cell holds; the CSV has it all]"


def cell_text(value):
    """A value ready for a cell: control characters Excel refuses become U+FFFD, then formula-escaped.

    Text longer than an Excel cell holds (32,767 characters) is cut and says so
    (Excel would otherwise "repair" the whole workbook on opening).

    Examples
    --------
    >>> cell_text("Acme\x0bCorp"), cell_text("=1+1"), cell_text(3)
    ('Acme\ufffdCorp', "'=1+1", 3)
    >>> len(cell_text("x" * 40_000)) <= MAX_CELL_CHARS
    True
    """
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT_CHARACTER, value)
    value = escape_cell(value)
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS - len(_CUT)] + _CUT
    return value


def number_format(column: str, dtype) -> str | None:
    """Excel number format for a column (see :func:`workbench.present.excel_format`).

    Examples
    --------
    >>> number_format("workload_deviation", np.dtype(float)), number_format("accounts", np.dtype(int))
    ('+0.0%;-0.0%;0.0%', '#,##0')
    >>> number_format("revenue", np.dtype(float)), number_format("name", np.dtype(object)) is None
    ('"$"#,##0', True)
    >>> number_format("accounts_kept_pct", np.dtype(float))  # percent values, stored as fractions
    '0.0%'
    """
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return None
    return present.excel_format(column, dtype)


def _cell_value(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return cell_text(value)
    return cell_text(str(value))


def _column_width(series: pd.Series, fmt: str | None, header: str) -> float:
    sample = series.head(200)
    if fmt and pd.api.types.is_numeric_dtype(sample.dtype) and sample.notna().any():
        widest = len(f"{float(np.nanmax(np.abs(sample.to_numpy(dtype=float)))):,.2f}") + 1
    else:
        lengths = sample.astype(object).where(sample.notna(), "").astype(str).str.len()
        widest = int(lengths.max()) if len(lengths) else 0
    return min(_MAX_WIDTH, max(len(header) + 2, widest + 2, 8))


def _column_values(series: pd.Series) -> list:
    """Cell values of a column, vectorised per type: None for missing, text escaped, percents as fractions."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) \
            and present.kind_of(series.name) == "percent":
        series = series.astype(float) / 100.0
    if pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return series.astype(bool).tolist()
    if pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
        return series.astype("int64").tolist()
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return out.tolist()
    if pd.api.types.is_string_dtype(dtype) and dtype != object:
        return series.map(cell_text).astype(object).where(series.notna(), None).tolist()
    return [_cell_value(v) for v in series.to_numpy(dtype=object)]


def _object_format(value) -> str | None:
    """Format of one value of a mixed column (e.g. a scorecard's)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "#,##0"
    if isinstance(value, float):
        return "#,##0.00"
    return None


def _add_sheet(book: Workbook, title: str, frame: pd.DataFrame, *, index: bool, draft: bool,
               cell_formats: pd.DataFrame | None = None) -> None:
    """Stream one frame into a write-only sheet (3x faster than cell-by-cell styling).

    ``cell_formats`` (same shape as ``frame``) gives each cell its own format, for frames whose
    rows hold different kinds of numbers (the scorecard).
    """
    sheet = book.create_sheet(title[:MAX_SHEET_TITLE])
    if index:
        frame = frame.reset_index()
        if cell_formats is not None:  # the index column is text: no number format
            cell_formats = cell_formats.reset_index().astype(object)
            cell_formats.iloc[:, 0] = None
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    formats = [number_format(c, frame[c].dtype) for c in frame.columns]
    mixed = [frame[c].dtype == object for c in frame.columns]
    per_cell = cell_formats.to_numpy(dtype=object) if cell_formats is not None else None
    for position, column in enumerate(frame.columns, start=1):
        width = _column_width(frame[column], formats[position - 1], column)
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = "B2" if index else "A2"
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(1, len(frame) + 1)}"
    header = []
    for column in frame.columns:
        cell = WriteOnlyCell(sheet, cell_text(column))
        cell.font = Font(bold=True)
        cell.fill = _DRAFT_FILL if draft else _HEADER_FILL
        cell.alignment = Alignment(vertical="top")
        header.append(cell)
    sheet.append(header)
    columns = [_column_values(frame[c]) for c in frame.columns]
    for number, row in enumerate(zip(*columns)):
        values = []
        for position, (value, fmt, is_mixed) in enumerate(zip(row, formats, mixed)):
            if per_cell is not None:
                fmt = per_cell[number, position] if isinstance(per_cell[number, position], str) else None
            elif is_mixed:
                fmt = _object_format(value)
            if fmt is not None and value is not None:
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = fmt
                value = cell
            values.append(value)
        sheet.append(values)


def write_workbook(path: Path, about: dict, sheets: dict[str, tuple[pd.DataFrame, bool]], *,
                   draft: bool = False) -> Path:
    """Write ``summary.xlsx``.

    Parameters
    ----------
    path : Path
        File to write.
    about : dict
        Label -> value rows for the first sheet (plan name, status, approval, hash).
    sheets : dict
        Sheet title -> (frame, write_index) or (frame, write_index, cell_formats).
    draft : bool
        Prefix every sheet title with "DRAFT " and colour the headers.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.xlsx"
    >>> _ = write_workbook(path, {"Plan": "q3"}, {"Numbers": (pd.DataFrame({"n": [1, 2]}), False)})
    >>> book = openpyxl.load_workbook(path)
    >>> book.sheetnames, book["Numbers"].freeze_panes, book["Numbers"]["A2"].number_format
    (['Plan', 'Numbers'], 'A2', '#,##0')
    """
    prefix = "DRAFT " if draft else ""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"{prefix}Plan"[:MAX_SHEET_TITLE])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 70
    if draft:
        cell = WriteOnlyCell(sheet, "DRAFT: this plan is NOT approved. Review copy only.")
        cell.font = Font(bold=True, color="9C0006")
        cell.fill = _DRAFT_FILL
        sheet.append([cell])
    for label, value in about.items():
        cell = WriteOnlyCell(sheet, cell_text(str(label)))
        cell.font = Font(bold=True)
        sheet.append([cell, _cell_value(value)])
    for title, (frame, index, *formats) in sheets.items():
        _add_sheet(book, f"{prefix}{title}", frame, index=index, draft=draft,
                   cell_formats=formats[0] if formats else None)
    book.save(path)
    return path
