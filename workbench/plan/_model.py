"""The :class:`Plan` value object: who covers which account, and the record of how it came to be."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.errors import InputError, PlanError
from workbench.plan import _frames, _views
from workbench.labels import clean_text, labels_for_rows, show
from workbench.plan._frames import check_ids
from workbench.plan._hash import content_hash as _content_hash
from workbench.plan._hash import input_hash as _input_hash
from workbench.plan._hash import record_hash as _record_hash
from workbench.plan._edits import PlanEdits
from workbench.plan._meta import APPROVED, PlanMetadata
from workbench.provenance import package_versions, utc_now
from workbench.schema import ACCOUNT_ID, CURRENT_TERRITORY, TERRITORY_ID


@dataclass(frozen=True, eq=False, repr=False)
class Plan(PlanEdits):
    """An alignment: which territory covers each account, the territories, and how the plan was made.

    A plan is an immutable value. Every edit (:meth:`reassign`, :meth:`lock`,
    :meth:`merge_territories`, ...) returns a new draft plan whose
    :attr:`parent` is the plan it was made from, so undo is ``plan.parent``
    and :meth:`history` lists the chain. Frames handed out are copies: changing
    them never changes the plan. Build plans with :meth:`from_labels` or
    :meth:`from_column`, not with the constructor.

    Attributes
    ----------
    metadata : PlanMetadata
        Name, creation, method and parameters, input hash, versions, status and approval.
    content_hash : str
        SHA-256 of the assignments, locks, territories, input hash and the
        defining metadata (see :mod:`workbench.plan._hash`). Approval leaves it unchanged.
    record_hash : str
        SHA-256 of the content hash and every other metadata field.

    Two plans are equal (``==``) when their record hashes are: same content
    *and* same metadata (creation time included). To ask "same alignment?",
    compare ``content_hash``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a1", "a2", "a3"], "workload": [1.0, 2.0, 3.0],
    ...                          "current_territory": ["T1", "T1", "T2"]})
    >>> plan = Plan.from_column(accounts)
    >>> plan.assignments.to_dict()
    {'a1': 'T1', 'a2': 'T1', 'a3': 'T2'}
    >>> edited = plan.reassign(["a2"], "T2")
    >>> edited.assignments.to_dict(), edited.parent is plan, edited.metadata.edit
    ({'a1': 'T1', 'a2': 'T2', 'a3': 'T2'}, True, 'Moved 1 account from T1 to T2')
    """

    _accounts: pd.DataFrame
    _assignments: pd.Series
    _territories: pd.DataFrame
    _locked: frozenset
    metadata: PlanMetadata
    _parent: Plan | None = None
    content_hash: str = field(init=False)
    record_hash: str = field(init=False)

    def __post_init__(self):
        ids = self._accounts[ACCOUNT_ID]
        if not self._assignments.index.equals(pd.Index(ids)):
            raise PlanError("internal: plan assignments are not indexed by the accounts' ids in order")
        unknown = set(self._assignments.dropna().unique()) - set(self._territories.index)
        if unknown:
            raise PlanError(f"internal: territories {show(sorted(unknown))} are assigned but have no row")
        content = _content_hash(self._assignments, self._locked, self._territories, self.metadata)
        object.__setattr__(self, "content_hash", content)
        object.__setattr__(self, "record_hash", _record_hash(content, self.metadata))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_labels(cls, accounts: pd.DataFrame, labels, *, method: str = "balanced", parameters=None,
                    name: str | None = None, reps: pd.DataFrame | None = None, created_by: str | None = None,
                    locked: Iterable[str] = (), _report=None) -> Plan:
        """Make a draft plan from one territory label per account row.

        Parameters
        ----------
        accounts : pandas.DataFrame
            Accounts with standard columns (``account_id`` unique).
        labels : array-like or pandas.Series
            Territory id of each row (a Series indexed like ``accounts`` is
            aligned by index). Missing, NaN or empty labels leave the account
            unassigned: it stays in the plan and is counted as unassigned.
        method : str, default "balanced"
            How the labels were made (recorded in the metadata).
        parameters : dict, optional
            The method's parameters (recorded; must be JSON-ready or numpy scalars).
        name : str, optional
            Plan name; default the method.
        reps : pandas.DataFrame, optional
            Reps (``rep_id``, ``name``, ``latitude``, ``longitude``,
            ``territory_id``, optional ``capacity_hours``): sets each territory's
            rep and the rep's home. Without ``territory_id``, rep ids that are
            territory ids are matched to those.
        created_by : str, optional
        locked : iterable of str, optional
            Account ids locked to their territory.

        Returns
        -------
        Plan

        Examples
        --------
        >>> accounts = pd.DataFrame({"account_id": [1, 2, 3]})
        >>> plan = Plan.from_labels(accounts, ["T2", "T1", None], method="manual", parameters={"k": 2})
        >>> plan.assignments.tolist(), list(plan.territories.index), list(plan.unassigned)
        (['T2', 'T1', nan], ['T1', 'T2'], ['3'])
        """
        frame = _frames.plan_accounts(accounts)
        values = labels_for_rows(labels, accounts)
        assignments = clean_text(pd.Series(values)).set_axis(pd.Index(frame[ACCOUNT_ID], name=ACCOUNT_ID))
        assignments.name = TERRITORY_ID
        distinct = pd.unique(pd.Series(values, dtype=object).where(pd.notna(values), None).to_numpy())
        _frames.check_spellings(clean_text(pd.Series(distinct, dtype=object)), "labels", "territory", raw=distinct)
        territories = _frames.territories_from_labels(assignments.dropna().unique(), reps)
        locked = check_ids(frame, locked, "locked")
        metadata = PlanMetadata(
            name=name if name is not None else str(method), created_at=utc_now(), created_by=created_by,
            method=method, parameters=dict(parameters or {}), input_hash=_input_hash(frame),
            versions=package_versions(), **({"report": _report} if _report else {}))
        return cls(frame, assignments, territories, frozenset(locked), metadata)

    @classmethod
    def from_fit(cls, model, accounts: pd.DataFrame, *, labels=None, method: str | None = None,
                 name: str | None = None, reps: pd.DataFrame | None = None, created_by: str | None = None,
                 locked: Iterable[str] = (), inputs: dict | None = None) -> Plan:
        """Make a draft plan from a fitted alignment estimator: the one handoff from a fit to a plan.

        The plan records the estimator's parameters under the estimator's own
        names (``get_params()``: ``n_territories``, ``balance_on``,
        ``tolerance``, ``random_state``...; a callable or an array is recorded by
        its name or shape) and a summary of its ``report_`` (see
        :attr:`PlanMetadata.report`), so export, compare and the map view read
        back exactly what the estimator was given (:attr:`balance_on`,
        :attr:`tolerance`).

        Parameters
        ----------
        model : fitted estimator
            Any :mod:`workbench.align` estimator after ``fit`` (``labels_``, one
            territory per account row, and ``report_``).
        accounts : pandas.DataFrame
            The accounts the model was fitted on (standard columns, ``account_id``).
        labels : array-like, optional
            New names for the model's territories, one per account row (e.g.
            from :func:`workbench.align.match_territory_ids`). They must group the
            accounts exactly as ``model.labels_`` does; default ``model.labels_``.
        method : str, optional
            Default the report's method (``"balanced"``, ``"contiguous"``...).
        name : str, optional
            Plan name; default the method.
        reps, created_by, locked
            As for :meth:`from_labels`.
        inputs : dict, optional
            Where the inputs came from and options outside the estimator (e.g.
            ``{"accounts": "accounts.csv", "regions": 5}``); recorded under ``parameters["inputs"]``.

        Returns
        -------
        Plan

        Raises
        ------
        InputError
            The model is not fitted, was fitted on other accounts, or ``labels``
            do more than rename its territories.

        Examples
        --------
        >>> from workbench.align import BalancedTerritories
        >>> accounts = pd.DataFrame({"account_id": list("abcd"), "latitude": [0.0, 0.0, 1.0, 1.0],
        ...                          "longitude": [0.0, 0.1, 0.0, 0.1], "visits": [1.0, 1.0, 1.0, 1.0]})
        >>> model = BalancedTerritories(2, balance_on=["visits"], random_state=0).fit(accounts)
        >>> plan = Plan.from_fit(model, accounts)
        >>> plan.metadata.method, plan.balance_on, plan.tolerance, plan.metadata.parameters["n_territories"]
        ('balanced', ('visits',), 0.05, 2)
        >>> plan.metadata.report["within_tolerance"]
        True
        """
        from workbench.plan._fit import fitted_labels, recordable, recorded_parameters, recorded_report

        values = fitted_labels(model, accounts, labels)
        parameters = recorded_parameters(model)
        if inputs:
            parameters["inputs"] = {str(k): recordable(v) for k, v in inputs.items()}
        report = recorded_report(getattr(model, "report_", None))
        method = method or report.get("method") or type(model).__name__
        # The report goes in at once: the plan is built (and hashed) once, not a second time to add it.
        return cls.from_labels(accounts, values, method=method, parameters=parameters, name=name, reps=reps,
                               created_by=created_by, locked=locked, _report=report)

    @classmethod
    def from_column(cls, accounts: pd.DataFrame, column: str = CURRENT_TERRITORY, name: str = "current",
                    reps: pd.DataFrame | None = None, created_by: str | None = None) -> Plan:
        """Make a draft plan from a territory column of the accounts (e.g. the current alignment).

        Examples
        --------
        >>> accounts = pd.DataFrame({"account_id": ["a", "b"], "current_territory": ["T1", " "]})
        >>> plan = Plan.from_column(accounts)
        >>> plan.metadata.method, plan.metadata.parameters["column"], list(plan.unassigned)
        ('column', 'current_territory', ['b'])
        """
        if not isinstance(accounts, pd.DataFrame):
            raise TypeError(f"accounts must be a pandas DataFrame, got {type(accounts).__name__}")
        if column not in accounts.columns:
            raise InputError(f"accounts have no territory column {column!r} (columns: {list(accounts.columns)}); "
                             "pass column= naming the column that holds each account's territory")
        return cls.from_labels(accounts, accounts[column].to_numpy(), method="column",
                               parameters={"column": column}, name=name, reps=reps, created_by=created_by)

    # ------------------------------------------------------------------ read-only views
    @property
    def accounts(self) -> pd.DataFrame:
        """The accounts (a copy; RangeIndex, standard columns)."""
        return self._accounts.copy(deep=False)

    @property
    def assignments(self) -> pd.Series:
        """Territory id per account (index ``account_id``, name ``territory_id``, NaN if unassigned)."""
        return self._assignments.copy(deep=False)

    @property
    def labels(self) -> np.ndarray:
        """Territory id of each row of :attr:`accounts` (read-only array, NaN if unassigned)."""
        values = self._assignments.to_numpy(dtype=object, na_value=np.nan)
        values.flags.writeable = False
        return values

    @property
    def territories(self) -> pd.DataFrame:
        """Territories (a copy): index ``territory_id``; territory_name, rep_id, rep_name,
        rep_latitude, rep_longitude, capacity_hours, region, area."""
        return self._territories.copy(deep=False)

    @property
    def locked_accounts(self) -> frozenset:
        """Ids of the accounts locked to their territory."""
        return self._locked

    @property
    def unassigned(self) -> pd.Index:
        """Ids of the accounts without a territory."""
        return self._assignments.index[self._assignments.isna().to_numpy()]

    @property
    def balance_on(self) -> tuple[str, ...]:
        """Metric columns the plan was balanced on (its ``balance_on`` parameter; empty if none was recorded).

        Examples
        --------
        >>> accounts = pd.DataFrame({"account_id": ["a"]})
        >>> Plan.from_labels(accounts, ["T1"], parameters={"balance_on": "visits"}).balance_on
        ('visits',)
        """
        value = self.metadata.parameters.get("balance_on")
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(str(v) for v in value)

    @property
    def tolerance(self) -> float | None:
        """Balance tolerance the plan was made with (its ``tolerance`` parameter), or None if none was recorded."""
        value = self.metadata.parameters.get("tolerance")
        return None if value is None or isinstance(value, bool) else float(value)

    @property
    def parent(self) -> Plan | None:
        """The plan this one was edited from (None for a plan made from data or loaded from disk)."""
        return self._parent

    @property
    def is_approved(self) -> bool:
        """True when the plan has been approved (see :func:`workbench.plan.approve`)."""
        return self.metadata.status == APPROVED

    @property
    def name(self) -> str:
        """The plan's name."""
        return self.metadata.name

    def labels_for(self, accounts: pd.DataFrame, missing: str = "raise") -> np.ndarray:
        """Territory of each row of another accounts frame, matched by ``account_id``.

        Parameters
        ----------
        accounts : pandas.DataFrame
            Frame with an ``account_id`` column (any order, any subset).
        missing : {"raise", "nan"}
            What to do with ids the plan does not hold.

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"])
        >>> plan.labels_for(pd.DataFrame({"account_id": ["b", "a"]})).tolist()
        ['T2', 'T1']
        """
        if not isinstance(accounts, pd.DataFrame) or ACCOUNT_ID not in accounts.columns:
            raise InputError("labels_for needs a DataFrame with an 'account_id' column")
        ids = clean_text(accounts[ACCOUNT_ID])
        known = ids.isin(self._assignments.index).to_numpy()
        if missing == "raise" and not known.all():
            raise InputError(f"accounts {show(ids[~known])} are not in plan {self.name!r}; "
                             "pass missing='nan' to leave them unassigned")
        if missing not in ("raise", "nan"):
            raise ValueError(f"missing must be 'raise' or 'nan', got {missing!r}")
        return self._assignments.reindex(ids.to_numpy()).to_numpy(dtype=object, na_value=np.nan)

    # ------------------------------------------------------------------ history
    def history(self) -> tuple[Plan, ...]:
        """The chain of plans from the oldest known ancestor to this one.

        A plan loaded from disk starts a new chain (its ``metadata.parent_hash``
        still names its parent).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"])
        >>> edited = plan.reassign(["a"], "T2").lock(["b"])
        >>> [p.metadata.edit for p in edited.history()]
        [None, 'Moved 1 account from T1 to T2', 'Locked 1 account in their territory']
        >>> edited.parent.parent is plan
        True
        """
        chain, plan = [], self
        while plan is not None:
            chain.append(plan)
            plan = plan._parent
        return tuple(reversed(chain))

    def history_table(self) -> pd.DataFrame:
        """One row per plan of :meth:`history`: name, status, edit, created_at, content and parent hash."""
        rows = [{"name": p.name, "status": p.metadata.status, "edit": p.metadata.edit,
                 "created_at": p.metadata.created_at, "content_hash": p.content_hash,
                 "parent_hash": p.metadata.parent_hash} for p in self.history()]
        return pd.DataFrame(rows).rename_axis("step")

    # ------------------------------------------------------------------ value semantics
    def __eq__(self, other):
        if not isinstance(other, Plan):
            return NotImplemented
        return self.record_hash == other.record_hash

    def __hash__(self):
        return hash(self.record_hash)

    def to_frame(self) -> pd.DataFrame:
        """One row per account: the accounts' columns, ``territory_id``, the territory's name, rep, region and
        area, and ``locked``.

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"], "workload": [1.0, 2.0]}), ["T1", None])
        >>> plan.to_frame()[["account_id", "territory_id", "locked"]].to_dict("list")
        {'account_id': ['a', 'b'], 'territory_id': ['T1', nan], 'locked': [False, False]}
        """
        return _views.plan_frame(self)

    def to_geodataframe(self, blocks=None, block_col: str | None = None):
        """One row per territory with its polygon (EPSG:4326), attributes and totals.

        Polygons dissolve ``blocks`` (with ``block_col``, the accounts' block
        column); by default the bundled counties when the accounts have
        ``county_fips``, else cells around the accounts. A block goes to the
        territory holding most of its accounts, so a territory left without a
        block keeps its row with no polygon. Columns: the :attr:`territories`
        attributes, ``accounts``, each balance metric (or workload) and its
        deviation from the mean (a share).
        """
        return _views.plan_geodataframe(self, blocks=blocks, block_col=block_col)

    def _repr_html_(self) -> str:
        """Notebook summary: name, status, method, hash, counts, worst deviation and the first territories."""
        return _views.plan_html(self)

    def __repr__(self):
        return (f"<Plan {self.name!r} {self.metadata.status}: {len(self._assignments)} accounts, "
                f"{len(self._territories)} territories, {len(self.unassigned)} unassigned, "
                f"hash {self.content_hash[:12]}>")
