"""Edits of a :class:`~workbench.plan.Plan`: each returns a new draft whose parent is the plan edited.

:class:`PlanEdits` is the part of :class:`~workbench.plan.Plan` that makes new plans from
one: reassign accounts or blocks, lock and unlock, rename, merge and split territories,
set the hierarchy, the name or the reps. The plan itself is never changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from workbench.errors import InputError, PlanError
from workbench.labels import clean_text, show
from workbench.plan import _describe, _frames
from workbench.plan._frames import as_list, check_ids
from workbench.plan._meta import DRAFT
from workbench.provenance import package_versions, utc_now
from workbench.schema import ACCOUNT_ID, AREA, COUNTY_FIPS, REGION, TERRITORY_ID, TERRITORY_NAME

if TYPE_CHECKING:
    from workbench.plan._model import Plan


class PlanEdits:
    """The edits of a plan (mixed into :class:`~workbench.plan.Plan`, which holds the state they read)."""

    # ------------------------------------------------------------------ edits (each returns a new draft)
    def reassign(self, account_ids, territory_id: str, *, what: str | None = None) -> Plan:
        """Move accounts to an existing territory; locked accounts refuse to move.

        The edit reads ``Moved 12 accounts from T07 (Ann Lee) to T12 (Bo Chan)``
        in the plan's history (reps named when the plan has them).

        Parameters
        ----------
        account_ids : str or iterable of str
        territory_id : str
            A territory of this plan (create one with :meth:`split_territory`).
        what : str, optional
            What moves, in words, for the history: ``"Jackson, MO"`` reads
            ``Moved Jackson, MO (12 accounts) from ...``.

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
        edit = _describe.move_text(self._territories, assignments.loc[list(ids)], territory_id, what)
        assignments.loc[list(ids)] = territory_id
        return self._derive(edit, assignments=assignments)

    def reassign_blocks(self, block_ids, territory_id: str, block_col: str = COUNTY_FIPS, *,
                        names=None) -> Plan:
        """Move every account in the given blocks (e.g. counties) to a territory.

        ``names`` (block id -> readable name, e.g. ``{"29095": "Jackson, MO"}``)
        names the blocks in the plan's history; without it they read ``county 29095``.

        Examples
        --------
        >>> from workbench.plan import Plan
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
        return self.reassign(ids, territory_id, what=_describe.blocks_phrase(wanted, block_col, names))

    def lock(self, account_ids) -> Plan:
        """Lock accounts to their current territory (they refuse :meth:`reassign` and :meth:`split_territory`).

        Examples
        --------
        >>> from workbench.plan import Plan
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"]).lock(["a"])
        >>> sorted(plan.locked_accounts)
        ['a']
        >>> plan.reassign(["a"], "T2")
        Traceback (most recent call last):
        ...
        workbench.errors.PlanError: cannot reassign locked accounts ['a']; unlock them first
        """
        ids = check_ids(self._accounts, account_ids, "lock")
        return self._derive(f"Locked {_describe.count(len(ids), 'account')} in their territory",
                            locked=self._locked | ids)

    def unlock(self, account_ids) -> Plan:
        """Unlock accounts (ids that are not locked are ignored).

        Examples
        --------
        >>> from workbench.plan import Plan
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"]).lock(["a"])
        >>> plan.unlock(["a"]).locked_accounts
        frozenset()
        """
        ids = check_ids(self._accounts, account_ids, "unlock")
        return self._derive(f"Unlocked {_describe.count(len(ids), 'account')}", locked=self._locked - ids)

    def rename_territory(self, territory_id: str, name: str) -> Plan:
        """Set a territory's display name (its id stays).

        Examples
        --------
        >>> from workbench.plan import Plan
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"])
        >>> plan.rename_territory("T1", "Boston North").territories["territory_name"].tolist()
        ['Boston North']
        """
        territory_id = self._check_territory(territory_id)
        territories = self._territories.copy()
        territories.loc[territory_id, TERRITORY_NAME] = str(name)
        return self._derive(f'Renamed {territory_id} to "{name}"', territories=territories)

    def merge_territories(self, territory_ids, into: str) -> Plan:
        """Merge territories into one (``into``: one of them, another territory, or a new id).

        Accounts move with their territory, locks included. The merged
        territories other than ``into`` disappear; a new ``into`` takes the
        attributes (rep, region) of the first merged territory.

        Examples
        --------
        >>> from workbench.plan import Plan
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
        return self._derive(f"Merged {_describe.territories_phrase(self._territories, sources)} into {into}",
                            assignments=assignments,
                            territories=_frames.normalise_territories(territories))

    def split_territory(self, territory_id: str, account_ids, new_id: str, name: str | None = None) -> Plan:
        """Move some of a territory's accounts into a new territory ``new_id`` (no rep; same region/area).

        Examples
        --------
        >>> from workbench.plan import Plan
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
        source = _describe.territory_label(self._territories, territory_id)
        return self._derive(f"Split {_describe.count(len(ids), 'account')} off {source} into the new territory {new_id}",
                            assignments=assignments, territories=territories)

    def with_hierarchy(self, mapping: pd.DataFrame) -> Plan:
        """Set each territory's region and/or area from a table ``territory_id, region[, area]``.

        Every territory must be listed, and nothing else.

        Examples
        --------
        >>> from workbench.plan import Plan
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
        return self._derive(f"Set the territories' {' and '.join(level + 's' for level in levels)}",
                            territories=_frames.normalise_territories(territories))

    def with_name(self, name: str) -> Plan:
        """The same assignments under another plan name (a new draft, e.g. ``"proposed"``).

        Examples
        --------
        >>> from workbench.plan import Plan
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"], name="draft 1")
        >>> plan.with_name("Q3 proposal").name
        'Q3 proposal'
        """
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"plan name must be non-empty text, got {name!r}")
        return self._derive(f'Named the plan "{name.strip()}"')._relabel_name(name.strip())

    def with_reps(self, reps: pd.DataFrame) -> Plan:
        """Set each territory's rep, rep home and capacity from a reps table (see :meth:`from_labels`).

        Examples
        --------
        >>> from workbench.plan import Plan
        >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"])
        >>> reps = pd.DataFrame({"rep_id": ["R7"], "name": ["Kim"], "territory_id": ["T1"],
        ...                      "latitude": [42.36], "longitude": [-71.06]})
        >>> plan.with_reps(reps).territories[["rep_id", "rep_name", "rep_latitude"]].to_dict("records")
        [{'rep_id': 'R7', 'rep_name': 'Kim', 'rep_latitude': 42.36}]
        """
        territories = _frames.normalise_territories(_frames.attach_reps(self._territories, reps))
        return self._derive("Set the reps of the territories", territories=territories)

    # ------------------------------------------------------------------ internals
    def _derive(self, edit: str, *, assignments=None, territories=None, locked=None) -> Plan:
        metadata = self.metadata.replace(
            created_at=utc_now(), parent_hash=self.content_hash, status=DRAFT, approved_by=None,
            approved_at=None, approval_note=None, accepted_warnings=(), edit=edit, versions=package_versions(),
            report={})  # the fit's report describes the plan it made, not an edit of it
        return type(self)(self._accounts,
                    self._assignments if assignments is None else assignments.rename(TERRITORY_ID),
                    self._territories if territories is None else territories,
                    self._locked if locked is None else frozenset(locked), metadata, self)

    def _relabel_name(self, name: str) -> Plan:
        return type(self)(self._accounts, self._assignments, self._territories, self._locked,
                    self.metadata.replace(name=name), self._parent)

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
