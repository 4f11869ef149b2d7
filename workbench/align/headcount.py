"""Headcount changes in a realignment: which territories open, which close, and their ids.

* :func:`new_territory_ids` — ids for opened territories that follow the
  current scheme: ``T01..T40`` gives ``T41, T42``; ``EAST-7, EAST-9`` gives
  ``EAST-10``; ids without a common ``prefix + number`` scheme get
  ``NEW1, NEW2``... (never an id already in use).
* :func:`opening_seeds` — where new territories start: in the most
  overloaded territory (counting half the excess of its overloaded
  neighbours), at the account nearest the excess-weighted middle of that
  group, so the new territory absorbs load from the overloaded ones around it.
* :func:`closures_that_disrupt_least` — which territories to close when
  fewer are wanted: one at a time, the closure whose realignment has the
  smallest bordering lower bound (its whole load must move to bordering
  territories, and the rest must come back within tolerance).
* :func:`opening_adjacency` — the borders of new territories, for the
  bordering lower bound and the moves into them.
* :func:`closing_adjacency` — the borders once territories close: the
  territories around a closing one border each other through it.
* :func:`rep_territories` — with a reps file: new hires and closures;
  :func:`rep_headcount` lays them out with today's territories first.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from workbench.align.bounds import bordering_lower_bound
from workbench.align.reps import rep_sites
from workbench.errors import InputError
from workbench.schema import CAPACITY_HOURS, TERRITORY_ID

_SCHEME = re.compile(r"^(.*?)(\d+)$")


def new_territory_ids(existing, n: int) -> list[str]:
    """``n`` new ids continuing the numbering of ``existing`` (zero padding kept).

    Examples
    --------
    >>> new_territory_ids(["T01", "T02", "T40"], 2)
    ['T41', 'T42']
    >>> new_territory_ids(["EAST-7", "EAST-9"], 1)
    ['EAST-10']
    >>> new_territory_ids(["north", "south"], 2)
    ['NEW1', 'NEW2']
    """
    existing = [str(e) for e in existing]
    taken = set(existing)
    matches = [_SCHEME.match(e) for e in existing]
    prefixes = {m.group(1) for m in matches if m}
    out = []
    if existing and all(matches) and len(prefixes) == 1:
        prefix = prefixes.pop()
        digits = [m.group(2) for m in matches]
        width = len(digits[0]) if len({len(d) for d in digits}) == 1 and digits[0].startswith("0") else 0
        number = max(int(d) for d in digits)
        while len(out) < n:
            number += 1
            candidate = f"{prefix}{number:0{width}d}"
            if candidate not in taken:
                out.append(candidate)
        return out
    number = 0
    while len(out) < n:
        number += 1
        if f"NEW{number}" not in taken:
            out.append(f"NEW{number}")
    return out


def opening_seeds(xyz, labels, load, target, adjacency, centres, n_open: int) -> np.ndarray:
    """Positions (unit vectors) of ``n_open`` new territories, placed where the excess is.

    Parameters
    ----------
    xyz : (n, 3) array
        Account positions.
    labels : (n,) int array
        Current territory per account.
    load : (t,) array
        Current load share per territory.
    target : float or (t,) array
        Load share each territory should hold once the new ones exist.
    adjacency : (t, t) bool array
        Bordering territories.
    centres : (t, 3) array
        Current territory centres.
    n_open : int

    Returns
    -------
    (n_open, 3) array
        The position of an account for each new territory.
    """
    excess = np.asarray(load, dtype=float) - np.broadcast_to(np.asarray(target, dtype=float), load.shape)
    per_new = float(np.mean(target))
    seeds = []
    for _ in range(n_open):
        over = np.maximum(excess, 0)
        score = over + 0.5 * (adjacency.astype(float) @ over)
        score[np.bincount(labels, minlength=len(load)) == 0] = -np.inf
        hub = int(np.argmax(score))
        group = np.r_[hub, np.flatnonzero(adjacency[hub] & (over > 0))]
        w = np.maximum(over[group], 1e-12)
        w[0] += 1e-9
        middle = (centres[group] * w[:, None]).sum(axis=0)
        middle /= max(np.linalg.norm(middle), 1e-12)
        members = np.flatnonzero(labels == hub)
        seed = xyz[members[np.argmin(np.linalg.norm(xyz[members] - middle, axis=1))]]
        seeds.append(seed)
        # The new territory absorbs one target's worth, from the group in proportion to its excess.
        take = per_new * w / w.sum()
        excess[group] -= take
    return np.asarray(seeds).reshape(n_open, 3)


def opening_adjacency(adjacency, new, hubs) -> np.ndarray:
    """The graph of bordering territories once new ones open: each borders its seed's territory and that one's neighbours.

    A new territory has no accounts yet, so no border of its own; it is
    seeded inside a territory of today (``hubs``: for a new hire, the
    territory holding the account nearest the rep's home), and may take
    accounts from that territory and from every territory bordering it.
    The bordering lower bound of a realignment with openings is the flow
    on this graph, and the realignment moves accounts into a new territory
    only from those territories, so the bound never exceeds what moves.

    Parameters
    ----------
    adjacency : (t, t) bool array
        Bordering territories (new ones included, still without edges).
    new : sequence of int
        Indices of the new territories.
    hubs : sequence of int
        Territory of today each new one is seeded in.

    Examples
    --------
    A line 0 - 1 - 2 - 3 and a new territory 4 seeded in 1:

    >>> line = np.eye(5, k=1, dtype=bool) | np.eye(5, k=-1, dtype=bool)
    >>> line[3, 4] = line[4, 3] = False
    >>> np.flatnonzero(opening_adjacency(line, [4], [1])[4]).tolist()
    [0, 1, 2]
    """
    out = np.array(adjacency, dtype=bool, copy=True)
    today = out.copy()
    for j, hub in zip(new, hubs):
        around = today[hub].copy()
        around[hub] = True
        around[j] = False
        out[j] |= around
        out[:, j] |= around
    return out


def closing_adjacency(adjacency, closing) -> np.ndarray:
    """The graph of bordering territories once ``closing`` close: the open territories around each closing one
    (or around a group of bordering closing ones) border each other.

    A closing territory's accounts go to the territories around it, so
    they meet where it was: after the closure a territory may take accounts
    from any other territory that bordered the closed one. Without these
    edges a region whose only way out was the closing territory (the West of
    the sample once El Paso's T05 closes) could shed no load at all. The
    bordering lower bound and the realignment's moves use this one graph, so
    the bound never exceeds what moves. Edges to the closing territories
    are kept (their accounts leave across them).

    Parameters
    ----------
    adjacency : (t, t) bool array
    closing : (t,) bool array or sequence of int
        The closing territories (a mask or their indices).

    Examples
    --------
    A line 0 - 1 - 2 - 3 - 4 in which 1 and 2 close: 0 and 3 now border.

    >>> line = np.eye(5, k=1, dtype=bool) | np.eye(5, k=-1, dtype=bool)
    >>> out = closing_adjacency(line, [1, 2])
    >>> np.flatnonzero(out[0]).tolist(), np.flatnonzero(out[3]).tolist()
    ([1, 3], [0, 2, 4])
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    out = np.array(adjacency, dtype=bool, copy=True)
    closing = np.asarray(closing)
    is_closing = closing.astype(bool) if closing.dtype == bool else np.isin(np.arange(len(out)), closing)
    if not is_closing.any():
        return out
    idx = np.flatnonzero(is_closing)
    _, group = connected_components(csr_matrix(out[np.ix_(idx, idx)]), directed=False)
    for g in np.unique(group):
        around = out[idx[group == g]].any(axis=0) & ~is_closing
        out[np.ix_(around, around)] = True
    np.fill_diagonal(out, np.asarray(adjacency).diagonal())
    return out


def closures_that_disrupt_least(load, low, high, adjacency, n_close: int, *, allowed) -> list[int]:
    """Indices of the ``n_close`` territories whose closure needs the least bordering movement.

    Closing territory ``c`` forces its whole load across its borders (its
    bounds become 0) and raises every other territory's target; the
    territory whose closure has the smallest bordering lower bound goes
    first, then the next given that one, and so on.

    Parameters
    ----------
    load : (t,) array
        Current load share per territory.
    low, high : callables
        ``low(open_mask)``, ``high(open_mask)`` -> (t,) bounds once only the
        ``open_mask`` territories remain.
    adjacency : (t, t) bool array
    n_close : int
    allowed : (t,) bool array
        Territories that may close (not locked ones).

    Examples
    --------
    Four territories on a line, the third one light: closing it costs least.

    >>> line = np.eye(4, k=1, dtype=bool) | np.eye(4, k=-1, dtype=bool)
    >>> load = np.array([0.3, 0.3, 0.1, 0.3])
    >>> bounds = lambda is_open: np.where(is_open, 1 / is_open.sum(), 0.0)
    >>> closures_that_disrupt_least(load, bounds, bounds, line, 1, allowed=np.ones(4, bool))
    [2]
    """
    is_open = np.ones(len(load), dtype=bool)
    chosen = []
    for _ in range(n_close):
        best, best_cost = None, np.inf
        for c in np.flatnonzero(is_open & allowed):
            trial = is_open.copy()
            trial[c] = False
            graph = closing_adjacency(adjacency, ~trial)
            cost = bordering_lower_bound(load, low(trial), high(trial), graph)[0]
            if cost < best_cost - 1e-12:
                best, best_cost = int(c), cost
        if best is None:
            raise InputError(f"cannot close {n_close} territories: only {len(chosen)} may close (the others are "
                             "locked); unlock territories or ask for more territories")
        is_open[best] = False
        chosen.append(best)
    return chosen


def served_reps(reps, found, capacity_col: str = CAPACITY_HOURS):
    """``reps`` with each new hire's ``territory_id`` filled in: the id a realignment opens for that rep.

    A reps file for a realignment leaves a new hire's ``territory_id``
    blank; :class:`~workbench.align.Realignment` names the new territory
    after the current scheme (:func:`new_territory_ids`, in the order of the
    file). Comparing or exporting the plan with the same file must match
    the hire to that territory, or balance would be measured against the
    plain mean there. Files whose every rep has a territory, or that name
    territories by rep id, come back unchanged.

    Parameters
    ----------
    reps : pandas.DataFrame
    found : sequence of str
        The current territory ids.
    capacity_col : str, default "capacity_hours"

    Examples
    --------
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2", "R9"], "territory_id": ["T01", "T02", None],
    ...                      "latitude": [40.0, 41.0, 42.0], "longitude": [-100.0, -101.0, -102.0]})
    >>> served_reps(reps, ["T01", "T02", "T03"])["territory_id"].tolist()
    ['T01', 'T02', 'T04']
    """
    if TERRITORY_ID not in reps.columns:
        return reps
    column = reps[TERRITORY_ID].astype("string").str.strip()
    if not (column.isna() | (column == "")).any():
        return reps
    found = sorted({str(t) for t in found})
    ids = rep_territories(reps, capacity_col, found, (), None)[0]
    return reps.assign(**{TERRITORY_ID: np.asarray(ids[:len(reps)], dtype=object)})


def rep_territories(reps, capacity_col, found, close, n_territories):
    """Territory of each rep (current ones kept, new hires get new ids), homes, targets, closures, openings.

    A rep's current territory is its ``territory_id`` (when the reps file
    has one that names current territories), else its ``rep_id`` (when the
    current territories are named by rep ids). Reps with neither are new
    hires; current territories no rep serves close.
    """
    rep_ids, homes, targets = rep_sites(reps, capacity_col)
    if n_territories is not None and n_territories != len(rep_ids):
        raise InputError(f"n_territories={n_territories} but the reps file has {len(rep_ids)} reps: with reps, "
                         "there is one territory per rep; leave n_territories=None")
    known = set(found)
    served = None
    if TERRITORY_ID in reps.columns:
        column = reps[TERRITORY_ID].astype("string").str.strip()
        values = column.to_numpy(dtype=object)
        if any(isinstance(v, str) and v in known for v in values):
            served = np.array([v if isinstance(v, str) and v else None for v in values], dtype=object)
    if served is None and not known & set(rep_ids):
        return rep_ids, homes, targets, [], []  # ids are rep ids; current_setup checks the current column
    if served is None:
        served = np.array([r if r in known else None for r in rep_ids], dtype=object)
        new_ids = [r for r, s in zip(rep_ids, served) if s is None]
        served = np.where(pd.isna(served), rep_ids, served)
    else:
        given = [s for s in served if s is not None]
        duplicated = sorted({s for s in given if given.count(s) > 1})
        if duplicated:
            raise InputError(f"reps file: territories {duplicated[:5]} are served by more than one rep; "
                             f"give each territory one rep ({TERRITORY_ID!r} column)")
        missing = [i for i, s in enumerate(served) if s is None]
        fresh = new_territory_ids(list(found) + given, len(missing))
        for i, new_id in zip(missing, fresh):
            served[i] = new_id
        new_ids = [s for s in served if s not in known]
    closing = [t for t in found if t not in set(served)]
    extra = [c for c in close if c not in closing]
    if extra:
        raise InputError(f"close={extra[:5]} but those territories still have a rep in the reps file; with "
                         "reps, a territory closes when its rep is not in the file: remove that rep instead")
    ids = np.r_[np.asarray(served, dtype=object), np.asarray(closing, dtype=object)]
    all_homes = np.vstack([homes, np.zeros((len(closing), 3))])
    all_targets = np.r_[targets, np.zeros(len(closing))]
    return ids, all_homes, all_targets, closing, new_ids


def rep_headcount(reps, capacity_col, found, close, n_territories, current_col):
    """:func:`rep_territories` laid out for a realignment that keeps today's territories first.

    Returns
    -------
    closed : (len(found),) bool array
        Current territories that close (no rep serves them).
    targets : (len(found) + n_new,) array
        Target share of every current territory (0 when closing), then of
        every new hire's territory, in proportion to ``capacity_col``.
    opened : list of str
        Ids of the new hires' territories, in the reps file's order.
    homes : (len(found) + n_new, 3) array
        Unit vector of the home of each territory's rep (zeros when closing).
    served : (n_reps,) array of str
        The territory of every rep (row of ``reps``), new hires' ids filled in.

    Examples
    --------
    ``T2``'s rep left; ``cy`` is a new hire with twice the hours:

    >>> reps = pd.DataFrame({"rep_id": ["ann", "cy"], "territory_id": ["T1", None], "latitude": [40.0, 41.0],
    ...                      "longitude": [-100.0, -99.0], "capacity_hours": [1000.0, 2000.0]})
    >>> closed, targets, opened, homes, served = rep_headcount(reps, "capacity_hours", np.array(["T1", "T2"]), [],
    ...                                                        None, "current_territory")
    >>> closed.tolist(), targets.round(3).tolist(), opened, homes.shape, served.tolist()
    ([False, True], [0.333, 0.0, 0.667], ['T3'], (3, 3), ['T1', 'T3'])
    """
    ids, homes, targets, closing, new_ids = rep_territories(reps, capacity_col, found, close, n_territories)
    ids = pd.Index(np.asarray(ids, dtype=object).astype(str))
    found = np.asarray(found, dtype=object).astype(str)
    unknown = [t for t in found if t not in ids]
    if unknown:
        raise InputError(f"column {current_col!r} names territories that are not rep ids: {unknown[:5]}; give the "
                         f"reps file a {TERRITORY_ID!r} column naming each rep's current territory, or use rep ids")
    order = np.r_[ids.get_indexer(found), ids.get_indexer([str(i) for i in new_ids])].astype(np.int64)
    served = ids[:len(reps)].to_numpy(dtype=object)
    return (np.isin(found, closing), np.asarray(targets, dtype=float)[order], [str(i) for i in new_ids], homes[order],
            served)


def check_close(close, found):
    """Closures asked for (``close=``) as current ids; InputError for unknown, repeated or all ids."""
    if close is None:
        return []
    if isinstance(close, str):
        close = [close]
    close = [str(c).strip() for c in close]
    unknown = [c for c in close if c not in set(found)]
    if unknown:
        raise InputError(f"close={unknown[:5]} names territories that are not current territories "
                         f"(known: {list(found[:8])}...); give current territory ids")
    if len(set(close)) != len(close):
        raise InputError(f"close names a territory twice: {close}")
    if len(close) >= len(found):
        raise InputError(f"close={close} would close every territory; keep at least one")
    return close


def check_n_territories(n, default, n_accounts):
    """Territories wanted (``n_territories=``; ``default`` when None), 1 to one per account."""
    if n is None:
        return default
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n_territories must be an int, got {n!r}")
    if n < 1:
        raise InputError(f"n_territories must be at least 1, got {n}")
    if n > n_accounts:
        raise InputError(f"n_territories={n} is more than the {n_accounts} accounts; ask for at most one "
                         "territory per account")
    return int(n)
