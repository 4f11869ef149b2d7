"""Contiguous realignment: today's territories of whole blocks back within tolerance, each still connected.

:class:`ContiguousRealignment` is :class:`~workbench.align.realign.Realignment`
for territories made of blocks (counties, ZIP areas). Blocks start in the
territory most of their workload is in today; then, in rounds:

1. the compact-realignment program of :mod:`workbench.align._transfer` on
   the blocks (each block may join a territory one of its queen neighbours
   is in; blocks of a closing territory their nearest open centres), pricing
   moved workload (``move_penalty_km``) and distance to the centres;
2. connectivity: a piece of a territory cut off from its main part goes to
   the bordering territory it came from, else the lightest bordering one;
3. the centres follow their blocks.

If the rounds end outside the tolerance (lumpy blocks), the contiguous local
search of :func:`workbench.align._partition.partition` finishes from there,
preferring each block's current territory. Locked accounts keep their
current territory as account-level exceptions while their block may move;
their load counts where they stay.

The report gives both lower bounds; the bordering one uses queen adjacency
of the blocks (two territories border when two of their blocks touch).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from workbench.align import _balance, _blocks, _transfer, bounds as _bounds, headcount
from workbench.align._partition import is_contiguous, partition
from workbench.align.base import (
    TerritoryEstimator, balance_columns, check_accounts, check_tolerance, lock_mask, metric_shares, unit_centres,
)
from workbench.align.realign import PENALTY_SHARE
from workbench.align.report import ToleranceWarning
from workbench.errors import InputError
from workbench.geo import EARTH_RADIUS_KM
from workbench.labels import fill_from_neighbours
from workbench.schema import COUNTY_FIPS, CURRENT_TERRITORY, DEFAULT_TOLERANCE, WORKLOAD

#: Share of the tolerance the block flows aim at: whole blocks overshoot their share, so aim inside it.
_INSIDE = 0.9

#: Rounds of bordering flows carried out with whole blocks.
_ROUNDS = 8
#: Rounds of re-joining cut-off pieces to a neighbouring territory: each round joins every piece
#: at once, so a handful suffice; the bound only stops a pathological graph.
REJOIN_ROUNDS = 50


class ContiguousRealignment(TerritoryEstimator):
    """Realign territories made of whole blocks: within tolerance, each connected, moving little.

    Parameters
    ----------
    n_territories : int, optional
        Territories wanted; default today's count (less ``close``). New ones
        open where the excess is (ids continue the current scheme).
    close : list of str, optional
        Current territories to close.
    balance_on : str or sequence of str, default ("workload",)
    tolerance : float, default 0.05
    block_col : str, default "county_fips"
    current_col : str, default "current_territory"
    lock_col : str, optional
        Locked accounts keep their current territory (as exceptions to their block).
    locked_territories : sequence of str, optional
        Territories none of whose blocks move in or out.
    adjacency : networkx.Graph, optional
        Prebuilt block graph; default queen adjacency of ``blocks``.
    max_moved_share : float, optional
        Disruption budget (share of the first metric), kept exactly.
    move_penalty_km : float, optional
        Km one unit of moved workload is worth; default three times the
        current compactness.
    max_iter : int, default 2000
        Rounds of the contiguous local search, when it has to finish.
    random_state : int, optional
    progress : bool, default False

    Examples
    --------
    A 4 x 2 strip of unit squares, today 6 blocks in ``A`` and 2 in ``B``:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = [(x, y) for x in range(4) for y in range(2)]
    >>> blocks = gpd.GeoDataFrame({"block_id": [f"{x}{y}" for x, y in cells]},
    ...                           geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"account_id": blocks["block_id"], "county_fips": blocks["block_id"],
    ...                          "latitude": [y + 0.5 for _, y in cells], "longitude": [x + 0.5 for x, _ in cells],
    ...                          "workload": 1.0, "current_territory": ["A"] * 6 + ["B"] * 2})
    >>> model = ContiguousRealignment().fit(accounts, blocks=blocks)
    >>> model.labels_.tolist(), model.report_.contiguous
    (['A', 'A', 'A', 'A', 'B', 'B', 'B', 'B'], True)
    """

    _method = "contiguous_realignment"

    def __init__(self, n_territories=None, *, close=None, balance_on=(WORKLOAD,), tolerance=DEFAULT_TOLERANCE,
                 block_col=COUNTY_FIPS, current_col=CURRENT_TERRITORY, lock_col=None, locked_territories=(),
                 adjacency=None, max_moved_share=None, move_penalty_km=None, max_iter=2000, random_state=None,
                 progress=False):
        self.n_territories = n_territories
        self.close = close
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.block_col = block_col
        self.current_col = current_col
        self.lock_col = lock_col
        self.locked_territories = locked_territories
        self.adjacency = adjacency
        self.max_moved_share = max_moved_share
        self.move_penalty_km = move_penalty_km
        self.max_iter = max_iter
        self.random_state = random_state
        self.progress = progress

    def fit(self, accounts, y=None, *, blocks=None):
        """Realign ``accounts`` (with ``block_col`` and ``current_col``) over ``blocks``; return self."""
        start = time.perf_counter()
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on, lock_col=self.lock_col, current_col=self.current_col)
        budget = _transfer.check_budget(self.max_moved_share)
        bg, acc_block, acc_xyz = _blocks.accounts_on_blocks(accounts, blocks, self.adjacency, self.block_col)
        n_b = len(bg.ids)
        shares = metric_shares(accounts, balance_on)
        notes = list(bg.notes)

        # Territories today, closures and openings.
        found = np.unique(accounts[self.current_col].astype(str).to_numpy())
        close = headcount.check_close(self.close, found)
        ids = found.astype(object)
        acc_current = pd.Index(found).get_indexer(accounts[self.current_col].astype(str).to_numpy())
        locked_t = [str(t) for t in (self.locked_territories or ())]
        unknown = [t for t in locked_t if t not in set(found)]
        if unknown:
            raise InputError(f"locked_territories {unknown[:5]} are not current territories")
        locked = lock_mask(accounts, self.lock_col)
        weight = shares.mean(axis=1)
        block_w = np.zeros((n_b, shares.shape[1]))
        np.add.at(block_w, acc_block[~locked], shares[~locked])
        block_weight = block_w.mean(axis=1)
        current_b = _majority(acc_block, acc_current, weight, n_b, bg.edges)
        n_cur = len(ids)
        closed = np.isin(ids.astype(str), close)
        frozen = np.isin(ids.astype(str), locked_t)
        wanted = headcount.check_n_territories(self.n_territories, n_cur - len(close), len(bg.ids))
        load = np.bincount(acc_current, weights=weight, minlength=n_cur)
        adjacency = _bounds.block_territory_graph(bg.edges, current_b, n_cur)
        centres = unit_centres(bg.xyz, current_b, block_weight + 1e-12, n_cur)
        if wanted < n_cur - closed.sum():
            def band(is_open, factor):
                return np.where(is_open & ~closed, factor / max((is_open & ~closed).sum(), 1), 0.0)

            picked = headcount.closures_that_disrupt_least(
                load, lambda o: band(o, 1 - tolerance), lambda o: band(o, 1 + tolerance), adjacency,
                int(n_cur - closed.sum() - wanted), allowed=~closed & ~frozen)
            closed[picked] = True
        if (closed & frozen).any():
            raise InputError(f"territories {ids[closed & frozen].tolist()[:5]} are locked and cannot close")
        n_open = int(wanted - (n_cur - closed.sum()))
        targets = np.where(closed, 0.0, 1.0 / wanted)
        opened = []
        labels_b = current_b.copy()
        if n_open > 0:
            opened = headcount.new_territory_ids(ids, n_open)
            seeds = headcount.opening_seeds(bg.xyz, current_b, load, targets, adjacency, centres, n_open)
            ids = np.r_[ids, np.asarray(opened, dtype=object)]
            targets = np.r_[targets, np.full(n_open, 1.0 / wanted)]
            closed = np.r_[closed, np.zeros(n_open, dtype=bool)]
            frozen = np.r_[frozen, np.zeros(n_open, dtype=bool)]
            centres = np.vstack([centres, seeds])
            for j, seed in enumerate(seeds):  # the new territory starts as the block at its seed
                free = np.flatnonzero(~frozen[labels_b] & (np.bincount(labels_b, minlength=len(ids))[labels_b] > 1))
                block = free[np.argmin(np.linalg.norm(bg.xyz[free] - seed, axis=1))]
                labels_b[block] = n_cur + j
        n_t = len(ids)
        fixed_b = frozen[current_b]
        base = np.zeros((n_t, shares.shape[1]))
        np.add.at(base, acc_current[locked], shares[locked])
        if (locked & closed[acc_current]).any():
            rows = accounts.index[locked & closed[acc_current]][:5].tolist()
            raise InputError(f"locked accounts (rows {rows}) are in closing territories; unlock them "
                             f"(column {self.lock_col!r}) or keep those territories")

        # Bounds: account loads today, queen adjacency of blocks (a new territory borders the one it starts in).
        adjacency = _bounds.block_territory_graph(bg.edges, labels_b, n_t) | _grow(adjacency, n_t)
        acc_loads = _balance.loads_of(acc_current, shares, n_t)
        _, low, high = _balance.bounds(targets, shares.shape[1], tolerance)
        low[frozen], high[frozen] = acc_loads[frozen], acc_loads[frozen]
        plain, bordering, _ = _bounds.realignment_bounds(acc_loads, low, high, adjacency)

        def km(rows, territories):
            return EARTH_RADIUS_KM * np.linalg.norm(bg.xyz[rows] - centres[territories], axis=-1)

        penalty = _transfer.check_penalty(self.move_penalty_km)
        if penalty is None:
            penalty = PENALTY_SHARE * float((block_weight * km(np.arange(n_b), current_b)).sum()
                                            / max(block_weight.sum(), 1e-300))
        spend = _Budget(accounts_blocks=acc_block[~locked], accounts_current=acc_current[~locked],
                        share=shares[~locked, 0], labels=labels_b, n_b=n_b,
                        budget=None if budget is None else max(budget, float(shares[closed[acc_current], 0].sum())))
        # Bordering flows (a little inside the tolerance, room for lumpy blocks), carried out block by block,
        # recomputed from the moved plan until they are spent.
        rounds = 0
        for rounds in range(1, _ROUNDS + 1):
            loads_now = _balance.loads_of(labels_b, block_w, n_t) + base
            _, f_low, f_high = _balance.bounds(targets, shares.shape[1], tolerance * _INSIDE)
            f_low[frozen], f_high[frozen] = loads_now[frozen], loads_now[frozen]
            adjacency = _bounds.block_territory_graph(bg.edges, labels_b, n_t)
            _bounds.bridge_islands(adjacency, centres, present=np.bincount(labels_b, minlength=n_t) > 0)
            _, flows = _bounds.bordering_lower_bound(loads_now, f_low, f_high, adjacency, return_flows=True)
            flows /= shares.shape[1]
            if flows.sum() <= 1e-9:
                break
            moved_to = flow_moves(labels_b, bg.edges, block_weight, flows, km, fixed_b, closed, spend.take)
            if np.array_equal(moved_to, labels_b):
                break
            labels_b = moved_to
        labels_b = fit_moves(labels_b, bg.edges, block_w, base, targets, tolerance, km, fixed_b, frozen | closed,
                             spend=spend.take)
        labels_b = empty_closed(labels_b, bg.edges, block_weight, targets, closed)
        labels_b = connect(labels_b, bg.edges, block_weight, current_b, targets, n_t, fixed_b)
        centres = unit_centres(bg.xyz, labels_b, block_weight + 1e-12, n_t, previous=centres)
        excess = _transfer._excess(labels_b, block_w, targets, tolerance, frozen, base)
        if excess > 0 and not locked.any() and budget is None:
            # Lumpy blocks: the contiguous local search finishes, preferring today's territories.
            open_ = np.flatnonzero(~closed)
            index = np.full(n_t, -1)
            index[open_] = np.arange(len(open_))
            scale = 1.0 / np.maximum(targets[open_], 1e-12)
            if np.allclose(scale, scale[0]) and (index[labels_b] >= 0).all():
                finish = partition(len(open_), bg.edges, block_w * scale[0], bg.xyz, tolerance=tolerance,
                                   initial=index[labels_b], fixed=fixed_b,
                                   frozen_parts=np.flatnonzero(frozen[open_]).tolist(), max_iter=self.max_iter,
                                   preferred=np.where(index[current_b] >= 0, index[current_b], -1), polish=False,
                                   random_state=self.random_state)
                labels_b = open_[finish.labels]
                rounds += finish.n_iter
                excess = _transfer._excess(labels_b, block_w, targets, tolerance, frozen, base)
        label_idx = labels_b[acc_block]
        label_idx[locked] = acc_current[locked]
        contiguous = is_contiguous(n_b, bg.edges, labels_b)
        if not contiguous:
            notes.append("some territories are not connected: locked territories are split today; unlock them "
                         "to allow a contiguous plan")
        if locked.any():
            exceptions = int((label_idx[locked] != labels_b[acc_block][locked]).sum())
            if exceptions:
                notes.append(f"{exceptions:,} locked accounts stay in their current territory as exceptions to "
                             "their block's territory")
        open_ = np.flatnonzero(~closed)
        index = np.full(n_t, -1)
        index[open_] = np.arange(len(open_))
        if (index[label_idx] < 0).any() or (index[labels_b] < 0).any():
            notes.append("some blocks could not leave a closing territory (no open territory borders them)")
            nearest = open_[np.argmin(np.linalg.norm(bg.xyz[:, None] - centres[open_][None], axis=2), axis=1)]
            labels_b = np.where(closed[labels_b], nearest, labels_b)
            label_idx = np.where(closed[label_idx], labels_b[acc_block], label_idx)
        acc_centres = unit_centres(acc_xyz, label_idx, weight, n_t, previous=centres)
        self.block_labels_ = pd.Series(ids[labels_b], index=pd.Index(bg.ids, name="block_id"), name="territory_id")
        self.adjacency_ = bg.graph
        self._set_results(
            accounts, index[label_idx], ids[open_], acc_centres[open_], balance_on=balance_on, tolerance=tolerance,
            current=ids[acc_current].astype(str), lower_bound_share=plain, n_iter=rounds,
            converged=excess <= 0, seconds=time.perf_counter() - start, contiguous=contiguous,
            extra_warnings=notes)
        notes = list(self.report_.warnings)
        if budget is not None and not self.report_.within_tolerance:
            notes.append(f"disruption budget {budget:.1%} of {balance_on[0]} kept (moved "
                         f"{self.report_.moved_share:.1%}); reaching {tolerance:.1%} needs at least "
                         f"{bordering:.1%} moved between bordering territories")
            warnings.warn(notes[-1], ToleranceWarning, stacklevel=2)
        self.move_penalty_km_ = float(penalty)
        self.opened_ = tuple(opened)
        self.closed_ = tuple(str(c) for c in ids[closed])
        self.report_ = replace(self.report_, warnings=tuple(notes), bordering_lower_bound_share=bordering,
                               opened=self.opened_, closed=self.closed_)
        return self

    def predict(self, new_accounts, distance=None):
        """Territory of new accounts: the territory of their block."""
        position = _blocks.account_blocks(new_accounts, self.block_col, self.block_labels_.index.to_numpy())
        return self.block_labels_.to_numpy()[position]


class _Budget:
    """Books block moves against a disruption budget (share of the first metric of accounts that change)."""

    def __init__(self, *, accounts_blocks, accounts_current, share, labels, n_b, budget):
        frame = pd.DataFrame({"b": accounts_blocks, "t": accounts_current, "w": share})
        self.own = frame.groupby(["b", "t"])["w"].sum().to_dict()
        self.total = np.bincount(accounts_blocks, weights=share, minlength=n_b)
        self.budget = budget
        self.spent = float(sum(self.total[b] - self.own.get((b, labels[b]), 0.0) for b in range(n_b)))

    def take(self, block, to, came_from) -> bool:
        delta = self.own.get((block, came_from), 0.0) - self.own.get((block, to), 0.0)
        if self.budget is not None and self.spent + delta > self.budget + 1e-12:
            return False
        self.spent += delta
        return True


def _grow(adjacency, n):
    out = np.zeros((n, n), dtype=bool)
    out[:len(adjacency), :len(adjacency)] = adjacency
    return out


def _majority(acc_block, acc_current, weight, n_b, edges):
    """Territory per block: where most of its workload is today; blocks without accounts from neighbours."""
    votes = pd.DataFrame({"block": acc_block, "t": acc_current, "w": weight + 1e-9})
    table = votes.groupby(["block", "t"])["w"].sum().reset_index()
    table = table.sort_values(["block", "w", "t"], ascending=[True, False, True], kind="stable")
    best = table.drop_duplicates("block")
    labels = np.full(n_b, -1)
    labels[best["block"].to_numpy()] = best["t"].to_numpy()
    labels = fill_from_neighbours(labels, edges, missing=labels < 0)
    labels[labels < 0] = 0  # a block no territory reaches at all (cannot happen once pieces are bridged)
    return labels


def flow_moves(labels, edges, weight, flows, km, fixed, closed, spend=None):
    """Carry out territory-to-territory ``flows`` with whole boundary blocks, keeping every donor connected.

    For each flow ``s -> t`` (largest first), blocks of ``s`` touching ``t``
    move one at a time, the one whose distance to the centre grows least
    first, while the flow still needs at least half the block; a block whose
    departure would split ``s`` stays (closing territories may split: they
    empty anyway). ``spend(block, territory)`` (optional) returns False
    when a disruption budget forbids that move, and books it otherwise.
    """
    import networkx as nx

    labels = labels.copy()
    graph = nx.Graph()
    graph.add_nodes_from(range(len(labels)))
    graph.add_edges_from(map(tuple, np.asarray(edges).reshape(-1, 2)))
    order = np.dstack(np.unravel_index(np.argsort(-flows, axis=None), flows.shape))[0]
    for s, t in order:
        need = float(flows[s, t])
        if need <= 1e-12:
            break
        while need > 1e-12:
            members = np.flatnonzero(labels == s)
            if members.size <= 1:
                break
            touching = [b for b in members if not fixed[b] and any(labels[n] == t for n in graph[b])]
            if not touching:
                break
            cut = set() if closed[s] else set(nx.articulation_points(graph.subgraph(members)))
            touching = np.array([b for b in touching if b not in cut and weight[b] <= 2 * need + 1e-15])
            if touching.size == 0:
                break
            grow = km(touching, np.full(len(touching), t)) - km(touching, np.full(len(touching), s))
            block = int(touching[np.argmin(grow)])
            if spend is not None and not spend(block, t, labels[block]):
                break
            labels[block] = t
            need -= float(weight[block])
    return labels


def fit_moves(labels, edges, shares, base, targets, tolerance, km, fixed, frozen, max_moves=None, spend=None):
    """Single boundary blocks out of territories beyond a bound, to bordering ones with room, never splitting.

    A territory over its upper bound gives the block (touching a bordering
    territory, not an articulation point) whose move keeps the receiver
    within its upper bound and itself at or above its lower bound, smallest
    distance growth first; a territory under its lower bound takes such a
    block from a bordering territory that can spare it. Repeated until no
    territory is out of bounds or no such move exists.
    """
    import networkx as nx

    labels = labels.copy()
    n_t = len(targets)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(labels)))
    graph.add_edges_from(map(tuple, np.asarray(edges).reshape(-1, 2)))
    target = np.asarray(targets, dtype=float)[:, None]
    low, high = target * (1 - tolerance), target * (1 + tolerance)
    for _ in range(max_moves or len(labels)):
        load = _balance.loads_of(labels, shares, n_t) + base
        over = np.flatnonzero(((load > high + 1e-12).any(axis=1)) & ~frozen)
        under = np.flatnonzero(((load < low - 1e-12).any(axis=1)) & ~frozen)
        if over.size == 0 and under.size == 0:
            break
        best = None
        for s in over:
            members = np.flatnonzero(labels == s)
            cut = set(nx.articulation_points(graph.subgraph(members))) if members.size > 2 else set(members)
            for b in members:
                if fixed[b] or b in cut:
                    continue
                for t in {labels[n] for n in graph[b]} - {s}:
                    if frozen[t] or (load[t] + shares[b] > high[t] + 1e-12).any() \
                            or (load[s] - shares[b] < low[s] - 1e-12).any():
                        continue
                    grow = float(km(np.array([b]), np.array([t]))[0] - km(np.array([b]), np.array([s]))[0])
                    if best is None or grow < best[0]:
                        best = (grow, b, t)
        for t in under if best is None else ():
            members = np.flatnonzero(labels == t)
            border = {n for b in members for n in graph[b] if labels[n] != t}
            for b in border:
                s = labels[b]
                if fixed[b] or frozen[s] or (load[s] - shares[b] < low[s] - 1e-12).any() \
                        or (load[t] + shares[b] > high[t] + 1e-12).any():
                    continue
                rest = np.flatnonzero(labels == s)
                if rest.size <= 1 or b in set(nx.articulation_points(graph.subgraph(rest))):
                    continue
                grow = float(km(np.array([b]), np.array([t]))[0] - km(np.array([b]), np.array([s]))[0])
                if best is None or grow < best[0]:
                    best = (grow, b, t)
        if best is None or (spend is not None and not spend(best[1], best[2], labels[best[1]])):
            break
        labels[best[1]] = best[2]
    return labels


def empty_closed(labels, edges, weight, targets, closed):
    """Blocks still in a closing territory go, border first, to the lightest bordering open territory."""
    labels = labels.copy()
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    src, dst = np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]
    n_t = len(targets)
    for _ in range(len(labels)):
        left = closed[labels]
        if not left.any():
            break
        step = left[src] & ~closed[labels[dst]]
        if not step.any():
            break
        load = np.bincount(labels, weights=weight, minlength=n_t) / np.maximum(targets, 1e-12)
        frame = pd.DataFrame({"block": src[step], "t": labels[dst[step]], "load": load[labels[dst[step]]]})
        pick = frame.sort_values(["block", "load"], kind="stable").drop_duplicates("block")
        labels[pick["block"].to_numpy()] = pick["t"].to_numpy()
    return labels


def connect(labels, edges, weight, origin, targets, n_t, fixed):
    """Give every piece of a territory cut off from its main (heaviest) part to a bordering territory.

    The piece goes back to the territory its blocks came from when that one
    borders it, else to the bordering territory lightest against its target;
    repeated until every territory is one piece (or nothing can change).

    Examples
    --------
    A line of five blocks where territory 0 holds both ends:

    >>> connect(np.array([0, 1, 1, 1, 0]), np.array([[0, 1], [1, 2], [2, 3], [3, 4]]), np.ones(5),
    ...         np.array([0, 1, 1, 1, 1]), np.array([0.5, 0.5]), 2, np.zeros(5, bool)).tolist()
    [0, 1, 1, 1, 1]
    """
    labels = labels.copy()
    n = len(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    for _ in range(REJOIN_ROUNDS):
        same = labels[edges[:, 0]] == labels[edges[:, 1]]
        graph = sparse.coo_matrix((np.ones(int(same.sum())), (edges[same, 0], edges[same, 1])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        frame = pd.DataFrame({"comp": comp, "t": labels, "w": weight + 1e-12})
        size = frame.groupby("comp").agg(t=("t", "first"), w=("w", "sum"))
        main = size.sort_values("w", ascending=False, kind="stable").drop_duplicates("t").index
        pieces = size.index.difference(main)
        if len(pieces) == 0:
            return labels
        load = np.bincount(labels, weights=weight, minlength=n_t)
        changed = False
        for piece in pieces:
            members = np.flatnonzero(comp == piece)
            if fixed[members].any():
                continue
            inside = np.isin(edges, members)
            cross = inside[:, 0] ^ inside[:, 1]
            outside = np.where(inside[cross, 0], edges[cross, 1], edges[cross, 0])
            options = np.unique(labels[outside])
            options = options[options != labels[members[0]]]
            if options.size == 0:
                continue
            came = np.bincount(origin[members], weights=weight[members] + 1e-12, minlength=n_t)
            back = [t for t in np.argsort(-came) if came[t] > 0 and t in options]
            choice = back[0] if back else options[np.argmin(load[options] / np.maximum(targets[options], 1e-12))]
            labels[members] = choice
            load = np.bincount(labels, weights=weight, minlength=n_t)
            changed = True
        if not changed:
            return labels
    return labels
