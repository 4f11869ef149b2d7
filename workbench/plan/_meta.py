"""Plan metadata: a frozen record of who made a plan, how, from what, and its approval."""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np

DRAFT = "draft"
APPROVED = "approved"
STATUSES = (DRAFT, APPROVED)


def _plain(value):
    """JSON-ready plain Python value (numpy scalars, arrays, tuples, sets, mappings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _freeze(value):
    if isinstance(value, dict):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value):
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def canonical_json(value) -> str:
    """Deterministic JSON text: sorted keys, no spaces, NaN as null."""
    return json.dumps(_plain(_thaw(value)), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@dataclass(frozen=True)
class PlanMetadata:
    """Everything about a plan except its assignments and territories.

    Frozen: ``parameters`` and ``versions`` are read-only mappings (nested
    lists become tuples). Use :meth:`to_dict` for a plain, JSON-ready copy.

    Attributes
    ----------
    name : str
        Plan name, e.g. ``"current"`` or ``"balanced 40"``.
    created_at : str
        ISO 8601 UTC time, e.g. ``"2026-11-26T15:40:00Z"``.
    created_by : str or None
        Who (or which tool) made it.
    parent_hash : str or None
        Content hash of the plan this one was edited from.
    method : str or None
        How the assignments were made (``"balanced"``, ``"column"``, ``"file"``).
    parameters : mapping
        The method's parameters (JSON-ready values).
    input_hash : str
        Hash of the accounts data the plan was made from.
    versions : mapping
        Python and package versions at creation.
    status : {"draft", "approved"}
    approved_by, approved_at, approval_note : str or None
        Set by :func:`~workbench.plan.approve`.
    edit : str or None
        What the edit that made this plan from its parent did, e.g.
        ``"Moved 2 accounts from T03 to T07"`` (None for a plan made from data).
    report : mapping
        For a plan made by :meth:`Plan.from_fit`: the estimator's report
        (balance per metric, compactness, moved share, warnings; see
        :data:`workbench.plan._fit.REPORT_FIELDS`); empty otherwise.
    accepted_warnings : tuple of str
        The review warnings the approver acknowledged when approving (see
        :func:`workbench.signoff.review_plan`); empty for a draft or a plan approved without warnings.

    Examples
    --------
    >>> meta = PlanMetadata(name="q3", created_at="2026-11-26T15:40:00Z", parameters={"n": 3})
    >>> meta.parameters["n"], meta.status
    (3, 'draft')
    """

    name: str
    created_at: str
    created_by: str | None = None
    parent_hash: str | None = None
    method: str | None = None
    parameters: Mapping = field(default_factory=dict)
    input_hash: str = ""
    versions: Mapping = field(default_factory=dict)
    status: str = DRAFT
    approved_by: str | None = None
    approved_at: str | None = None
    approval_note: str | None = None
    edit: str | None = None
    report: Mapping = field(default_factory=dict)
    accepted_warnings: tuple = ()

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"plan name must be a str, got {type(self.name).__name__}")
        if self.status not in STATUSES:
            raise ValueError(f"plan status must be one of {STATUSES}, got {self.status!r}")
        if not isinstance(self.parameters, Mapping):
            raise TypeError(f"parameters must be a mapping (dict), got {type(self.parameters).__name__}")
        object.__setattr__(self, "parameters", _freeze(json.loads(canonical_json(self.parameters))))
        object.__setattr__(self, "versions", _freeze(json.loads(canonical_json(self.versions))))
        if not isinstance(self.report, Mapping):
            raise TypeError(f"report must be a mapping (dict), got {type(self.report).__name__}")
        object.__setattr__(self, "report", _freeze(json.loads(canonical_json(self.report))))
        if isinstance(self.accepted_warnings, str) or not all(isinstance(w, str) for w in self.accepted_warnings):
            raise TypeError(f"accepted_warnings must be a sequence of str, got {self.accepted_warnings!r}")
        object.__setattr__(self, "accepted_warnings", tuple(self.accepted_warnings))

    def to_dict(self) -> dict:
        """Plain, JSON-ready copy of every field."""
        return {f.name: _thaw(getattr(self, f.name)) for f in fields(self)}

    def replace(self, **changes) -> PlanMetadata:
        """A copy with some fields changed (the original is untouched)."""
        return replace(self, **changes)
