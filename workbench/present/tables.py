"""Whole tables for people: frames as text, scorecards, terminal tables and HTML tables."""

from __future__ import annotations

import html
import re

import pandas as pd

from workbench.present.columns import format_value, is_signed, kind_of
from workbench.present.labels import label
from workbench.present.numbers import MISSING, _missing, points


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


__all__ = ["format_frame", "scorecard_table", "text_table", "scorecard_text", "html_table"]
