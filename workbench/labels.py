"""Territory labels and ids as text: the one place that coerces them.

Every module that takes "a territory per account" (a Plan, a Series, an
array) or reads ids from a file goes through here, so that ``3.0``, ``"3"``
and ``" 3 "`` are the same territory everywhere and a Series is aligned the
same way everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.schema import ACCOUNT_ID


def show(values, limit: int = 5) -> str:
    """First ``limit`` values as a readable list for a message, with a count of the rest.

    Examples
    --------
    >>> show(["a", "b", "c"], limit=2)
    "['a', 'b'] and 1 more"
    """
    values = list(values)
    head = ", ".join(repr(str(v)) for v in values[:limit])
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"[{head}]{more}"


def printable(text) -> str:
    """Text safe to print on a terminal: control characters, bidi overrides and other invisible
    characters are shown as escapes (``\\x1b``, ``\\u202e``), everything else as is.

    A name holding ESC sequences could clear the screen or forge colours; a right-to-left
    override could show ``exe.txt`` for ``txt.exe``.

    Examples
    --------
    >>> printable("Zürich \\x1b[31mred\\u202e")
    'Zürich \\\\x1b[31mred\\\\u202e'
    """
    text = "" if text is None else str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text)


def clean_text(values) -> pd.Series:
    """Values as stripped text; missing, empty and blank become NaN; 3.0 becomes "3".

    Examples
    --------
    >>> clean_text(pd.Series([3.0, None])).tolist(), clean_text([" T1 ", "", None]).tolist()
    (['3', nan], ['T1', nan, nan])
    """
    series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = series.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(numbers)
        if np.all(np.equal(np.mod(numbers[finite], 1), 0)):
            too_big = finite & (np.abs(np.where(finite, numbers, 0)) > 2**53)
            if too_big.any():
                # Above 2**53 a float64 no longer holds every whole number: ids stored so have lost digits.
                rows = ", ".join(map(str, np.flatnonzero(too_big)[:5]))
                shown = ", ".join(f"{v:g}" for v in numbers[too_big][:5])
                raise InputError(f"ids stored as floating-point numbers above 2**53 have lost digits "
                                 f"({series.name or 'values'} {shown} in rows {rows}); store the ids as text "
                                 "(e.g. df[col].astype(str) before it is written, or dtype=str when read)")
            whole = pd.Series(np.where(finite, numbers, 0).astype(np.int64), index=series.index, name=series.name)
            series = whole.astype(object).where(finite, None)  # object keeps 3 as 3 beside a missing value
    missing = series.isna().to_numpy()
    text = series.astype(object).where(~missing, "").astype(str).str.strip()
    text = text.where(text != "", np.nan)
    return text.astype("str").rename(series.name)


def accounts_of(labels, accounts=None) -> pd.DataFrame:
    """The accounts frame that ``labels`` belong to: ``accounts``, else the plan's own, with a RangeIndex and ids.

    Plain labels (not a Plan) need ``accounts``. Without an ``account_id`` column the row
    numbers become the ids.

    Examples
    --------
    >>> accounts_of(["T1", "T2"], pd.DataFrame({"workload": [1.0, 2.0]}, index=[5, 6])).to_dict("list")
    {'workload': [1.0, 2.0], 'account_id': ['0', '1']}
    """
    if accounts is None:
        if not hasattr(labels, "accounts"):
            raise InputError("plain labels need accounts=: pass the accounts frame the labels belong to")
        accounts = labels.accounts
    if not isinstance(accounts, pd.DataFrame):
        raise TypeError(f"accounts must be a pandas DataFrame, got {type(accounts).__name__}")
    accounts = accounts.reset_index(drop=True)
    if ACCOUNT_ID not in accounts.columns:
        accounts = accounts.assign(**{ACCOUNT_ID: accounts.index.astype(str)})
    return accounts


def labels_for_rows(labels, accounts: pd.DataFrame, *, what: str = "labels") -> np.ndarray:
    """One label per row of ``accounts``, from a Plan, a Series or an array.

    - a :class:`~workbench.plan.Plan` (anything with ``labels_for``): its
      territory of each account, matched by ``account_id``;
    - a Series indexed like ``accounts``: its values; a Series indexed by
      account id (every account once): reindexed to the accounts' order;
    - anything else: taken in row order (an ndarray as it is, else as objects).

    Raises :class:`~workbench.errors.InputError` when the count does not match
    the rows or a Series is indexed by neither.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b"]}, index=[10, 11])
    >>> labels_for_rows(pd.Series({"b": "T2", "a": "T1"}), accounts).tolist()
    ['T1', 'T2']
    >>> labels_for_rows(["T1"], accounts)
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: labels has 1 entries but accounts has 2 rows; pass one territory id per account row
    """
    if hasattr(labels, "labels_for") and hasattr(labels, "assignments"):
        return np.asarray(labels.labels_for(accounts), dtype=object)
    if isinstance(labels, pd.Series):
        if labels.index.equals(accounts.index):
            values = labels.to_numpy(dtype=object)
        elif ACCOUNT_ID in accounts.columns:
            by_id = pd.Index(clean_text(pd.Series(labels.index.to_numpy(dtype=object))))
            ids = clean_text(accounts[ACCOUNT_ID].reset_index(drop=True))
            if not (by_id.is_unique and len(by_id) == len(ids) and by_id.isin(ids).all()):
                raise InputError(f"{what} is a Series whose index matches neither the accounts' index nor their "
                                 f"account ids (e.g. {show(labels.index, 3)}); pass {what}.to_numpy() to align "
                                 "by position")
            values = pd.Series(labels.to_numpy(dtype=object), index=by_id).reindex(ids.to_numpy()).to_numpy()
        else:
            values = labels.to_numpy(dtype=object)
    else:
        values = labels if isinstance(labels, np.ndarray) else np.asarray(labels, dtype=object)
    if values.ndim != 1 or len(values) != len(accounts):
        raise InputError(f"{what} has {len(values)} entries but accounts has {len(accounts)} rows; "
                         "pass one territory id per account row")
    return values


def fill_from_neighbours(labels, edges, missing=None) -> np.ndarray:
    """Give unlabelled nodes the most common label among their labelled neighbours, ring by ring.

    The one gap-filler of the package: blocks without accounts join a
    neighbouring territory (contiguous alignments, region grouping) and shapes
    without a territory take their neighbours' (static maps). Each round, every
    unlabelled node with a labelled neighbour takes the label most of them have
    (ties: the smallest label), so a gap deep inside a territory is reached too.
    Nodes with no labelled node at any distance stay unlabelled.

    Parameters
    ----------
    labels : numpy.ndarray
        One label per node (not changed).
    edges : array of shape (n_edges, 2)
        Node index pairs, each adjacency once (either direction).
    missing : bool array, optional
        Which nodes are unlabelled; default ``pandas.isna(labels)``.

    Returns
    -------
    numpy.ndarray
        A copy of ``labels`` with the gaps filled.

    Examples
    --------
    >>> fill_from_neighbours(np.array(["A", None, None, "B", "B"], dtype=object),
    ...                      np.array([[0, 1], [1, 2], [2, 3], [3, 4]])).tolist()
    ['A', 'A', 'B', 'B', 'B']
    """
    labels = np.array(labels, copy=True)
    missing = np.array(pd.isna(labels) if missing is None else missing, dtype=bool, copy=True)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    while missing.any():
        take = ~missing[src] & missing[dst]
        if not take.any():
            break
        votes = pd.DataFrame({"node": dst[take], "label": labels[src[take]]})
        winner = votes.groupby(["node", "label"]).size().reset_index(name="n")
        winner = winner.sort_values(["node", "n", "label"], ascending=[True, False, True]).drop_duplicates("node")
        nodes = winner["node"].to_numpy()
        labels[nodes] = winner["label"].to_numpy()
        missing[nodes] = False
    return labels
