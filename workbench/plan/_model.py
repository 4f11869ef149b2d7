"""The :class:`Plan` value object: who covers which account, and the record of how it came to be."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.errors import InputError, PlanError
from workbench.plan import _frames, _views
from workbench.labels import clean_text, labels_for_rows, show
from workbench.plan._frames import as_list, check_ids
from workbench.plan._hash import content_hash as _content_hash
from workbench.plan._hash import input_hash as _input_hash
from workbench.plan._hash import record_hash as _record_hash
from workbench.plan._meta import APPROVED, DRAFT, PlanMetadata
from workbench.provenance import package_versions, utc_now
from workbench.schema import ACCOUNT_ID, AREA, COUNTY_FIPS, CURRENT_TERRITORY, REGION, TERRITORY_ID, TERRITORY_NAME


@dataclass(frozen=True, eq=False, repr=False)
class Plan:
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
    ({'a1': 'T1', 'a2': 'T2', 'a3': 'T2'}, True, "reassign 1 account(s) to 'T2'")
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
                    locked: Iterable[str] = ()) -> Plan:
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
            versions=package_versions())
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
        plan = cls.from_labels(accounts, values, method=method, parameters=parameters, name=name, reps=reps,
                               created_by=created_by, locked=locked)
        return Plan(plan._accounts, plan._assignments, plan._territories, plan._locked,
                    plan.metadata.replace(report=report))

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
        [None, "reassign 1 account(s) to 'T2'", 'lock 1 account(s)']
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

    # ------------------------------------------------------------------ edits (each returns a new draft)
    def reassign(self, account_ids, territory_id: str) -> Plan:
        """Move accounts to an existing territory; locked accounts refuse to move.

        Parameters
        ----------
        account_ids : str or iterable of str
        territory_id : str
            A territory of this plan (create one with :meth:`split_territory`).

        Raises
        ------
        InputError
            Unknown account ids or territory.
        PlanError
            Some of the accounts are locked (unlock them first).
        """
        ids = check_ids(self._accounts, account_ids, "reassign")
        territory_id = self._check_territory(territory_id)
        self._refuse_locked(ids, "reassign")
        assignments = self._assignments.copy()
        assignments.loc[list(ids)] = territory_id
        return self._derive(f"reassign {len(ids)} account(s) to {territory_id!r}", assignments=assignments)

    def reassign_blocks(self, block_ids, territory_id: str, block_col: str = COUNTY_FIPS) -> Plan:
        """Move every account in the given blocks (e.g. counties) to a territory.

        Examples
        --------
        >>> accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "county_fips": ["01001", "01001", "01003"]})
        >>> plan = Plan.from_labels(accounts, ["T1", "T1", "T2"])
        >>> plan.reassign_blocks(["01001"], "T2").assignments.tolist()
        ['T2', 'T2', 'T2']
        """
        if block_col not in self._accounts.columns:
            raise InputError(f"accounts have no block column {block_col!r}; pass block_col= naming it")
        blocks = clean_text(self._accounts[block_col])
        wanted = pd.Index(clean_text(pd.Series(list(as_list(block_ids)))).dropna().unique())
        unknown = wanted.difference(blocks.dropna().unique())
        if len(unknown):
            raise InputError(f"no account is in {block_col} {show(unknown)}; check the block ids")
        ids = self._accounts.loc[blocks.isin(wanted).to_numpy(), ACCOUNT_ID]
        return self.reassign(ids, territory_id)._relabel_edit(
            f"reassign {block_col} {show(wanted, 3)} ({len(ids)} account(s)) to {territory_id!r}")

    def lock(self, account_ids) -> Plan:
        """Lock accounts to their current territory (they refuse :meth:`reassign` and :meth:`split_territory`).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"]).lock(["a"])
        >>> sorted(plan.locked_accounts)
        ['a']
        >>> plan.reassign(["a"], "T2")
        Traceback (most recent call last):
        ...
        workbench.errors.PlanError: cannot reassign locked accounts ['a']; unlock them first
        """
        ids = check_ids(self._accounts, account_ids, "lock")
        return self._derive(f"lock {len(ids)} account(s)", locked=self._locked | ids)

    def unlock(self, account_ids) -> Plan:
        """Unlock accounts (ids that are not locked are ignored).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"]).lock(["a"])
        >>> plan.unlock(["a"]).locked_accounts
        frozenset()
        """
        ids = check_ids(self._accounts, account_ids, "unlock")
        return self._derive(f"unlock {len(ids)} account(s)", locked=self._locked - ids)

    def rename_territory(self, territory_id: str, name: str) -> Plan:
        """Set a territory's display name (its id stays).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"])
        >>> plan.rename_territory("T1", "Boston North").territories["territory_name"].tolist()
        ['Boston North']
        """
        territory_id = self._check_territory(territory_id)
        territories = self._territories.copy()
        territories.loc[territory_id, TERRITORY_NAME] = str(name)
        return self._derive(f"rename {territory_id!r} to {str(name)!r}", territories=territories)

    def merge_territories(self, territory_ids, into: str) -> Plan:
        """Merge territories into one (``into``: one of them, another territory, or a new id).

        Accounts move with their territory, locks included. The merged
        territories other than ``into`` disappear; a new ``into`` takes the
        attributes (rep, region) of the first merged territory.

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b", "c"]}), ["T1", "T2", "T3"])
        >>> merged = plan.merge_territories(["T1", "T2"], into="T1")
        >>> merged.assignments.tolist(), list(merged.territories.index)
        (['T1', 'T1', 'T3'], ['T1', 'T3'])
        """
        sources = [self._check_territory(t) for t in as_list(territory_ids)]
        if not sources:
            raise InputError("merge_territories needs at least one territory id")
        into = str(into).strip()
        territories = self._territories.copy()
        if into not in territories.index:
            row = territories.loc[[sources[0]]].set_axis(pd.Index([into], name=TERRITORY_ID))
            row[TERRITORY_NAME] = into
            territories = pd.concat([territories, row])
        territories = territories.drop(index=[t for t in sources if t != into])
        assignments = self._assignments.copy()
        assignments[assignments.isin(sources).to_numpy()] = into
        return self._derive(f"merge {show(sources)} into {into!r}", assignments=assignments,
                            territories=_frames.normalise_territories(territories))

    def split_territory(self, territory_id: str, account_ids, new_id: str, name: str | None = None) -> Plan:
        """Move some of a territory's accounts into a new territory ``new_id`` (no rep; same region/area).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T1"])
        >>> split = plan.split_territory("T1", ["b"], "T2", name="New")
        >>> split.assignments.tolist(), split.territories["territory_name"].tolist()
        (['T1', 'T2'], ['T1', 'New'])
        """
        territory_id = self._check_territory(territory_id)
        new_id = str(new_id).strip()
        if new_id in self._territories.index or not new_id:
            raise InputError(f"new territory id {new_id!r} is empty or already exists; choose another id")
        ids = check_ids(self._accounts, account_ids, "split")
        elsewhere = [a for a in sorted(ids) if self._assignments[a] != territory_id]
        if elsewhere:
            raise InputError(f"accounts {show(elsewhere)} are not in territory {territory_id!r}; "
                             f"split only moves accounts of {territory_id!r}")
        self._refuse_locked(ids, "split off")
        territories = self._territories.copy()
        row = pd.DataFrame({TERRITORY_NAME: [name or new_id], REGION: territories.loc[territory_id, REGION],
                            AREA: territories.loc[territory_id, AREA]}, index=pd.Index([new_id], name=TERRITORY_ID))
        territories = _frames.normalise_territories(pd.concat([territories, row]))
        assignments = self._assignments.copy()
        assignments.loc[list(ids)] = new_id
        return self._derive(f"split {len(ids)} account(s) of {territory_id!r} into {new_id!r}",
                            assignments=assignments, territories=territories)

    def with_hierarchy(self, mapping: pd.DataFrame) -> Plan:
        """Set each territory's region and/or area from a table ``territory_id, region[, area]``.

        Every territory must be listed, and nothing else.

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"])
        >>> mapping = pd.DataFrame({"territory_id": ["T1", "T2"], "region": ["East", "West"]})
        >>> plan.with_hierarchy(mapping).territories["region"].tolist()
        ['East', 'West']
        """
        if not isinstance(mapping, pd.DataFrame):
            raise TypeError(f"mapping must be a pandas DataFrame, got {type(mapping).__name__}")
        frame = mapping.reset_index() if TERRITORY_ID not in mapping.columns and mapping.index.name == TERRITORY_ID \
            else mapping
        levels = [c for c in (REGION, AREA) if c in frame.columns]
        if TERRITORY_ID not in frame.columns or not levels:
            raise InputError(f"hierarchy mapping needs columns 'territory_id' and 'region' and/or 'area' "
                             f"(columns: {list(frame.columns)})")
        keys = clean_text(frame[TERRITORY_ID])
        duplicated = keys[keys.duplicated()].unique()
        if len(duplicated):
            raise InputError(f"hierarchy mapping lists territories {show(duplicated)} more than once; keep one row each")
        unknown = pd.Index(keys.dropna()).difference(self._territories.index)
        if len(unknown):
            raise InputError(f"hierarchy mapping names territories {show(unknown)} that are not in plan "
                             f"{self.name!r}; remove those rows")
        absent = self._territories.index.difference(pd.Index(keys.dropna()))
        if len(absent):
            raise InputError(f"hierarchy mapping has no row for territories {show(absent)}; add a row for each")
        territories = self._territories.copy()
        for level in levels:
            territories[level] = clean_text(pd.Series(frame[level].to_numpy(), index=keys.to_numpy())).reindex(
                territories.index).to_numpy()
        return self._derive(f"set {' and '.join(levels)}", territories=_frames.normalise_territories(territories))

    def with_name(self, name: str) -> Plan:
        """The same assignments under another plan name (a new draft, e.g. ``"proposed"``).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"], name="draft 1")
        >>> plan.with_name("Q3 proposal").name
        'Q3 proposal'
        """
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"plan name must be non-empty text, got {name!r}")
        return self._derive(f"name plan {name.strip()!r}")._relabel_name(name.strip())

    def with_reps(self, reps: pd.DataFrame) -> Plan:
        """Set each territory's rep, rep home and capacity from a reps table (see :meth:`from_labels`).

        Examples
        --------
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"])
        >>> reps = pd.DataFrame({"rep_id": ["R7"], "name": ["Kim"], "territory_id": ["T1"],
        ...                      "latitude": [42.36], "longitude": [-71.06]})
        >>> plan.with_reps(reps).territories[["rep_id", "rep_name", "rep_latitude"]].to_dict("records")
        [{'rep_id': 'R7', 'rep_name': 'Kim', 'rep_latitude': 42.36}]
        """
        territories = _frames.normalise_territories(_frames.attach_reps(self._territories, reps))
        return self._derive("set reps", territories=territories)

    # ------------------------------------------------------------------ internals
    def _derive(self, edit: str, *, assignments=None, territories=None, locked=None) -> Plan:
        metadata = self.metadata.replace(
            created_at=utc_now(), parent_hash=self.content_hash, status=DRAFT, approved_by=None,
            approved_at=None, approval_note=None, accepted_warnings=(), edit=edit, versions=package_versions(),
            report={})  # the fit's report describes the plan it made, not an edit of it
        return Plan(self._accounts,
                    self._assignments if assignments is None else assignments.rename(TERRITORY_ID),
                    self._territories if territories is None else territories,
                    self._locked if locked is None else frozenset(locked), metadata, self)

    def _relabel_name(self, name: str) -> Plan:
        return Plan(self._accounts, self._assignments, self._territories, self._locked,
                    self.metadata.replace(name=name), self._parent)

    def _relabel_edit(self, edit: str) -> Plan:
        return Plan(self._accounts, self._assignments, self._territories, self._locked,
                    self.metadata.replace(edit=edit), self._parent)

    def _check_territory(self, territory_id) -> str:
        territory_id = str(territory_id).strip()
        if territory_id not in self._territories.index:
            raise InputError(f"territory {territory_id!r} is not in plan {self.name!r} (territories: "
                             f"{show(self._territories.index)}); use split_territory to create one")
        return territory_id

    def _refuse_locked(self, ids: frozenset, verb: str) -> None:
        locked = sorted(ids & self._locked)
        if locked:
            raise PlanError(f"cannot {verb} locked accounts {show(locked)}; unlock them first")

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
