"""The disruption frontier: how much balance and compactness each amount of movement buys.

:func:`realignment_frontier` runs :class:`~workbench.align.realign.Realignment`
along one axis — tolerances, move penalties or disruption budgets — and
returns one row per run, so an analyst can pick the trade-off (notebook 02
plots moved share against balance, compactness as colour) and then realign
with the chosen setting.
"""

from __future__ import annotations

import warnings

import pandas as pd

from workbench.align.realign import Realignment
from workbench.align.report import ToleranceWarning
from workbench.errors import InputError
from workbench.progress import steps

#: Tolerances tried when no axis is given.
DEFAULT_TOLERANCES = (0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)


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
    axes = {name: values for name, values in (("tolerance", tolerances), ("move_penalty_km", move_penalties_km),
                                              ("max_moved_share", max_moved_shares)) if values is not None}
    if len(axes) > 1:
        raise InputError(f"give one axis of the frontier, not {sorted(axes)}: tolerances=, move_penalties_km= "
                         "or max_moved_shares=")
    name, values = next(iter(axes.items())) if axes else ("tolerance", DEFAULT_TOLERANCES)
    values = list(values)
    if not values:
        raise InputError(f"the frontier needs at least one {name} to try")
    param = {"tolerance": "tolerance", "move_penalty_km": "move_penalty_km", "max_moved_share": "max_moved_share"}
    rows = []
    labels = [f"{name.replace('_', ' ')} {value:g}" for value in values]
    with steps(labels, desc="realignment frontier", enabled=progress) as bar:
        for value in values:
            rows.append(_run(accounts, reps, {**params, param[name]: value}))
            bar.step()
    return pd.DataFrame(rows)


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
