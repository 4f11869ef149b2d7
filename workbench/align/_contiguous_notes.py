"""What a contiguous fit tells people: blocks too heavy for a territory, where the movement comes from.

Helpers of :class:`~workbench.align.contiguous.ContiguousTerritories` (and of
region grouping, which reuses :func:`giant_block_notes` for territories too
heavy for a region): each returns the sentences for ``report_.warnings``, or
the number the report quotes.
"""

from __future__ import annotations

import math

import numpy as np


def moved_share_lower_bound(weight: np.ndarray, current_idx: np.ndarray, k: int, frozen, tolerance: float) -> float:
    """Least share of the first metric that must change territory to bring every free territory in tolerance."""
    loads = np.bincount(current_idx, weights=weight, minlength=k)
    free = ~np.asarray(frozen, dtype=bool) if frozen is not None else np.ones(k, dtype=bool)
    excess = np.clip(loads[free] - (1 + tolerance), 0, None).sum()
    deficit = np.clip((1 - tolerance) - loads[free], 0, None).sum()
    return float(max(excess, deficit) / max(weight.sum(), 1e-300))


def giant_block_notes(ids, weights, balance_on, tolerance: float, k: int, what: str = "block",
                      target: str = "mean") -> list[str]:
    """Say which units alone exceed a territory's maximum (weights normalised to a target of 1), and the way out.

    ``target`` names what the weights are normalised to: the ``"mean"``, or
    (unequal rep capacities) the ``"largest target"``, which no unit may
    exceed by more than the tolerance.

    Examples
    --------
    >>> note = giant_block_notes(np.array(["a", "b"]), np.array([[1.5], [0.5]]), ["workload"], 0.05, 2)[0]
    >>> note.split("; ")[0]
    'workload: block a (+50% over the mean) alone exceeds the maximum of a territory (mean + 5%), so no plan is within the tolerance'
    >>> note.split("; ")[1]
    'use finer blocks (e.g. ZIP areas or tracts), raise the tolerance to 50%, or allow that block to split'
    """
    notes = []
    for m, metric in enumerate(balance_on):
        over = np.flatnonzero(weights[:, m] > 1 + tolerance + 1e-12)
        if over.size == 0:
            continue
        over = over[np.argsort(-weights[over, m], kind="stable")]
        worst = weights[over[0], m]
        needed = math.ceil((worst - 1) * 100 - 1e-9) / 100
        most = max(int(math.floor(k * (1 + tolerance) / worst)), 1)
        named = ", ".join(f"{ids[b]} ({weights[b, m] - 1:+.0%} over the {target})" for b in over[:5])
        more = f" and {over.size - 5} more" if over.size > 5 else ""
        raise_to = f"raise the tolerance to {needed:.0%}" if needed < 1 else f"use at most {most} territories"
        plural = over.size > 1
        notes.append(
            f"{metric}: {_plural(what) if plural else what} {named}{more} alone exceed{'' if plural else 's'} the maximum "
            f"of a territory ({target} + {tolerance:.0%}), so no plan is within the tolerance; use finer blocks "
            f"(e.g. ZIP areas or tracts), {raise_to}, or allow that {what} to split")
    return notes


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def movement_notes(metric, weight, current_idx, whole_blocks, connected) -> list[str]:
    """Explain how much of the movement comes from keeping blocks whole and territories connected."""
    total = max(float(weight.sum()), 1e-300)
    whole = float(weight[whole_blocks != current_idx].sum()) / total
    joined = float(weight[connected != current_idx].sum()) / total
    if whole <= 0 and joined <= 0:
        return []
    return [f"of the movement, {whole:.1%} of the {metric} follows from keeping every block whole (its accounts "
            f"are in several current territories) and {joined:.1%} in all from also making every territory "
            f"connected, before any balancing"]
