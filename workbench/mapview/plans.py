"""Plans in and out of the comparison map: the two alignments it compares, and the edited plan back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.labels import accounts_of, labels_for_rows
from workbench.schema import ACCOUNT_ID, METRICS


@dataclass(frozen=True)
class Alignments:
    """What the map compares: the accounts, one current and one proposed territory per row, the metrics."""

    accounts: pd.DataFrame
    account_ids: np.ndarray
    current_plan: object
    proposed_plan: object
    current_labels: np.ndarray
    proposed_labels: np.ndarray
    metrics: list


def read_alignments(current, proposed, *, accounts=None, metrics=None) -> Alignments:
    """Check and line up the current and proposed alignments on one accounts frame.

    Parameters
    ----------
    current, proposed : Plan or array-like
        Plans, Series indexed by account id, or one territory id per account row.
    accounts : pandas.DataFrame, optional
        Default ``proposed.accounts``; needed with plain labels.
    metrics : sequence of str, optional
        Default the proposed plan's ``balance_on``, then workload, revenue, potential when present.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b"], "workload": [1.0, 2.0]})
    >>> read_alignments(["T1", "T1"], ["T1", "T2"], accounts=accounts).metrics
    ['workload']
    """
    accounts = accounts_of(proposed, accounts)
    account_ids = accounts[ACCOUNT_ID].astype(str).to_numpy()
    current_plan = current if hasattr(current, "assignments") else None
    proposed_plan = proposed if hasattr(proposed, "assignments") else None
    current_labels = labels_for_rows(current, accounts, what="current")
    proposed_labels = labels_for_rows(proposed, accounts, what="proposed")
    for what, values in (("current", current_labels), ("proposed", proposed_labels)):
        missing = pd.isna(values)
        if missing.any():
            raise InputError(f"{what} plan leaves accounts {account_ids[missing][:5].tolist()} unassigned; "
                             "assign every account before comparing on the map")
    if metrics is None:  # what the proposal was balanced on first, then the usual metrics present
        balanced = tuple(getattr(proposed_plan, "balance_on", ()))
        metrics = [m for m in dict.fromkeys([*balanced, *METRICS]) if m in accounts]
    metrics = list(metrics)
    absent = [m for m in metrics if m not in accounts.columns]
    if absent:
        raise InputError(f"metric columns {absent} are not in the accounts (columns: {list(accounts.columns)})")
    return Alignments(accounts, account_ids, current_plan, proposed_plan, current_labels, proposed_labels, metrics)


def edited_plan(proposed_plan, accounts: pd.DataFrame, account_ids: np.ndarray, labels: np.ndarray,
                locked: np.ndarray, describe=None):
    """The edited alignment as a :class:`workbench.plan.Plan`.

    From a proposed Plan, the edits are applied as reassignments (one per
    target territory) and lock changes, so the result's parent chain leads
    back to it. From plain labels (``proposed_plan`` None), a new draft plan is made.
    ``describe(rows)`` names what moved (e.g. ``"Jackson, MO"``) for the plan's history.
    """
    from workbench.plan import Plan

    locked_ids = set(account_ids[locked])
    if proposed_plan is None:
        return Plan.from_labels(accounts, labels, method="manual edit", name="edited", locked=sorted(locked_ids))
    plan = proposed_plan
    before = pd.Series(plan.labels_for(accounts), index=account_ids).astype(str).to_numpy()
    was_locked = set(map(str, plan.locked_accounts))
    if was_locked - locked_ids:
        plan = plan.unlock(sorted(was_locked - locked_ids))
    changed = before != labels.astype(str)
    for territory in pd.unique(labels[changed]):
        rows = np.flatnonzero(changed & (labels == territory))
        plan = plan.reassign(account_ids[rows].tolist(), str(territory),
                             what=describe(rows) if describe is not None else None)
    if locked_ids - was_locked:
        plan = plan.lock(sorted(locked_ids - was_locked))
    return plan
