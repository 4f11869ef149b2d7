"""The disruption frontier: how much balance and compactness each amount of movement buys.

:func:`realignment_frontier` runs :class:`~workbench.align.realign.Realignment`
along one axis — tolerances, move penalties or disruption budgets — and
returns one row per run, so an analyst can pick the trade-off (notebook 02
plots moved share against balance, compactness as colour) and then realign
with the chosen setting. :func:`frontier_table` formats that table for people.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import pandas as pd

from workbench.align import _transfer
from workbench.align.realign import Realignment
from workbench.align.report import ToleranceWarning
from workbench.checks import check_tolerance
from workbench.errors import InputError
from workbench.progress import steps

#: Tolerances tried when no axis is given.
DEFAULT_TOLERANCES = (0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)

#: Each axis: the keyword of :func:`realignment_frontier`, the :class:`Realignment` parameter it sets, and the check
#: of one value (raising InputError with the value and the fix).
AXES = {
    "tolerance": ("tolerances", lambda v, where: check_tolerance(v, name=where, cli="")),
    "move_penalty_km": ("move_penalties_km", lambda v, where: _checked(_transfer.check_penalty, v, where)),
    "max_moved_share": ("max_moved_shares", lambda v, where: _checked(_transfer.check_budget, v, where)),
}


def realignment_frontier(accounts, *, tolerances=None, move_penalties_km=None, max_moved_shares=None, reps=None,
                         progress=None, **params) -> pd.DataFrame:
    """Realign ``accounts`` once per setting along one axis; return the trade-off table.

    Parameters
    ----------
    accounts : pandas.DataFrame
        As for :meth:`Realignment.fit` (with the current territory column).
    tolerances : sequence of float, optional
        Tolerances to try (the default axis: 2% to 20%).
    move_penalties_km : sequence of float, optional
        Move penalties to try, at the tolerance in ``params`` (default 5%).
    max_moved_shares : sequence of float, optional
        Disruption budgets to try: each row is the best balance that budget buys.
    reps : pandas.DataFrame, optional
        Passed to ``fit``.
    progress : bool, optional
        A bar over the runs; default :func:`workbench.progress.enabled` (on in
        notebooks, on a terminal; off in scripts and tests).
    **params
        Other :class:`Realignment` parameters (``balance_on``, ``current_col``...).

    Returns
    -------
    pandas.DataFrame
        One row per run: ``tolerance``, ``move_penalty_km``, ``max_moved_share``,
        ``max_deviation_<metric>`` per balanced metric, ``within_tolerance``,
        ``moved_share``, ``moved_accounts``, ``compactness_km``,
        ``lower_bound_share``, ``bordering_lower_bound_share``, ``seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> accounts = pd.DataFrame({"latitude": 40.0 + 0.1 * np.arange(10), "longitude": -100.0, "workload": 1.0,
    ...                          "current_territory": ["A"] * 8 + ["B"] * 2})
    >>> table = realignment_frontier(accounts, max_moved_shares=[0.1, 0.2, 0.3])
    >>> table[["max_moved_share", "moved_share", "max_deviation_workload"]].round(2).values.tolist()
    [[0.1, 0.1, 0.4], [0.2, 0.2, 0.2], [0.3, 0.3, 0.0]]
    """
    given = {"tolerance": tolerances, "move_penalty_km": move_penalties_km, "max_moved_share": max_moved_shares}
    axes = {name: values for name, values in given.items() if values is not None}
    if len(axes) > 1:
        raise InputError(f"give one axis of the frontier, not {', '.join(AXES[n][0] + '=' for n in axes)}: "
                         "tolerances=, move_penalties_km= or max_moved_shares=")
    name, values = next(iter(axes.items())) if axes else ("tolerance", DEFAULT_TOLERANCES)
    values = _axis_values(name, values)
    _check_params(name, params)
    rows = []
    labels = [f"{name.replace('_', ' ')} {value:g}" for value in values]
    with steps(labels, desc="realignment frontier", enabled=progress) as bar:
        for value in values:
            rows.append(_run(accounts, reps, {**params, name: value}))
            bar.step()
    return pd.DataFrame(rows)


def frontier_table(frontier: pd.DataFrame, *, max_moved_share: float | None = None) -> pd.DataFrame:
    """The frontier of :func:`realignment_frontier` for people: percentages, km, counts with separators.

    One row per run, columns: the setting varied (``tolerance``, ``move
    penalty`` or ``budget``), ``max deviation (<metric>)`` per balanced
    metric, ``within tolerance``, ``moved``, ``accounts moved``, ``floor
    (bordering)``, ``moved / floor``, ``compactness``; with
    ``max_moved_share``, ``within budget`` too.

    Examples
    --------
    >>> frontier = pd.DataFrame({"tolerance": [0.05, 0.1], "move_penalty_km": [120.0, 120.0],
    ...                          "max_moved_share": [None, None], "max_deviation_workload": [0.0499, 0.0731],
    ...                          "within_tolerance": [True, True], "moved_share": [0.081, 0.0423],
    ...                          "moved_accounts": [1234, 640], "compactness_km": [143.26, 141.9],
    ...                          "lower_bound_share": [0.06, 0.03], "bordering_lower_bound_share": [0.075, 0.04],
    ...                          "seconds": [1.0, 1.0]})
    >>> frontier_table(frontier, max_moved_share=0.05).iloc[0].tolist()
    ['±5.0%', '5.0%', 'yes', '8.1%', '1,234', '7.5%', '1.08x', '143.3 km', 'no']
    """
    if not isinstance(frontier, pd.DataFrame) or "moved_share" not in frontier.columns:
        raise InputError("frontier_table takes the DataFrame realignment_frontier returns (it has no moved_share "
                         f"column: got {type(frontier).__name__})")
    percent = "{:.1%}".format
    table = pd.DataFrame(index=frontier.index)
    if frontier["max_moved_share"].notna().any():
        table["budget"] = frontier["max_moved_share"].map(percent)
    elif frontier["move_penalty_km"].nunique() > 1:
        table["move penalty"] = frontier["move_penalty_km"].map("{:,.1f} km".format)
    else:
        table["tolerance"] = frontier["tolerance"].map("±{:.1%}".format)
    for column in [c for c in frontier.columns if c.startswith("max_deviation_")]:
        table[f"max deviation ({column[len('max_deviation_'):]})"] = frontier[column].map(percent)
    table["within tolerance"] = frontier["within_tolerance"].map({True: "yes", False: "no"})
    table["moved"] = frontier["moved_share"].map(percent)
    table["accounts moved"] = frontier["moved_accounts"].map("{:,}".format)
    floor = frontier["bordering_lower_bound_share"]
    table["floor (bordering)"] = floor.map(percent)
    ratio = frontier["moved_share"] / floor.where(floor > 0)
    table["moved / floor"] = ratio.map(lambda r: "-" if pd.isna(r) else f"{r:.2f}x")
    table["compactness"] = frontier["compactness_km"].map("{:,.1f} km".format)
    if max_moved_share is not None:
        budget = _checked(_transfer.check_budget, max_moved_share, "max_moved_share")
        table["within budget"] = (frontier["moved_share"] <= budget + 1e-12).map({True: "yes", False: "no"})
    return table


def _checked(check, value, where):
    """``check(value)`` with its message naming ``where`` (e.g. ``max_moved_shares[2]``) instead of the parameter."""
    try:
        return check(value)
    except InputError as exc:  # "max_moved_share (CLI: --max-moved) must be ..." -> "max_moved_shares[2] must be ..."
        rest = str(exc).split(" must ", 1)
        raise InputError(f"{where} must {rest[1]}" if len(rest) == 2 else f"{where}: {exc}") from None


def _axis_values(name, values) -> list[float]:
    """The values of axis ``name`` as floats, each checked before any run (InputError naming the bad one)."""
    keyword, check = AXES[name]
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InputError(f"{keyword} must be a list of values to try, e.g. {keyword}=[{_example(name)}], "
                         f"got {values!r}")
    values = list(values)
    if not values:
        raise InputError(f"{keyword} is empty: the frontier needs at least one {name.replace('_', ' ')} to try")
    return [float(check(value, f"{keyword}[{i}]")) for i, value in enumerate(values)]


def _example(name) -> str:
    return {"tolerance": "0.05, 0.1", "move_penalty_km": "0, 50, 200", "max_moved_share": "0.05, 0.1"}[name]


def _check_params(name, params) -> None:
    """The other Realignment parameters: known ones, and not the one the axis varies."""
    if name in params:
        raise InputError(f"{name}= is the axis of this frontier (its values come from {AXES[name][0]}=); "
                         f"drop {name}=")
    known = set(Realignment().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise InputError(f"realignment_frontier got unknown Realignment parameters {unknown}; known: "
                         f"{', '.join(sorted(known))}")


def _run(accounts, reps, params) -> dict:
    """One realignment of the frontier, as a row."""
    model = Realignment(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToleranceWarning)
        model.fit(accounts, reps=reps)
    report = model.report_
    row = {"tolerance": model.tolerance, "move_penalty_km": model.move_penalty_km_,
           "max_moved_share": model.max_moved_share}
    row.update({f"max_deviation_{metric}": value for metric, value in report.max_deviation.items()})
    row.update(within_tolerance=report.within_tolerance, moved_share=report.moved_share,
               moved_accounts=report.moved_accounts, compactness_km=report.compactness_km,
               lower_bound_share=report.lower_bound_share,
               bordering_lower_bound_share=report.bordering_lower_bound_share, seconds=report.seconds)
    return row
