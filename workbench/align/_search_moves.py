"""Local search of the contiguous search: exact-gain moves and swaps, random kicks, the repair stage.

Part of :mod:`workbench.align.contiguous_search` (see its docstring for the
design): :func:`local_search` applies the best improving boundary moves (at
most one per part, so every gain applied is exact), then swaps when no move
improves; with ``lam`` the balance bands are soft (violation priced).
:func:`repair` brings a start outside the bands into them.
"""

from __future__ import annotations


import numpy as np

from workbench.align._search_state import MICROS_PER_SWAP_ROUND, SearchState

#: Weight of the loads' squared distance from the middle of their bands while repairing.
_CENTRING = 1.0
#: Work (see ``SearchState.work``) charged per round of moves or swaps: a round costs about as much as this
#: many node moves.
ROUND_WORK = 8
#: Rounds of random moves and descent :func:`restore` tries on a perturbed plan still outside a band.
RESTORE_TRIES = 8
#: The repair's graduated descents price the violation from this many times a part's mean objective per unit
#: of load (``scale / k``), times ``_SOFT_GROWTH`` each descent, up to the repair's own price (``1e4``). On the
#: contiguous benchmark's literature instances (seeds 0-5) this lowered the mean gap to the reference from
#: 2.91% to 2.72% (within 1%: 31 -> 33 of 72; worst +22.7% -> +16.4%): starts outside the bands (200 units into
#: 13 on most seeds) were repaired with the violation alone deciding, which cost 10-17% of dispersion.
#: Only without a move penalty: in contiguous realignment (a penalty per block away from home) the
#: benchmark's counties_scattered case moved 1.310x the bordering bound with it, 1.250x without.
_SOFT_START = 10.0
_SOFT_GROWTH = 3.0

def move_round(state: SearchState, scale: float, lam=None) -> int:
    """Apply the best improving boundary moves, at most one per part; the number applied.

    With ``lam`` the balance bands are soft: ``lam`` times the violation is added to the objective.
    """
    state.work += ROUND_WORK
    u, a, b = state.boundary()
    if u.size == 0:
        return 0
    if lam is None:
        ok = state.balance_ok(a, b, state.weights[u])
        u, a, b = u[ok], a[ok], b[ok]
        if u.size == 0:
            return 0
    gain = (state.part_costs[a] + state.part_costs[b] - state.leave_costs(u, a) - state.join_costs(u, b)
            - state.penalty_delta(u, a, b))
    if lam is not None:
        gain -= lam * state.violation_delta(a, b, state.weights[u])
    good = np.flatnonzero(gain > 1e-9 * scale)
    if good.size == 0:
        return 0
    order = good[np.lexsort((u[good], -gain[good]))]
    used = np.zeros(state.k, dtype=bool)
    moved = 0
    for node, donor, receiver in zip(u[order].tolist(), a[order].tolist(), b[order].tolist()):
        if used[donor] or used[receiver] or not state.can_leave(node, donor):
            continue
        state.move(node, donor, receiver)
        used[donor] = used[receiver] = True
        moved += 1
    return moved


