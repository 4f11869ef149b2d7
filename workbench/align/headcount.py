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
"""

from __future__ import annotations

import re

import numpy as np

from workbench.align.bounds import bordering_lower_bound
from workbench.errors import InputError

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
            cost = bordering_lower_bound(load, low(trial), high(trial), adjacency)[0]
            if cost < best_cost - 1e-12:
                best, best_cost = int(c), cost
        if best is None:
            raise InputError(f"cannot close {n_close} territories: only {len(chosen)} may close (the others are "
                             "locked); unlock territories or ask for more territories")
        is_open[best] = False
        chosen.append(best)
    return chosen
