"""Realignment with a disruption budget: reach the tolerance moving as little workload as possible."""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from workbench.align import _balance
from workbench.align.balanced import current_setup, repair
from workbench.align.base import (
    N_CANDIDATES, Distance, TerritoryEstimator, balance_columns, check_accounts, check_tolerance, metric_shares,
    unit_centres,
)
from workbench.align.report import ToleranceWarning
from workbench.align.reps import rep_sites
from workbench.errors import InputError
from workbench.schema import CAPACITY_HOURS, CURRENT_TERRITORY, DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, TERRITORY_ID, WORKLOAD


#: Widest tolerance a disruption budget may widen to.
_WIDEST = 0.5


class Realignment(TerritoryEstimator):
    """Bring an existing alignment within tolerance while moving as little workload as possible.

    Starting from each account's current territory (ids are kept), it
    computes how much had to move at the least (per metric, the larger of
    the total excess above the upper bounds and the total deficit below the
    lower bounds), routes load from heavy to light territories with a
    minimum-cost flow between neighbouring territories, carries each flow
    out with the border accounts whose distance to the receiving centre
    grows least, and finishes with an exact repair over every metric.

    Parameters
    ----------
    balance_on : str or sequence of str, default ("workload",)
    tolerance : float, default 0.05
    current_col : str, default "current_territory"
    lock_col : str, optional
        Bool column; locked accounts stay in their current territory.
    locked_territories : list of str, optional
        Territories left untouched: none of their accounts move in or out.
    capacity_col : str, default "capacity_hours"
        With ``reps`` given to ``fit``: targets in proportion to it.
    distance : callable or array, optional
        Replaces the great-circle assignment cost (see
        :class:`~workbench.align.base.Distance`); a matrix needs ``reps``.
    n_candidates : int, default 12
    random_state : int, optional
        Unused (the method is deterministic); kept for a uniform interface.
    progress : bool, default False
    max_moved_share : float, optional
        Disruption budget: the most workload (as a share, 0.1 = 10%) the
        realignment may move. When reaching ``tolerance`` would move more, the
        tolerance is widened step by step until the moves fit the budget; the
        report and a :class:`ToleranceWarning` say which tolerance was kept.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"latitude": [40.0, 40.1, 40.2, 40.3], "longitude": [-100.0] * 4,
    ...                          "workload": [1.0, 1.0, 1.0, 1.0],
    ...                          "current_territory": ["A", "A", "A", "B"]})
    >>> model = Realignment().fit(accounts)
    >>> model.labels_.tolist(), model.report_.moved_accounts, round(model.report_.lower_bound_share, 3)
    (['A', 'A', 'B', 'B'], 1, 0.225)
    """

    _method = "realignment"

    def __init__(self, *, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE, current_col=CURRENT_TERRITORY,
                 lock_col=None, locked_territories=None, capacity_col=CAPACITY_HOURS, distance=None,
                 n_candidates=N_CANDIDATES, random_state=None, progress=False, max_moved_share=None):
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.current_col = current_col
        self.lock_col = lock_col
        self.locked_territories = locked_territories
        self.capacity_col = capacity_col
        self.distance = distance
        self.n_candidates = n_candidates
        self.random_state = random_state
        self.progress = progress
        self.max_moved_share = max_moved_share

    def fit(self, accounts, y=None, reps=None):
        """Realign ``accounts``; with ``reps`` the territories are the reps' (centres at their homes).

        With ``max_moved_share`` set, the tightest tolerance (from the one asked,
        widened by a quarter at a time up to 50%) whose realignment moves at most
        that share of the workload is kept, and the report says which.
        """
        if self.max_moved_share is None:
            return self._fit(accounts, reps, check_tolerance(self.tolerance))
        budget = self.max_moved_share
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget <= 1:
            raise InputError(f"max_moved_share must be a share in (0, 1] (0.1 = 10% of the workload), got {budget!r}")
        asked = check_tolerance(self.tolerance)
        tolerance, tried = asked, []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ToleranceWarning)
            while True:
                self._fit(accounts, reps, tolerance)
                tried.append(f"{tolerance:.1%}: {self.report_.moved_share:.1%} moved")
                if self.report_.moved_share <= budget + 1e-12 or tolerance >= _WIDEST:
                    break
                tolerance = min(tolerance * 1.25, _WIDEST)
        notes = list(self.report_.warnings)
        if self.report_.moved_share > budget + 1e-12:
            notes.append(f"disruption budget {budget:.1%} of workload cannot be kept: even at tolerance "
                         f"{tolerance:.1%} the realignment moves {self.report_.moved_share:.1%} "
                         f"(tried {'; '.join(tried)}); raise the budget or lock fewer accounts")
        elif tolerance > asked:
            notes.append(f"disruption budget {budget:.1%} of workload: kept tolerance {tolerance:.1%} "
                         f"(asked {asked:.1%}; tried {'; '.join(tried)})")
        for note in notes:
            warnings.warn(note, ToleranceWarning, stacklevel=2)
        self.report_ = replace(self.report_, warnings=tuple(notes))
        return self

    def _fit(self, accounts, reps, tolerance):
        start = time.perf_counter()
        balance_on = balance_columns(self.balance_on)
        check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        shares = metric_shares(accounts, balance_on)
        weight = shares.mean(axis=1)
        dist = Distance(self.distance, accounts[LATITUDE], accounts[LONGITUDE])
        if reps is not None:
            rep_ids, centres, targets = rep_sites(reps, self.capacity_col)
            rep_ids = _site_ids(reps, rep_ids, accounts[self.current_col])
            ids, current, fixed, frozen = current_setup(accounts, self.current_col, self.lock_col,
                                                        self.locked_territories, ids=rep_ids)
        else:
            if dist.kind == "matrix":
                raise InputError("a precomputed distance matrix needs fixed sites: pass reps= to fit")
            ids, current, fixed, frozen = current_setup(accounts, self.current_col, self.lock_col,
                                                        self.locked_territories)
            centres = unit_centres(dist.xyz, current, weight, len(ids))
            targets = np.full(len(ids), 1.0 / len(ids))
        n_t = len(ids)
        _, low, high = _balance.bounds(targets, shares.shape[1], tolerance)
        bound = float(_balance.lower_bound_share(_balance.loads_of(current, shares, n_t), low, high)[0])
        cand, cost = dist.candidates(centres, self.n_candidates, allowed=~frozen)

        def own_cost(rows, territories):
            return dist.cost(rows, territories, centres)

        labels, rounds, within = repair(current, shares, targets, tolerance, cand, cost, own_cost, fixed, frozen,
                                        aim=0.9, flow_first=True)
        if reps is None:
            centres = unit_centres(dist.xyz, labels, weight, n_t, previous=centres)
        return self._set_results(
            accounts, labels, ids, centres, balance_on=balance_on, tolerance=tolerance,
            targets=None if reps is None else targets, current=np.asarray(ids, dtype=object)[current],
            lower_bound_share=bound, n_iter=rounds, converged=within, seconds=time.perf_counter() - start,
            distance=self.distance)


def _site_ids(reps, rep_ids, current):
    """Ids of the reps' territories: the current ids a reps table maps them to, else the rep ids.

    A reps file usually says which territory each rep serves (``territory_id``);
    when the current alignment uses those territory ids, the realignment keeps
    them and anchors each territory at its rep's home.
    """
    if TERRITORY_ID not in reps.columns:
        return rep_ids
    served = reps[TERRITORY_ID].astype("string").to_numpy(dtype=object)
    named = set(pd.Series(current).dropna().astype(str))
    if named <= set(rep_ids) or pd.isna(served).any() or len(set(served)) != len(served) or not named <= set(served):
        return rep_ids
    return np.asarray(served, dtype=object).astype(str)