def swap_round(state: SearchState, scale: float, lam=None, max_pairs: int = 20000) -> int:
    """Exchange two boundary nodes of adjacent parts (best exact gain first); the number of swaps."""
    state.work += ROUND_WORK
    state.meter.micros += MICROS_PER_SWAP_ROUND
    u, a, b = state.boundary(need_spare=False)
    if u.size == 0:
        return 0
    # Pair every move a->b (a < b) with every move b->a: sort by (from, to), find the reverse block.
    key = a * state.k + b
    order = np.argsort(key, kind="stable")
    u, a, b, key = u[order], a[order], b[order], key[order]
    forward = np.flatnonzero(a < b)
    reverse = b[forward] * state.k + a[forward]
    first = np.searchsorted(key, reverse, side="left")
    count = np.searchsorted(key, reverse, side="right") - first
    if count.sum() == 0:
        return 0
    rows = np.repeat(forward, count)
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    partner = starts + np.arange(rows.size)
    su, sv, sa, sb = u[rows], u[partner], a[rows], b[rows]
    if lam is None:  # pairs of parts unchanged since they last offered no improving swap: skip
        fresh = (state.swap_seen[sa, sb, 0] != state.stamp[sa]) | (state.swap_seen[sa, sb, 1] != state.stamp[sb])
        su, sv, sa, sb = su[fresh], sv[fresh], sa[fresh], sb[fresh]
        if su.size == 0:
            return 0
        seen_a, seen_b = sa.copy(), sb.copy()
    d = state.weights[su] - state.weights[sv]
    pen = np.zeros(su.size) + state.penalty_delta(su, sa, sb) + state.penalty_delta(sv, sb, sa)
    if lam is None:
        ok = state.balance_ok(sa, sb, d)
        soft = 0.0
    else:
        # Soft bands: skip pairs that cannot gain even if both parts' dispersion fell to zero.
        soft = -lam * state.violation_delta(sa, sb, d)
        ok = soft + state.part_costs[sa] + state.part_costs[sb] - pen > 1e-9 * scale
        soft = soft[ok][:max_pairs]
    truncated = int(ok.sum()) > max_pairs
    pen = pen[ok][:max_pairs]
    su, sv, sa, sb, d = su[ok][:max_pairs], sv[ok][:max_pairs], sa[ok][:max_pairs], sb[ok][:max_pairs], d[ok][:max_pairs]
    used = np.zeros(state.k, dtype=bool)
    if su.size == 0:
        if lam is None:
            _mark_swaps_seen(state, seen_a, seen_b, used)
        return 0
    new_a = np.empty(su.size)
    new_b = np.empty(su.size)
    for p in np.unique(np.concatenate([sa, sb])):
        members = state.members(p)
        for mask, out, into, target in ((sa == p, su, sv, new_a), (sb == p, sv, su, new_b)):
            if mask.any():
                state.charge_pricing(int(mask.sum()), members.size)
                target[mask] = state.obj.swap(out[mask], into[mask], p, members)
    gain = state.part_costs[sa] + state.part_costs[sb] - new_a - new_b
    gain += soft - pen
    good = np.flatnonzero(gain > 1e-9 * scale)
    done = 0
    for i in good[np.lexsort((su[good], -gain[good]))].tolist():
        nu, nv, pa, pb = int(su[i]), int(sv[i]), int(sa[i]), int(sb[i])
        if used[pa] or used[pb]:
            continue
        if not state.can_leave(nu, pa) or not state.can_leave(nv, pb):
            continue
        near_v, near_u = state.neighbours(nv), state.neighbours(nu)
        if not ((state.labels[near_v] == pa) & (near_v != nu)).any():
            continue
        if not ((state.labels[near_u] == pb) & (near_u != nv)).any():
            continue
        state.move(nu, pa, pb)
        state.move(nv, pb, pa)
        used[pa] = used[pb] = True
        done += 1
    if lam is None and not truncated:
        _mark_swaps_seen(state, seen_a, seen_b, used)
    return done


def _mark_swaps_seen(state, part_a, part_b, used):
    """Remember that these pairs of parts offered no (further) improving swap in their present state."""
    still = ~used[part_a] & ~used[part_b]
    part_a, part_b = part_a[still], part_b[still]
    state.swap_seen[part_a, part_b, 0] = state.stamp[part_a]
    state.swap_seen[part_a, part_b, 1] = state.stamp[part_b]


def local_search(state: SearchState, scale: float, deadline: float, lam=None) -> int:
    """Moves until none improves, then swaps; repeat until neither does (or ``state.meter`` reaches
    ``deadline``, in its nominal seconds). Returns the moves made."""
    made = 0
    while state.meter.seconds() < deadline:
        moved = move_round(state, scale, lam)
        if moved == 0:
            moved = swap_round(state, scale, lam)
            if moved == 0:
                break
        made += moved
    return made



def kick(state: SearchState, rng, n_moves: int, keep_balance: bool = True) -> bool:
    """A few random boundary moves, connectivity kept (and balance, with ``keep_balance``)."""
    moved = 0
    for _ in range(n_moves * 3):
        if moved >= n_moves:
            break
        u, a, b = state.boundary()
        if u.size == 0:
            break
        ok = np.flatnonzero(state.balance_ok(a, b, state.weights[u]) if keep_balance else np.ones(u.size, bool))
        if ok.size == 0:
            break
        i = int(rng.choice(ok))
        node, donor, receiver = int(u[i]), int(a[i]), int(b[i])
        if not state.can_leave(node, donor):
            continue
        state.move(node, donor, receiver)
        moved += 1
    return moved > 0



