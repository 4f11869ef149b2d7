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

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from traitlets import Bool, Enum, HasTraits, Int, List, Unicode

from workbench import present
from workbench.errors import InputError, PlanError
from workbench.geo import block_adjacency, great_circle_km
from workbench.schema import (ACCOUNT_ID, BLOCK_ID, DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, METRICS, REGION,
                              REP_NAME, TERRITORY_ID, WGS84)
from workbench.labels import labels_for_rows
from workbench.shapes import point_cells
from workbench.signoff import FAR_FROM_HOME_KM as _signoff_far_km

#: Above this many accounts (and without blocks), accounts are grouped into grid cells.
MAX_ACCOUNT_ITEMS = 2000
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


def _block_names(blocks: gpd.GeoDataFrame, block_ids: np.ndarray) -> np.ndarray:
    """A readable name per block: ``"Los Angeles, CA"`` from ``name``/``state`` columns, else the id."""
    if "name" not in blocks.columns:
        return np.asarray(block_ids, dtype=object)
    names = blocks["name"].astype(object).where(blocks["name"].notna(), "").astype(str).to_numpy(dtype=object)
    if "state" in blocks.columns:
        states = blocks["state"].astype(object).where(blocks["state"].notna(), "").astype(str).to_numpy(dtype=object)
        names = np.where(states != "", names + ", " + states, names)
    return np.where(names == "", np.asarray(block_ids, dtype=object), names).astype(object)


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
    "move 1 item(s) to 'T2'"
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
        if accounts is None:
            if not hasattr(proposed, "accounts"):
                raise InputError("plain labels need accounts=: pass the accounts frame the labels belong to")
            accounts = proposed.accounts
        if not isinstance(accounts, pd.DataFrame):
            raise TypeError(f"accounts must be a pandas DataFrame, got {type(accounts).__name__}")
        self.accounts = accounts.reset_index(drop=True)
        if ACCOUNT_ID not in self.accounts.columns:
            self.accounts[ACCOUNT_ID] = self.accounts.index.astype(str)
        self.account_ids = self.accounts[ACCOUNT_ID].astype(str).to_numpy()
        self.current_plan = current if hasattr(current, "assignments") else None
        self.proposed_plan = proposed if hasattr(proposed, "assignments") else None
        current_labels = labels_for_rows(current, self.accounts, what="current")
        proposed_labels = labels_for_rows(proposed, self.accounts, what="proposed")
        for what, values in (("current", current_labels), ("proposed", proposed_labels)):
            missing = pd.isna(values)
            if missing.any():
                raise InputError(f"{what} plan leaves accounts {self.account_ids[missing][:5].tolist()} unassigned; "
                                 "assign every account before comparing on the map")
        if metrics is None:  # what the proposal was balanced on first, then the usual metrics present
            balanced = tuple(getattr(self.proposed_plan, "balance_on", ()))
            metrics = [m for m in dict.fromkeys([*balanced, *METRICS]) if m in self.accounts]
        self.metrics = list(metrics)
        absent = [m for m in self.metrics if m not in self.accounts.columns]
        if absent:
            raise InputError(f"metric columns {absent} are not in the accounts (columns: {list(self.accounts.columns)})")
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

        locked = set()
        for plan in (self.proposed_plan,):
            if plan is not None:
                locked |= set(map(str, plan.locked_accounts))
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

    def _build_homes(self, homes) -> None:
        """Rep name and home per territory; distance of every item to every home; the far limits."""
        n = len(self.territories)
        info = self.territory_info
        lat, lon = np.full(n, np.nan), np.full(n, np.nan)
        names = np.array([""] * n, dtype=object)
        if "rep_name" in info.columns:
            names = info["rep_name"].astype(object).where(info["rep_name"].notna(), "").astype(str).to_numpy()
        if {"rep_latitude", "rep_longitude"} <= set(info.columns):
            lat, lon = info["rep_latitude"].to_numpy(dtype=float), info["rep_longitude"].to_numpy(dtype=float)
        if homes is not None:
            frame = pd.DataFrame(homes)
            frame = frame.reset_index() if frame.index.name == TERRITORY_ID else frame
            if TERRITORY_ID in frame.columns and {LATITUDE, LONGITUDE} <= set(frame.columns):
                frame = frame.drop_duplicates(TERRITORY_ID).set_index(frame[TERRITORY_ID].astype(str)[
                    ~frame[TERRITORY_ID].duplicated()].to_numpy())
                given = frame.reindex(self.territories)
                known = given[LATITUDE].notna().to_numpy()
                lat = np.where(known, pd.to_numeric(given[LATITUDE], errors="coerce").to_numpy(dtype=float), lat)
                lon = np.where(known, pd.to_numeric(given[LONGITUDE], errors="coerce").to_numpy(dtype=float), lon)
                if REP_NAME in given.columns:
                    named = given[REP_NAME].notna().to_numpy()
                    names = np.where(named, given[REP_NAME].astype(str).to_numpy(), names)
        self.rep_names = names.astype(object)
        self.home_latitude, self.home_longitude = lat, lon
        # items x territories: a few thousand by a few dozen, computed once.
        self.home_km = great_circle_km(self.item_y[:, None], self.item_x[:, None], lat[None, :], lon[None, :])
        held = np.where(np.arange(n)[None, :] == self.item_current[:, None], self.home_km, np.nan)
        with np.errstate(all="ignore"):
            farthest = np.nanmax(np.where(np.isnan(held), -np.inf, held), axis=0) if len(held) else np.zeros(n)
        self.far_limit = np.maximum(self.far_km, np.where(np.isfinite(farthest), farthest, 0.0))

    def _build_graph(self, blocks, id_col, used) -> None:
        """Block adjacency over every block (with and without accounts), as item positions."""
        self.graph = None
        if blocks is None:
            return
        graph = block_adjacency(blocks.assign(_id=blocks[id_col].astype(str)), "_id")
        position = {**{b: i for i, b in enumerate(self.item_ids)},
                    **{b: len(self.item_ids) + j for j, b in enumerate(self.empty_ids)}}
        self.graph = nx.relabel_nodes(graph, position)
        self._empty_nodes = set(range(len(self.item_ids), len(self.item_ids) + len(self.empty_ids)))

    def _build_items(self, blocks, block_col, land) -> None:
        """Items are the clickable units: blocks, single accounts, or grid cells of accounts."""
        if blocks is not None:
            if block_col is None:
                raise InputError("blocks were given without block_col; pass block_col= naming the accounts' block column")
            if block_col not in self.accounts.columns:
                raise InputError(f"accounts have no block column {block_col!r} (columns: {list(self.accounts.columns)})")
            if not isinstance(blocks, gpd.GeoDataFrame):
                raise TypeError(f"blocks must be a GeoDataFrame, got {type(blocks).__name__}")
            id_col = block_col if block_col in blocks.columns else BLOCK_ID
            if id_col not in blocks.columns:
                raise InputError(f"blocks have neither {block_col!r} nor {BLOCK_ID!r} (columns: {list(blocks.columns)})")
            blocks = blocks.to_crs(WGS84) if blocks.crs is not None and not blocks.crs.equals(WGS84) else blocks
            block_ids = blocks[id_col].astype(str).to_numpy()
            keys = self.accounts[block_col].astype(str).to_numpy()
            self.kind = "block"
            position = pd.Index(block_ids).get_indexer(keys)
            if (position < 0).any():
                bad = pd.unique(keys[position < 0])[:5].tolist()
                raise InputError(f"accounts are in {block_col} {bad} which are not among the blocks; "
                                 "pass blocks covering every account")
            used = np.bincount(position, minlength=len(block_ids)) > 0
            self.empty_geometry = np.asarray(blocks.geometry.values[~used], dtype=object)
            keep = np.flatnonzero(used)
            self.item_ids = block_ids[keep]
            self.item_geometry = np.asarray(blocks.geometry.values[keep], dtype=object)
            self.item_of_row = np.searchsorted(keep, position)
            names = _block_names(blocks, block_ids)
            self.item_names, self.empty_names = names[keep], names[~used]
            self.empty_ids = block_ids[~used].astype(str)
        else:
            lat = self.accounts[LATITUDE].to_numpy(dtype=float)
            lon = self.accounts[LONGITUDE].to_numpy(dtype=float)
            self.empty_geometry = np.array([], dtype=object)
            self.empty_ids = self.empty_names = np.array([], dtype=object)
            if len(self.accounts) <= MAX_ACCOUNT_ITEMS:
                self.kind = "account"
                self.item_ids = self.account_ids
                self.item_of_row = np.arange(len(self.accounts))
                points_lon, points_lat = lon, lat
                if "name" in self.accounts.columns:
                    self.item_names = self.accounts["name"].astype(str).to_numpy(dtype=object)
            else:
                self.kind = "cell"
                cell = 0.5
                keys = pd.Series(np.floor(lat / cell).astype(int).astype(str)) + ":" + pd.Series(
                    np.floor(lon / cell).astype(int).astype(str))
                codes, uniques = pd.factorize(keys, sort=True)
                self.item_ids = np.asarray(uniques, dtype=object)
                self.item_of_row = codes
                points_lat = np.bincount(codes, weights=lat) / np.bincount(codes)
                points_lon = np.bincount(codes, weights=lon) / np.bincount(codes)
            self.item_geometry = point_cells(points_lon, points_lat, land).to_numpy()
        self.item_ids = np.asarray(self.item_ids, dtype=object).astype(str)
        if not hasattr(self, "item_names") or len(self.item_names) != len(self.item_ids):
            self.item_names = self.item_ids.astype(object)
        self._empty_index = {item: i for i, item in enumerate(np.asarray(self.empty_ids, dtype=str))}
        self._item_index = {item: i for i, item in enumerate(self.item_ids)}
        order = np.argsort(self.item_of_row, kind="stable")
        bounds = np.searchsorted(self.item_of_row[order], np.arange(len(self.item_ids) + 1))
        self._rows_of = [order[bounds[i]:bounds[i + 1]] for i in range(len(self.item_ids))]
        self.item_count = np.diff(bounds)
        points = shapely.point_on_surface(self.item_geometry)
        self.item_x, self.item_y = shapely.get_x(points), shapely.get_y(points)
        self.item_current = self._owners(np.arange(len(self.item_ids)), self.current_codes)
        self.item_owner = self._owners(np.arange(len(self.item_ids)), self.codes)
        self._build_graph(blocks, id_col if blocks is not None else None, None)

    def _owners(self, items: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Territory code holding most accounts of each item (ties: smallest code)."""
        n = len(self.territories)
        if len(items) == 0:
            return np.array([], dtype=int)
        rows = np.concatenate([self._rows_of[i] for i in items]) if len(items) < len(self.item_ids) else np.arange(len(codes))
        keys = self.item_of_row[rows].astype(np.int64) * n + codes[rows]
        counts = pd.Series(1, index=keys).groupby(level=0).size()
        item_of_key, code_of_key = np.divmod(counts.index.to_numpy(), n)
        frame = pd.DataFrame({"item": item_of_key, "code": code_of_key, "n": counts.to_numpy()})
        frame = frame.sort_values(["item", "n", "code"], ascending=[True, False, True], kind="stable")
        best = frame.drop_duplicates("item").set_index("item")["code"]
        return np.array(best.reindex(items).to_numpy(dtype=int))

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
        rows = {}
        for side, current in (("current", True), ("proposed", False)):
            deviation = np.abs(self.deviation(current))
            array = self.current_loads_array if current else self._loads
            column = {}
            for j, metric in enumerate(self.metrics):
                column[f"max deviation {metric}"] = float(np.nanmax(deviation[:, j])) if deviation.size else 0.0
                column[f"within tolerance {metric}"] = int((deviation[:, j] <= self.tolerance + 1e-12).sum())
            column["territories"] = int((array[:, 0] > 0).sum())
            if self.graph is not None:
                pieces = self.current_pieces if current else self.pieces
                column["non-contiguous territories"] = int((pieces > 1).sum())
            column["far moves"] = 0 if current else int(self.far_items().sum())
            column["edits on the map"] = 0 if current else len(self._undo)
            column["accounts moved"] = 0 if current else int(self._moved[0])
            total = self._values.sum(axis=0)
            for j, metric in enumerate(self.metrics):
                column[f"{metric} moved"] = 0.0 if current else float(self._moved[j + 1] / total[j + 1]) if total[j + 1] else 0.0
            rows[side] = column
        return pd.DataFrame(rows)

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
        notes = []
        for code in np.flatnonzero((self.pieces > 1) & (self.pieces > self.current_pieces)):
            notes.append(f"{self.territory_label(code)} is not contiguous: {self.pieces[code]} separate pieces")
        far = np.flatnonzero(self.far_items())
        for item in far[:10]:
            owner = self.item_owner[item]
            notes.append(f"{self.item_names[item]} moved to {self.territory_label(owner)} is "
                         f"{present.km(self.home_km[item, owner])} from the rep's home")
        if len(far) > 10:
            notes.append(f"... and {len(far) - 10} more blocks moved far from their rep's home")
        return notes

    def describe_item(self, item_id, side: str = "proposed") -> dict:
        """What the tooltip shows for an item: name, territory, rep, load and deviation of its territory."""
        key = str(item_id)
        if key in self._empty_index:
            return {"name": str(self.empty_names[self._empty_index[key]]), "accounts": 0, "territory": None,
                    "text": f"{self.empty_names[self._empty_index[key]]}: no accounts (belongs to no territory)"}
        index = self.item_index(key)
        owner = (self.item_owner if side == "proposed" else self.item_current)[index]
        loads = self.current_loads_array if side == "current" else self._loads
        deviation = self.deviation(current=(side == "current"))
        parts = [f"{self.item_names[index]}", f"{self.territory_label(owner)}",
                 f"{present.integer(self.item_count[index])} accounts here"]
        for j, metric in enumerate(self.metrics[:2]):
            parts.append(f"territory {metric} {present.format_value(loads[owner, j + 1], metric)} "
                         f"({present.percent(deviation[owner, j], fraction=True, signed=True)})")
        return {"name": str(self.item_names[index]), "territory": str(self.territories[owner]),
                "rep": str(self.rep_names[owner]), "accounts": int(self.item_count[index]), "text": " · ".join(parts)}

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
                        f"move {len(items)} item(s) to {str(territory_id)!r}")
        self._apply(change.rows, change.new, change.items)
        self._undo.append(change)
        self._redo.clear()
        what = (f"{self.item_names[change.items[0]]}" if len(change.items) == 1 and self.kind != "cell"
                else f"{len(change.items)} {self.kind}s")
        self._announce(change, f"moved {len(rows)} account(s) in {len(change.items)} {self.kind}(s) to "
                               f"{territory_id}{skipped}: {what} now with {self.territory_label(code)}")
        return change

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
        notes = []
        for code in self._touched:
            if self.pieces[code] > 1 and self.pieces[code] > self.current_pieces[code]:
                notes.append(f"{self.territory_label(code)} is no longer contiguous: {self.pieces[code]} pieces")
        far = self.far_items()
        for item in change.items[far[change.items]][:5]:
            owner = self.item_owner[item]
            notes.append(f"{self.item_names[item]} is {present.km(self.home_km[item, owner])} from the home of "
                         f"{self.territory_label(owner)}'s rep (far: over {present.km(self.far_limit[owner])})")
        return notes

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
        self._say(f"{'locked' if locked else 'unlocked'} {len(rows)} account(s) in {len(items)} {self.kind}(s)")
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
        """The edited alignment as a :class:`workbench.plan.Plan`.

        From a proposed Plan, the edits are applied as reassignments (one per
        target territory) and lock changes, so the result's parent chain leads
        back to it. From plain labels, a new draft plan is made.
        """
        from workbench.plan import Plan

        locked_ids = set(self.account_ids[self.locked])
        if self.proposed_plan is None:
            return Plan.from_labels(self.accounts, self.labels, method="manual edit", name="edited",
                                    locked=sorted(locked_ids))
        plan = self.proposed_plan
        before = pd.Series(plan.labels_for(self.accounts), index=self.account_ids).astype(str).to_numpy()
        was_locked = set(map(str, plan.locked_accounts))
        if was_locked - locked_ids:
            plan = plan.unlock(sorted(was_locked - locked_ids))
        changed = before != self.labels.astype(str)
        for territory in pd.unique(self.labels[changed]):
            plan = plan.reassign(self.account_ids[changed & (self.labels == territory)].tolist(), str(territory))
        if locked_ids - was_locked:
            plan = plan.lock(sorted(locked_ids - was_locked))
        return plan
