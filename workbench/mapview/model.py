"""State of the comparison map: which territory holds each block, loads, locks, undo/redo.

No widgets here. :class:`ComparisonModel` holds the current alignment (fixed)
and the proposed one (edited), split into *items*: the building blocks the
user clicks (counties, or cells around accounts when there are no blocks).
Every edit updates the per-territory loads incrementally (only the rows of the
territories involved) and records which territories changed, so a view
redraws just those.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from traitlets import Bool, Enum, HasTraits, Int, List, Unicode

from workbench.errors import InputError, PlanError
from workbench.geo import great_circle_km
from workbench.mapview import review as _review
from workbench.mapview.homes import far_limits, rep_homes
from workbench.mapview.items import MAX_ACCOUNT_ITEMS, build_items, describe_rows, majority_owner, rows_text
from workbench.mapview.plans import edited_plan, read_alignments
from workbench.present import count
from workbench.schema import ACCOUNT_ID, DEFAULT_TOLERANCE, REGION, TERRITORY_ID
from workbench.signoff import FAR_FROM_HOME_KM as _signoff_far_km

__all__ = ["Change", "ComparisonModel", "FAR_FROM_HOME_KM", "MAX_ACCOUNT_ITEMS"]

#: A move is flagged as *far* when the block ends up more than this many km from its new rep's home
#: **and** farther than any block that territory holds in the current plan (so a large rural
#: territory whose rep already drives 500 km is not flagged for a block 400 km out). The same
#: rule as the approval review's (:data:`workbench.signoff.FAR_FROM_HOME_KM`, 300 km: about a
#: half-day's drive, beyond which a rep cannot visit and be home the same day).
FAR_FROM_HOME_KM = _signoff_far_km


@dataclass(frozen=True)
class Change:
    """One undoable edit: these account rows went from ``old`` to ``new`` territory codes."""

    rows: np.ndarray
    old: np.ndarray
    new: np.ndarray
    items: np.ndarray
    note: str


class ComparisonModel(HasTraits):
    """Current and proposed alignment, the edits made to the proposed one, and the view's choices.

    Parameters
    ----------
    current, proposed : Plan or array-like
        Plans, Series indexed by account id, or one territory id per account row.
    accounts : pandas.DataFrame, optional
        Accounts (default ``proposed.accounts``); needed with plain labels.
    blocks : geopandas.GeoDataFrame, optional
        Building blocks with an id column ``block_col`` (or ``block_id``).
    block_col : str, optional
        Accounts' block column (e.g. ``"county_fips"``); required with ``blocks``.
    metrics : sequence of str, optional
        Metric columns to balance; default the proposed plan's ``balance_on``
        followed by those of workload, revenue, potential present.
    tolerance : float, default 0.05
        Balance tolerance for the scorecard.
    land : geometry, optional
        Without blocks, account cells are clipped to it.
    homes : pandas.DataFrame, optional
        Rep homes: ``territory_id``, ``latitude``, ``longitude`` and optionally ``name``
        (a reps table); default the plans' ``rep_latitude``/``rep_longitude``/``rep_name``.
    far_km : float, default :data:`FAR_FROM_HOME_KM`
        Distance from the new rep's home beyond which a moved block is flagged (see
        :data:`FAR_FROM_HOME_KM` for the rule).

    Clicks go through :meth:`click`: there is no default target, so a click in
    move mode before a target is chosen explains what to do and moves nothing.
    Every edit is checked at once: a territory that falls apart (non-contiguous)
    or a block sent far from its rep's home is reported in :attr:`alerts` and in
    :meth:`review`.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "latitude": [0.0, 0.0, 1.0],
    ...                          "longitude": [0.0, 1.0, 0.0], "workload": [1.0, 1.0, 2.0]})
    >>> model = ComparisonModel(["T1", "T1", "T2"], ["T1", "T1", "T2"], accounts=accounts)
    >>> model.click("b"); model.status
    "Choose a territory in 'Move to' first (or switch to 'Pick territory' and click one of its blocks): nothing moved."
    >>> model.move_items(["b"], "T2").note
    "move 1 item to 'T2'"
    >>> model.labels.tolist(), model.loads()["workload"].tolist()
    (['T1', 'T2', 'T2'], [1.0, 3.0])
    >>> model.undo(); model.labels.tolist()
    ['T1', 'T1', 'T2']
    """

    #: Territory that clicked items move to.
    target = Unicode("")
    #: What a click does: move the item, pick its territory as target, or toggle its lock.
    mode = Enum(["move", "pick", "lock"], default_value="move")
    #: "territory" for categorical colours, or a metric name for a deviation choropleth.
    color_by = Unicode("territory")
    #: Show only moved items.
    only_moved = Bool(False)
    #: "" for everything, "territory:<id>" or "region:<name>" to show one part.
    show = Unicode("")
    #: Bumped after every edit; ``last_change`` says what changed.
    revision = Int(0)
    can_undo = Bool(False)
    can_redo = Bool(False)
    #: One line about the last action, for the user.
    status = Unicode("")
    #: Warnings raised by the last action (a territory split in pieces, a far move); cleared by the next one.
    alerts = List(Unicode())
    #: True after an edit that is not saved yet (see :meth:`mark_saved`).
    unsaved = Bool(False)

    def __init__(self, current, proposed, *, accounts=None, blocks=None, block_col=None, metrics=None,
                 tolerance: float = DEFAULT_TOLERANCE, land=None, homes=None, far_km: float = FAR_FROM_HOME_KM,
                 **kwargs):
        super().__init__(**kwargs)
        given = read_alignments(current, proposed, accounts=accounts, metrics=metrics)
        self.accounts, self.account_ids, self.metrics = given.accounts, given.account_ids, given.metrics
        self.current_plan, self.proposed_plan = given.current_plan, given.proposed_plan
        current_labels, proposed_labels = given.current_labels, given.proposed_labels
        self.tolerance = float(tolerance)
        self.block_col = block_col

        self.territories = np.array(sorted(set(map(str, current_labels)) | set(map(str, proposed_labels))), dtype=object)
        self._code = {t: i for i, t in enumerate(self.territories)}
        self.current_codes = np.array(pd.Index(self.territories).get_indexer(current_labels.astype(str)))
        self.codes = np.array(pd.Index(self.territories).get_indexer(proposed_labels.astype(str)))
        self.territory_info = self._territory_info()

        self._build_items(blocks, block_col, land)
        values = self.accounts[self.metrics].to_numpy(dtype=float) if self.metrics else np.empty((len(self.accounts), 0))
        self._values = np.column_stack([np.ones(len(self.accounts)), values])  # column 0 counts accounts
        self.current_loads_array = self._loads_of(self.current_codes)
        self._loads = self._loads_of(self.codes)
        self._in_proposed = np.bincount(self.codes, minlength=len(self.territories)) > 0
        self._in_current = np.bincount(self.current_codes, minlength=len(self.territories)) > 0
        moved = self.codes != self.current_codes
        self._moved = self._values[moved].sum(axis=0)

        locked = set(map(str, self.proposed_plan.locked_accounts)) if self.proposed_plan is not None else set()
        self.locked = np.isin(self.account_ids, list(locked)) if locked else np.zeros(len(self.accounts), bool)
        self.item_locked = np.bincount(self.item_of_row, weights=self.locked, minlength=len(self.item_ids)) > 0
        self._undo: list[Change] = []
        self._redo: list[Change] = []
        self.last_change: dict = {"territories": np.arange(len(self.territories)), "items": np.array([], int)}
        self.far_km = float(far_km)
        self._build_homes(homes)
        self.current_pieces = self._pieces_of(np.arange(len(self.territories)), self.item_current)
        self.pieces = self._pieces_of(np.arange(len(self.territories)), self.item_owner)

    # ------------------------------------------------------------------ construction helpers
    def _territory_info(self) -> pd.DataFrame:
        frames = [p.territories for p in (self.proposed_plan, self.current_plan) if p is not None]
        info = pd.concat(frames) if frames else pd.DataFrame(index=pd.Index([], name=TERRITORY_ID))
        info = info[~info.index.duplicated()]
        return info.reindex(self.territories)

    def _build_items(self, blocks, block_col, land) -> None:
        """Items are the clickable units (see :func:`workbench.mapview.items.build_items`)."""
        items = build_items(self.accounts, self.account_ids, blocks=blocks, block_col=block_col, land=land)
        self._items = items
        self.kind, self.item_ids, self.item_names, self.item_geometry = items.kind, items.ids, items.names, items.geometry
        self.item_of_row, self._rows_of, self.item_count = items.of_row, items.rows_of, items.count
        self.item_x, self.item_y = items.x, items.y
        self.empty_ids, self.empty_names, self.empty_geometry = items.empty_ids, items.empty_names, items.empty_geometry
        self.graph, self._empty_nodes = items.graph, items.empty_nodes
        self._empty_index = {item: i for i, item in enumerate(np.asarray(self.empty_ids, dtype=str))}
        self._item_index = {item: i for i, item in enumerate(self.item_ids)}
        self.item_current = self._owners(np.arange(len(self.item_ids)), self.current_codes)
        self.item_owner = self._owners(np.arange(len(self.item_ids)), self.codes)

    def _build_homes(self, homes) -> None:
        """Rep name and home per territory; distance of every item to every home; the far limits."""
        self.rep_names, self.home_latitude, self.home_longitude = rep_homes(self.territory_info, self.territories, homes)
        # items x territories: a few thousand by a few dozen, computed once.
        self.home_km = great_circle_km(self.item_y[:, None], self.item_x[:, None], self.home_latitude[None, :],
                                       self.home_longitude[None, :])
        self.far_limit = far_limits(self.home_km, self.item_current, self.far_km)

    def _owners(self, items: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Territory code holding most accounts of each item (ties: smallest code)."""
        return majority_owner(self._items, items, codes, len(self.territories))

    def _loads_of(self, codes: np.ndarray) -> np.ndarray:
        loads = np.zeros((len(self.territories), self._values.shape[1]))
        np.add.at(loads, codes, self._values)
        return loads

    # ------------------------------------------------------------------ reading the state
    @property
    def labels(self) -> np.ndarray:
        """Proposed (edited) territory id of each account row."""
        return self.territories[self.codes]

    @property
    def current_labels(self) -> np.ndarray:
        """Current territory id of each account row."""
        return self.territories[self.current_codes]

    def item_index(self, item_id) -> int:
        """Position of an item (block id, account id or cell id)."""
        try:
            return self._item_index[str(item_id)]
        except KeyError:
            raise InputError(f"{item_id!r} is not a {self.kind} on this map; check the id") from None

    def territory_code(self, territory_id) -> int:
        """Position of a territory id."""
        try:
            return self._code[str(territory_id)]
        except KeyError:
            shown = self.territories[:5].tolist()
            raise PlanError(f"unknown territory {territory_id!r}; choose one of {shown}"
                            f"{' ...' if len(self.territories) > 5 else ''}") from None

    def loads(self, current: bool = False) -> pd.DataFrame:
        """Per-territory account count and metric totals (proposed, or current)."""
        array = self.current_loads_array if current else self._loads
        frame = pd.DataFrame(array, index=pd.Index(self.territories, name=TERRITORY_ID),
                             columns=["accounts", *self.metrics])
        frame["accounts"] = frame["accounts"].astype(int)
        return frame

    def deviation(self, current: bool = False) -> np.ndarray:
        """Signed deviation from each territory's target load (the mean unless rep capacities differ,
        see :func:`workbench.metrics.balance_targets`), (territories, metrics); NaN for absent territories."""
        from workbench.metrics import balance_targets

        array = self.current_loads_array if current else self._loads
        present = self._in_current if current else self._in_proposed | (array[:, 0] > 0)
        values = array[:, 1:]
        mean = values[present].sum(axis=0) / max(int(present.sum()), 1)
        shares = balance_targets(getattr(self, "territory_info", None), np.asarray(self.territories)[present])
        target = np.broadcast_to(mean, values.shape).copy()
        if shares is not None:
            target[present] = np.outer(shares.to_numpy(), values[present].sum(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            deviation = np.where(target > 0, (values - target) / target, 0.0)
        deviation[~present] = np.nan
        return deviation

    def scorecard(self) -> pd.DataFrame:
        """Balance and disruption, current vs proposed; O(territories), not O(accounts).

        Rows: ``max deviation <metric>`` (a share), ``within tolerance <metric>`` (territories),
        ``territories``, ``non-contiguous territories`` (with blocks), ``far moves`` (blocks moved
        far from their new rep's home, see :data:`FAR_FROM_HOME_KM`), ``edits on the map``
        (undoable steps), ``accounts moved`` (vs current), ``<metric> moved`` (share of the total).
        """
        return _review.scorecard(self)

    def _pieces_of(self, codes: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """Number of connected pieces of each territory code's blocks (1 without a block graph).

        Blocks without accounts belong to no territory and may connect a territory's blocks,
        as in :func:`workbench.metrics.contiguity`.
        """
        pieces = np.ones(len(self.territories), dtype=int) if not hasattr(self, "pieces") else self.pieces.copy()
        if self.graph is None:
            return np.ones(len(self.territories), dtype=int)
        for code in np.atleast_1d(codes):
            own = set(np.flatnonzero(owner == code).tolist())
            if not own:
                pieces[code] = 0
                continue
            sub = self.graph.subgraph(own | self._empty_nodes)
            pieces[code] = sum(1 for part in nx.connected_components(sub) if not part.isdisjoint(own))
        return pieces

    def far_items(self) -> np.ndarray:
        """Boolean per item: moved to a territory whose rep's home is far (see :data:`FAR_FROM_HOME_KM`)."""
        rows = np.arange(len(self.item_ids))
        distance = self.home_km[rows, self.item_owner] if len(rows) else np.array([])
        with np.errstate(invalid="ignore"):
            far = distance > self.far_limit[self.item_owner]
        return far & self.moved_items()

    def territory_label(self, code: int) -> str:
        """``"T05 (Ana Diaz)"``: a territory with its rep's name when known."""
        rep = self.rep_names[code]
        return f"{self.territories[code]} ({rep})" if rep else str(self.territories[code])

    def review(self) -> list[str]:
        """Warnings about the edited proposal, for people: territories in pieces, far moves.

        Only what is worse than the current plan: a territory already in pieces today is reported
        only if it has more pieces now.
        """
        return _review.review_notes(self)

    def describe_item(self, item_id, side: str = "proposed") -> dict:
        """What the tooltip shows for an item: name, territory, rep, load and deviation of its territory."""
        return _review.describe_item(self, item_id, side)

    def moved_items(self) -> np.ndarray:
        """Boolean per item: its territory differs from the current one."""
        return self.item_owner != self.item_current

    def visible_items(self, side: str = "proposed") -> np.ndarray:
        """Boolean per item after the filters (``only_moved``, ``show``)."""
        owner = self.item_owner if side == "proposed" else self.item_current
        mask = np.ones(len(self.item_ids), dtype=bool)
        if self.only_moved:
            mask &= self.moved_items()
        if self.show.startswith("territory:"):
            mask &= owner == self.territory_code(self.show.split(":", 1)[1])
        elif self.show.startswith("region:"):
            regions = self.territory_info.get(REGION, pd.Series(index=self.territory_info.index, dtype=object))
            wanted = regions.astype(str).to_numpy() == self.show.split(":", 1)[1]
            mask &= wanted[owner]
        return mask

    def regions(self) -> list[str]:
        """Region names of the territories (empty when unknown)."""
        if REGION not in self.territory_info.columns:
            return []
        return sorted(map(str, self.territory_info[REGION].dropna().unique()))

    def items_in(self, geometry) -> np.ndarray:
        """Ids of the items whose representative point lies inside a (drawn) geometry."""
        if isinstance(geometry, dict):
            geometry = shapely.geometry.shape(geometry.get("geometry", geometry))
        inside = shapely.contains_xy(geometry, self.item_x, self.item_y)
        return self.item_ids[inside]

    # ------------------------------------------------------------------ edits
    def click(self, item_id) -> None:
        """What a click on an item does in the current :attr:`mode`; every outcome is told in :attr:`status`.

        A click on a block without accounts says why nothing moved; in move mode without a
        chosen target the click explains how to choose one and moves nothing.
        """
        key = str(item_id)
        if key in self._empty_index:
            name = self.empty_names[self._empty_index[key]]
            self.alerts = []
            self._say(f"{name} has no accounts, so there is nothing to move: blocks without accounts "
                      "belong to no territory.")
            return
        if self.mode == "pick":
            self.pick(key)
        elif self.mode == "lock":
            self.set_locked([key], not bool(self.item_locked[self.item_index(key)]))
        elif not self.target:
            self.item_index(key)  # an unknown id is still an error
            self.alerts = []
            self._say("Choose a territory in 'Move to' first (or switch to 'Pick territory' and click one of "
                      "its blocks): nothing moved.")
        else:
            self.move_items([key], self.target)

    def _say(self, text: str) -> None:
        """Set the status, even to the same text again (so the view shows it as new)."""
        if self.status == text:
            self.status = ""
        self.status = text

    def mark_saved(self) -> None:
        """The edits so far are saved: :attr:`unsaved` is False until the next edit."""
        self.unsaved = False

    def move_items(self, item_ids, territory_id, *, skip_locked: bool = False) -> Change | None:
        """Move every account of the given items to a territory (one undoable step).

        Locked items refuse to move (``PlanError``), or are left where they are
        with ``skip_locked=True``. Returns the change, or None if nothing moved.
        """
        if territory_id is None or str(territory_id) == "":
            raise PlanError("no target territory: choose one in 'Move to' (or with pick mode) before moving")
        code = self.territory_code(territory_id)
        items = np.array([self.item_index(i) for i in np.atleast_1d(np.asarray(item_ids, dtype=object))], dtype=int)
        locked = self.item_locked[items]
        if locked.any() and not skip_locked:
            raise PlanError(f"{self.kind} {self.item_ids[items[locked]][:5].tolist()} is locked; unlock it before moving it")
        items = items[~locked]
        rows = np.concatenate([self._rows_of[i] for i in items]) if len(items) else np.array([], dtype=int)
        rows = rows[self.codes[rows] != code]
        skipped = f"; {int(locked.sum())} locked left in place" if locked.any() else ""
        if len(rows) == 0:
            self.alerts = []
            self._say(f"nothing to move: already in {territory_id!r}{skipped}")
            return None
        change = Change(rows, self.codes[rows].copy(), np.full(len(rows), code), np.unique(self.item_of_row[rows]),
                        f"move {count(len(items), 'item')} to {str(territory_id)!r}")
        self._apply(change.rows, change.new, change.items)
        self._undo.append(change)
        self._redo.clear()
        self._announce(change, f"Moved {rows_text(self._items, rows, self.block_col)} to {self.territory_label(code)}{skipped}")
        return change

    def try_move(self, item_ids, territory_id) -> list[str]:
        """Move items unless the move is flagged; return its warnings (empty: the move was made).

        A move that leaves a territory in more pieces than today, or sends a block far from
        its new rep's home, is taken back at once (:meth:`undo`), and its warnings are returned.
        """
        if self.move_items(item_ids, territory_id) is None:
            return []
        warnings = list(self.alerts)
        if warnings:
            self.undo()
            self._redo.clear()
            self.can_redo = False
            self.alerts = warnings
        return warnings

    def undo(self) -> None:
        """Take back the last edit."""
        if not self._undo:
            raise PlanError("nothing to undo")
        change = self._undo.pop()
        self._apply(change.rows, change.old, change.items)
        self._redo.append(change)
        self._announce(change, f"undid: {change.note}")

    def redo(self) -> None:
        """Make the last undone edit again."""
        if not self._redo:
            raise PlanError("nothing to redo")
        change = self._redo.pop()
        self._apply(change.rows, change.new, change.items)
        self._undo.append(change)
        self._announce(change, f"redid: {change.note}")

    def _apply(self, rows: np.ndarray, new: np.ndarray, items: np.ndarray) -> None:
        old = self.codes[rows]
        values = self._values[rows]
        np.subtract.at(self._loads, old, values)
        np.add.at(self._loads, new, values)
        current = self.current_codes[rows]
        self._moved += values[new != current].sum(axis=0) - values[old != current].sum(axis=0)
        self.codes[rows] = new
        self._touched = np.union1d(old, new)
        self.item_owner[items] = self._owners(items, self.codes)
        self.pieces = self._pieces_of(self._touched, self.item_owner)

    def _announce(self, change: Change, status: str) -> None:
        self.last_change = {"territories": self._touched, "items": change.items}
        self.can_undo, self.can_redo = bool(self._undo), bool(self._redo)
        self.alerts = self._alerts_for(change)
        self.unsaved = True
        self._say(status)
        self.revision += 1

    def _alerts_for(self, change: Change) -> list[str]:
        """Warnings about one edit: territories it leaves in more pieces than today, blocks it sends far."""
        return _review.edit_alerts(self, self._touched, change.items)

    def set_locked(self, item_ids, locked: bool = True) -> None:
        """Lock (or unlock) every account of the given items; locked items refuse moves."""
        items = np.array([self.item_index(i) for i in np.atleast_1d(np.asarray(item_ids, dtype=object))], dtype=int)
        rows = np.concatenate([self._rows_of[i] for i in items]) if len(items) else np.array([], dtype=int)
        self.locked[rows] = locked
        self.item_locked[items] = locked
        self._touched = np.unique(self.item_owner[items])
        self.last_change = {"territories": self._touched, "items": items}
        self.alerts = []
        self.unsaved = True
        verb = "Locked" if locked else "Unlocked"
        self._say(f"{verb} {rows_text(self._items, rows, self.block_col)}" if len(rows) else f"{verb} nothing: no account there")
        self.revision += 1

    def pick(self, item_id) -> str:
        """Make the territory holding an item the move target; returns its id."""
        code = self.item_owner[self.item_index(item_id)]
        self.target = str(self.territories[code])
        self.alerts = []
        self._say(f"target territory: {self.territory_label(code)}; switch to Move and click blocks to move them there")
        return self.target

    # ------------------------------------------------------------------ results
    def assignments(self) -> pd.Series:
        """Edited assignments: index account_id, values territory id."""
        return pd.Series(self.labels, index=pd.Index(self.account_ids, name=ACCOUNT_ID), name=TERRITORY_ID)

    def to_plan(self):
        """The edited alignment as a :class:`workbench.plan.Plan` (see :func:`~workbench.mapview.plans.edited_plan`).

        Each step of its history names what moved: ``Moved Jackson, MO (12 accounts) from T07 (Ann Lee)
        to T12 (Bo Chan)``.
        """
        return edited_plan(self.proposed_plan, self.accounts, self.account_ids, self.labels, self.locked,
                           describe=self._describe_rows)

    def _describe_rows(self, rows: np.ndarray) -> str | None:
        return describe_rows(self._items, rows, self.block_col)
