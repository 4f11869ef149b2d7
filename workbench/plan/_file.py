"""Plans from an assignments file (``account_id,territory_id``), validated against the accounts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.io.assignments import read_assignments
from workbench.plan._frames import plan_accounts
from workbench.plan._model import Plan


def plan_from_assignments(accounts: pd.DataFrame, source, *, name: str | None = None, reps=None,
                          created_by: str | None = None, what: str = "the accounts") -> Plan:
    """A draft plan from an assignments file or frame (see :func:`workbench.io.read_assignments`).

    The method is ``"file"`` and the parameters record the file name.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b"]})
    >>> rows = pd.DataFrame({"account_id": ["b", "a"], "territory_id": ["T2", "T1"]})
    >>> plan_from_assignments(accounts, rows).assignments.to_dict()
    {'a': 'T1', 'b': 'T2'}
    """
    frame = plan_accounts(accounts, what)
    labels = read_assignments(source, frame, what=what)
    label = Path(source).name if isinstance(source, (str, Path)) else "frame"
    return Plan.from_labels(frame, labels.to_numpy(dtype=object), method="file", parameters={"source": label},
                            name=name or Path(label).stem, reps=reps, created_by=created_by)