def restore(state: SearchState, scale: float, deadline: float, rng, tries: int = RESTORE_TRIES) -> bool:
    """Bring a perturbed plan back into the bands; True when it is (the journal keeps every step).

    A descent on the summed violation (dispersion breaks ties), then, while
    some violation is left, up to ``tries`` rounds of a few random moves
    (balance not kept) and descend again, each kept when the violation does
    not grow, else undone. The descent alone leaves tight multi-metric plans
    outside a band after most re-splits; the few rounds make those
    perturbations usable instead of undone.
    """
    lam = 1e4 * scale / state.k
    local_search(state, scale, deadline, lam=lam)
    value = state.total_violation()
    for _ in range(tries):
        if value <= 1e-9 or state.meter.seconds() >= deadline:
            break
        mark = len(state.journal)
        kick(state, rng, int(rng.integers(1, 4)), keep_balance=False)
        local_search(state, scale, deadline, lam=lam)
        now = state.total_violation()
        if now <= value + 1e-12:
            value = now
        else:
            state.undo_to(mark)
    return value <= 1e-9


def repair(state: SearchState, scale: float, deadline: float, rng, budget: float, patience: int | None = None,
           max_work: float = np.inf):
    """Bring a start outside the bands into them where it can; return the best labels found, or None.

    First (without a move penalty) graduated descents: moves and swaps with
    the violation priced at :data:`_SOFT_START` times a part's mean
    objective, times :data:`_SOFT_GROWTH` each descent (undone if the worst
    part ended further out than the start's). Then an iterated descent on the summed violation plus, with a small weight,
    the squared distance of the loads from the middle of their bands
    (dispersion only breaks ties; loads drift to the middle, which leaves
    room for the other metrics): moves and swaps, then a few random moves
    and descend again, accepting a result within 2% of the best summed
    violation (record-to-record travel), until the violation is gone,
    ``patience`` rounds (default ``100 + 10 k``) bring no new best, ``budget`` seconds of work have been
    done (read from ``state.meter``, like ``deadline``) or the repair has done ``max_work`` work (``SearchState.work``: node moves and local-search rounds, a
    deterministic count). The best is the plan with the least
    violation among those whose worst part is no further out than the
    start's worst; None when the start was within the bands.
    """
    if state.total_violation() <= 1e-9:
        return None
    parts = np.arange(state.k)

    def measure():
        v = state.violation(state.loads, parts)
        return float(v.max()), float(v.sum())

    lam = 1e4 * scale / state.k
    stop = min(deadline, state.meter.seconds() + budget)
    worst = measure()[0]
    # Graduated: descents with the violation priced low, then ever higher, so that the load leaves where it
    # costs least dispersion before the violation decides alone (undone if it left a part further out).
    # Not with a move penalty (realignment): there it moved more (see _SOFT_START).
    soft = _SOFT_START * scale / state.k if state.penalty is None else lam
    state.journal.clear()
    began = state.work
    while (soft < lam and state.meter.seconds() < stop and state.total_violation() > 1e-9
           and state.work - began < max_work):
        local_search(state, scale, stop, lam=soft)
        soft *= _SOFT_GROWTH
    if measure()[0] > worst + 1e-12:
        state.undo_to(0)
    best = measure()[1]
    state.centring = _CENTRING
    best_labels = state.labels.copy()
    current = best
    state.journal.clear()
    first = True
    stall = 0
    patience = 100 + 10 * state.k if patience is None else int(patience)
    while best > 1e-9 and state.meter.seconds() < stop and stall < patience and state.work - began < max_work:
        stall += 1
        if not first:
            kick(state, rng, int(rng.integers(1, 4)), keep_balance=False)
        first = False
        local_search(state, scale, stop, lam=lam)
        top, value = measure()
        if value < best - 1e-12 and top <= worst + 1e-12:
            best, best_labels, stall = value, state.labels.copy(), 0
        if value <= max(best * 1.02, current) + 1e-12 or value <= best + 1e-12:
            current = value
            state.journal.clear()
        else:
            state.undo_to(0)
    state.centring = 0.0
    return best_labels

