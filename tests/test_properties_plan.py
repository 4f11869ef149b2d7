"""Property tests for plans: edits never lose an account, undo is exact, saving is lossless.

What the API promises (``workbench.plan._hash``): the content hash covers the
assignments, locks, territories, the input data and the metadata fields name,
method, parameters, parent_hash and edit. It leaves out creation time, author,
versions and approval. So: rebuilding a plan from the same data in another row
order gives the same hash; approving keeps it; an edit and its reverse give the
same assignments but a different hash (the lineage is part of the content).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from workbench.errors import InputError, PlanError
from workbench.plan import Plan, diff_plans, load_plan, save_plan
from workbench.signoff import review_and_approve

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Ids a spreadsheet or a careless loader would mangle: leading zeros, "NA", formulas, unicode, spaces inside.
ID_TEXT = st.one_of(
    st.from_regex(r"\A[A-Z]{1,2}[0-9]{1,4}\Z"),
    st.from_regex(r"\A0[0-9]{2,5}\Z"),
    st.sampled_from(["NA", "null", "None", "=cmd|'/c calc'!A0", "+1-555", "-2 Corp", "@SUM(A1)", "Zürich–Ost",
                     "東京", "a b", "1e5", "TRUE"]),
)
TERRITORY_IDS = ["T1", "T2", "T3", "North", "=T5", "00T"]


@st.composite
def plans_data(draw, min_size=1, max_size=12):
    """(accounts, labels): unique ids, coordinates, a workload and a territory (or None) per account."""
    ids = draw(st.lists(ID_TEXT, min_size=min_size, max_size=max_size, unique=True))
    n = len(ids)
    territories = draw(st.lists(st.sampled_from(TERRITORY_IDS), min_size=1, max_size=4, unique=True))
    labels = draw(st.lists(st.sampled_from(territories), min_size=n, max_size=n))
    if n >= 2 and draw(st.booleans()):  # one unassigned account (never all: a plan needs a territory)
        labels[draw(st.integers(0, n - 1))] = None
    accounts = pd.DataFrame({
        "account_id": ids,
        "name": [f"Account {i}" for i in range(n)],
        "latitude": draw(st.lists(st.floats(25, 49), min_size=n, max_size=n)),
        "longitude": draw(st.lists(st.floats(-124, -67), min_size=n, max_size=n)),
        "workload": draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)),
        "segment": draw(st.lists(st.sampled_from(["SMB", "Mid", None]), min_size=n, max_size=n)),
    })
    return accounts, np.array(labels, dtype=object)


def make_plan(accounts, labels, **kwargs):
    kwargs.setdefault("method", "balanced")
    kwargs.setdefault("parameters", {"n_territories": 3, "tolerance": 0.05})
    kwargs.setdefault("name", "q3")
    return Plan.from_labels(accounts, labels, **kwargs)


def assert_nothing_lost(plan, accounts):
    """Every account is in the plan exactly once, assigned to a listed territory or counted unassigned."""
    assignments = plan.assignments
    assert assignments.index.tolist() == accounts["account_id"].astype(str).str.strip().tolist()
    assert assignments.index.is_unique
    assigned = assignments.dropna()
    assert set(assigned) <= set(plan.territories.index)
    assert len(assigned) + len(plan.unassigned) == len(accounts)


# --------------------------------------------------------------------------- hashes
@SETTINGS
@given(data=plans_data(), seed=st.integers(0, 2**32 - 1))
def test_content_hash_does_not_depend_on_row_or_column_order(data, seed):
    accounts, labels = data
    plan = make_plan(accounts, labels)
    order = np.random.default_rng(seed).permutation(len(accounts))
    shuffled = accounts.iloc[order][list(accounts.columns[::-1])]
    again = make_plan(shuffled, labels[order])
    assert again.content_hash == plan.content_hash
    assert again.metadata.input_hash == plan.metadata.input_hash
    pd.testing.assert_series_equal(again.assignments.sort_index(), plan.assignments.sort_index())


@SETTINGS
@given(data=plans_data(min_size=2), which=st.integers(0, 10**6))
def test_content_hash_changes_when_any_assignment_changes(data, which):
    accounts, labels = data
    plan = make_plan(accounts, labels)
    i = which % len(accounts)
    other = "T-other" if labels[i] != "T-other" else "T1"
    changed = labels.copy()
    changed[i] = other
    assert make_plan(accounts, changed).content_hash != plan.content_hash


@SETTINGS
@given(data=plans_data())
def test_approval_keeps_the_content_hash_and_edits_of_approved_plans_are_drafts(data):
    accounts, labels = data
    draft = make_plan(accounts, labels)
    approved = review_and_approve(draft, by="Dana", note="ok", accept_warnings=True)
    assert approved.is_approved and approved.content_hash == draft.content_hash
    assert approved.record_hash != draft.record_hash
    territory = draft.territories.index[0]
    edited = approved.reassign([accounts["account_id"].iloc[0]], territory)
    assert edited.metadata.status == "draft" and not edited.is_approved
    assert edited.metadata.approved_by is None and edited.metadata.parent_hash == approved.content_hash
    assert edited.parent is approved and approved.is_approved  # the approved plan itself is unchanged
    with pytest.raises(PlanError, match=r"is already approved .* edit it to start a new draft"):
        review_and_approve(approved, by="Dana", accept_warnings=True)


# --------------------------------------------------------------------------- undo
@SETTINGS
@given(data=plans_data(), pick=st.data())
def test_reassign_then_reassign_back_restores_the_assignments(data, pick):
    accounts, labels = data
    plan = make_plan(accounts, labels)
    account = pick.draw(st.sampled_from(accounts["account_id"].tolist()))
    before = plan.assignments[account]
    target = pick.draw(st.sampled_from(list(plan.territories.index)))
    moved = plan.reassign([account], target)
    assert moved.parent is plan and moved.assignments[account] == target
    assert_nothing_lost(moved, accounts)
    if pd.isna(before):  # there is no "unassign" edit: undo is going back to the parent
        assert moved.parent.assignments.equals(plan.assignments)
        return
    back = moved.reassign([account], before)
    assert back.parent is moved and back.parent.parent is plan
    pd.testing.assert_series_equal(back.assignments, plan.assignments)
    assert diff_plans(plan, back).empty
    # The lineage (parent_hash, edit) is part of the content hash, as documented: same assignments, new hash.
    assert back.metadata.parent_hash == moved.content_hash
    assert back.content_hash != plan.content_hash


# --------------------------------------------------------------------------- save / load
@SETTINGS
@given(data=plans_data(), approved=st.booleans(), lock=st.booleans())
def test_save_then_load_gives_the_same_plan(data, approved, lock):
    accounts, labels = data
    plan = make_plan(accounts, labels, locked=accounts["account_id"].iloc[:1] if lock else ())
    if labels[0] is not None:
        plan = plan.rename_territory(labels[0], "=North <b>&</b>")
    if approved:
        plan = review_and_approve(plan, by="Dana Ö", note="line1\nline2", accept_warnings=True)
    with tempfile.TemporaryDirectory() as folder:
        path = save_plan(plan, Path(folder) / "plan")
        loaded = load_plan(path)
        assert loaded == plan
        assert loaded.content_hash == plan.content_hash and loaded.record_hash == plan.record_hash
        pd.testing.assert_series_equal(loaded.assignments, plan.assignments)
        pd.testing.assert_frame_equal(loaded.territories, plan.territories)
        pd.testing.assert_frame_equal(loaded.accounts, plan.accounts)
        assert loaded.locked_accounts == plan.locked_accounts
        assert loaded.metadata == plan.metadata
        assert_nothing_lost(loaded, accounts)
        if approved:
            with pytest.raises(PlanError, match=r"holds an approved plan, which is never overwritten"):
                save_plan(plan.with_name("changed"), path, overwrite=True)
            assert load_plan(path) == plan


# --------------------------------------------------------------------------- any sequence of edits
class PlanEdits(RuleBasedStateMachine):
    """Random edit sessions: reassign, lock, unlock, merge, split, rename, undo, approve."""

    @initialize(data=plans_data(min_size=2))
    def start(self, data):
        self.accounts, labels = data
        self.plan = make_plan(self.accounts, labels)
        self.ids = self.accounts["account_id"].tolist()
        self.n_splits = 0

    @rule(pick=st.data())
    def reassign(self, pick):
        ids = pick.draw(st.lists(st.sampled_from(self.ids), min_size=1, max_size=3, unique=True))
        target = pick.draw(st.sampled_from(list(self.plan.territories.index)))
        locked = set(ids) & self.plan.locked_accounts
        if locked:
            with pytest.raises(PlanError, match=r"cannot reassign locked accounts .*; unlock them first"):
                self.plan.reassign(ids, target)
            return
        before = self.plan
        self.plan = self.plan.reassign(ids, target)
        assert self.plan.parent is before and self.plan.metadata.status == "draft"
        assert (self.plan.assignments[ids] == target).all()
        untouched = [a for a in self.ids if a not in ids]
        pd.testing.assert_series_equal(self.plan.assignments[untouched], before.assignments[untouched])

    @rule(pick=st.data())
    def lock(self, pick):
        ids = pick.draw(st.lists(st.sampled_from(self.ids), min_size=1, max_size=2, unique=True))
        before = self.plan.assignments
        self.plan = self.plan.lock(ids)
        assert set(ids) <= self.plan.locked_accounts
        assert self.plan.assignments.equals(before)

    @rule(pick=st.data())
    def unlock(self, pick):
        ids = pick.draw(st.lists(st.sampled_from(self.ids), min_size=1, max_size=2, unique=True))
        self.plan = self.plan.unlock(ids)
        assert not set(ids) & self.plan.locked_accounts

    @precondition(lambda self: len(self.plan.territories) >= 2)
    @rule(pick=st.data())
    def merge(self, pick):
        territories = list(self.plan.territories.index)
        sources = pick.draw(st.lists(st.sampled_from(territories), min_size=2, max_size=2, unique=True))
        before = self.plan.assignments
        self.plan = self.plan.merge_territories(sources, into=sources[0])
        merged = before.isin(sources).to_numpy()
        assert (self.plan.assignments[merged] == sources[0]).all()
        assert sources[1] not in self.plan.territories.index

    @rule(pick=st.data())
    def split(self, pick):
        territory = pick.draw(st.sampled_from(list(self.plan.territories.index)))
        members = [a for a, t in self.plan.assignments.items() if t == territory and a not in self.plan.locked_accounts]
        if not members:
            return
        ids = pick.draw(st.lists(st.sampled_from(members), min_size=1, max_size=len(members), unique=True))
        self.n_splits += 1
        new_id = f"S{self.n_splits}"
        self.plan = self.plan.split_territory(territory, ids, new_id)
        assert (self.plan.assignments[ids] == new_id).all()

    @rule(pick=st.data())
    def rename(self, pick):
        territory = pick.draw(st.sampled_from(list(self.plan.territories.index)))
        name = pick.draw(st.sampled_from(["North", "=SUM(A1)", "Ost–Süd", "../x"]))
        self.plan = self.plan.rename_territory(territory, name)
        assert self.plan.territories.loc[territory, "territory_name"] == name

    @rule(pick=st.data())
    def unknown_ids_are_refused(self, pick):
        with pytest.raises(InputError, match=r"cannot reassign: account ids \['no-such-account'\] are not in the plan"):
            self.plan.reassign(["no-such-account"], self.plan.territories.index[0])
        with pytest.raises(InputError, match=r"territory 'no-such-territory' is not in plan .*use split_territory"):
            self.plan.reassign([self.ids[0]], "no-such-territory")

    @precondition(lambda self: self.plan.parent is not None)
    @rule()
    def undo(self):
        child = self.plan
        self.plan = child.parent
        assert child.metadata.parent_hash == self.plan.content_hash

    @rule()
    def approve_and_continue(self):
        if self.plan.is_approved:
            return
        approved = review_and_approve(self.plan, by="Dana", accept_warnings=True)
        assert approved.content_hash == self.plan.content_hash
        self.plan = approved

    @invariant()
    def nothing_lost(self):
        if hasattr(self, "plan"):
            assert_nothing_lost(self.plan, self.accounts)
            assert self.plan.locked_accounts <= set(self.ids)

    @invariant()
    def history_is_a_chain_of_parents(self):
        if hasattr(self, "plan"):
            chain = self.plan.history()
            assert chain[-1] is self.plan
            for parent, child in zip(chain, chain[1:]):
                assert child.metadata.parent_hash == parent.content_hash


TestPlanEdits = PlanEdits.TestCase
TestPlanEdits.settings = settings(max_examples=25, stateful_step_count=12, deadline=None, derandomize=True,
                                  phases=(Phase.explicit, Phase.reuse, Phase.generate),
                                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- compare and export lose nobody
@settings(SETTINGS, max_examples=15)
@given(data=plans_data(min_size=2), pick=st.data())
def test_compare_accounts_for_every_move(data, pick):
    """Moved accounts listed = accounts whose territory differs; the transfer matrix holds every account
    (unassigned ones under "(unassigned)")."""
    from workbench.compare import compare_plans

    accounts, labels = data
    current = make_plan(accounts, labels, name="current")
    ids = pick.draw(st.lists(st.sampled_from(accounts["account_id"].tolist()), max_size=len(accounts), unique=True))
    proposed = current.reassign(ids, pick.draw(st.sampled_from(list(current.territories.index)))) if ids else current
    comparison = compare_plans(current, proposed, metrics=["workload"])
    moved = diff_plans(current, proposed)
    assert sorted(comparison.moved_accounts["account_id"].astype(str)) == sorted(moved["account_id"])
    assert int(comparison.disruption["accounts_moved"]) == len(moved)
    assert int(comparison.transfer_matrix["accounts"].sum()) == len(accounts)
    assert comparison.transfer_matrix["workload"].sum() == pytest.approx(accounts["workload"].sum())


@settings(SETTINGS, max_examples=15)
@given(data=plans_data())
def test_exported_assignments_read_back_exactly(data):
    """``assignments.csv`` read back with ``read_assignments`` equals the plan's assignments, whatever the ids."""
    from workbench.export import export_plan, read_assignments

    accounts, labels = data
    labels = np.where(pd.isna(labels), labels[pd.notna(labels)][0], labels)  # export refuses unassigned accounts
    plan = review_and_approve(make_plan(accounts, labels), by="=Dana", accept_warnings=True)
    with tempfile.TemporaryDirectory() as folder:
        out = export_plan(plan, Path(folder) / "export", formats="csv")
        pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), plan.assignments)
