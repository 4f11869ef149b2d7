"""What a loader did with a file: rows read, loaded, geocoded, excluded, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True, eq=False)
class LoadReport:
    """Account of one load: nothing is dropped without a line here.

    Attributes
    ----------
    source : str
        File name, or ``"the DataFrame"``.
    n_rows_read : int
        Data rows read (blank lines not counted).
    n_loaded : int
        Rows in the returned frame.
    metrics : tuple of str
        Metric columns parsed as float64.
    geocoded : tuple of str
        Ids of accounts placed at their ZIP point (no coordinates in the input).
    excluded : pandas.DataFrame
        One row per excluded input row: ``line`` (file line, spreadsheet row or
        frame index label), the id (``account_id``, ``rep_id`` or
        ``block_id``), ``column`` (as named in the input) and ``reason``.
    warnings : list of str
        Things worth knowing that did not exclude a row.
    unit : str
        What ``excluded.line`` counts: ``"line"`` (text files; the header is
        line 1) or ``"row"`` (spreadsheet row, feature number, frame index label).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.io import load_accounts
    >>> frame = pd.DataFrame({"account_id": ["A", "B"], "latitude": [48.85, 95.0],
    ...                       "longitude": [2.35, 2.35]})
    >>> accounts, report = load_accounts(frame, on_invalid="exclude", return_report=True)
    >>> print(report.summary())
    Loaded 1 of 2 rows from the DataFrame.
    Excluded 1 row:
      row 1, B, column 'latitude': latitude outside [-90, 90]: 95
    """

    source: str
    n_rows_read: int
    n_loaded: int
    metrics: tuple = ()
    geocoded: tuple = ()
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list = field(default_factory=list)
    unit: str = "row"

    @property
    def n_excluded(self) -> int:
        """Number of input rows left out."""
        return len(self.excluded)

    def summary(self, limit: int = 20) -> str:
        """Human-readable account of the load, one finding per line (first ``limit`` of each kind)."""
        lines = [f"Loaded {self.n_loaded} of {self.n_rows_read} rows from {self.source}"
                 + (f" (metrics: {', '.join(self.metrics)})." if self.metrics else ".")]
        if self.geocoded:
            shown = ", ".join(map(str, self.geocoded[:limit]))
            more = f" and {len(self.geocoded) - limit} more" if len(self.geocoded) > limit else ""
            lines.append(f"Placed {len(self.geocoded)} at their ZIP point (no coordinates given): {shown}{more}.")
        if len(self.excluded):
            unit = "row" if len(self.excluded) == 1 else "rows"
            lines.append(f"Excluded {len(self.excluded)} {unit}:")
            id_col = self.excluded.columns[1]
            for row in self.excluded.head(limit).itertuples(index=False):
                lines.append(f"  {self.unit} {row.line}, {getattr(row, id_col)}, column {row.column!r}: {row.reason}")
            if len(self.excluded) > limit:
                lines.append(f"  ... and {len(self.excluded) - limit} more (see report.excluded)")
        if self.warnings:
            lines.append("Warnings:")
            lines.extend(f"  - {w}" for w in self.warnings[:limit])
            if len(self.warnings) > limit:
                lines.append(f"  ... and {len(self.warnings) - limit} more")
        return "\n".join(lines)
