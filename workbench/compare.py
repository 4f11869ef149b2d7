"""Current vs proposed: scorecards side by side, transfers, moved accounts and why, disruption.

Works with any two plans over the same accounts: plans from the alignment
engine, from a column of the accounts file, or loaded from disk.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import metrics as _metrics
from workbench import present
from workbench.checks import check_tolerance
from workbench.errors import InputError, PlanError
from workbench.geo import great_circle_km
from workbench.plan import Plan
from workbench.labels import show
from workbench.schema import (ACCOUNT_ID, COUNTY_FIPS, DEFAULT_TOLERANCE, LATITUDE, LONGITUDE, METRICS, NAME,
                              TERRITORY_ID, WORKLOAD)

#: Label of "no territory" in transfers and moved accounts.
UNASSIGNED = "(unassigned)"
#: Unit shown after a load in explanations.
UNITS = {WORKLOAD: "h", "accounts": "accounts"}


@dataclass(frozen=True, eq=False, repr=False)
class Comparison:
    """The result of :func:`compare_plans`. Frames handed out are copies.

    Attributes
    ----------
    current, proposed : Plan
    metrics : tuple of str
        Metrics compared; the first is the load quoted in explanations.
    tolerance : float
    scorecards : pandas.DataFrame
        Index: scorecard items (see :func:`workbench.metrics.scorecard`);
        columns ``current``, ``proposed``, ``change`` (proposed - current).
    territory_deltas : pandas.DataFrame
        Per territory (union of both plans): status (kept/new/removed), accounts
        and each metric current/proposed/change, deviation % current/proposed,
        compactness current/proposed, accounts kept, in and out.
    transfer_matrix : pandas.DataFrame
        Long: from_territory, to_territory, accounts, one column per metric; the
        diagonal (from == to) is what stays. ``"(unassigned)"`` stands for no territory.
    moved_accounts : pandas.DataFrame
        One row per account whose territory changed, with its explanation.
    disruption : pandas.Series
        Accounts and each metric moved, as counts/totals and percentages.
    retention : pandas.DataFrame
        Per current territory (and its rep): the share of the book kept.
    rep_retention : pandas.DataFrame
        Per rep (current rep of each account, from the plans' territories or
        ``reps=``): the share of the rep's book that stays with the rep, wherever
        the territory ids go. Empty when no rep is known.
    warnings : tuple of str
    """

    current: Plan
    proposed: Plan
    metrics: tuple
    tolerance: float
    _scorecards: pd.DataFrame
    _territory_deltas: pd.DataFrame
    _transfer_matrix: pd.DataFrame
    _moved_accounts: pd.DataFrame
    _disruption: pd.Series
    _retention: pd.DataFrame
    _rep_retention: pd.DataFrame
    warnings: tuple = ()

    scorecards = property(lambda self: self._scorecards.copy(deep=False), doc="Scorecards side by side.")
    territory_deltas = property(lambda self: self._territory_deltas.copy(deep=False), doc="Per-territory deltas.")
    transfer_matrix = property(lambda self: self._transfer_matrix.copy(deep=False), doc="Transfers (long).")
    moved_accounts = property(lambda self: self._moved_accounts.copy(deep=False), doc="Moved accounts, explained.")
    disruption = property(lambda self: self._disruption.copy(deep=False), doc="Totals moved.")
    retention = property(lambda self: self._retention.copy(deep=False), doc="Share of each book kept.")
    rep_retention = property(lambda self: self._rep_retention.copy(deep=False), doc="Share of each rep's book kept.")

    @property
    def load_metric(self) -> str:
        """The metric quoted in explanations (the first metric, or ``accounts``)."""
        return self.metrics[0] if self.metrics else "accounts"

    def transfer_matrix_wide(self, metric: str = "accounts") -> pd.DataFrame:
        """Transfer matrix as a table: rows from (current), columns to (proposed), zeros filled.

        Examples
        --------
        >>> accounts = pd.DataFrame({"account_id": list("abcd"), "workload": [1.0, 2.0, 3.0, 4.0]})
        >>> cur = Plan.from_labels(accounts, ["T1", "T1", "T2", "T2"], name="current")
        >>> cmp = compare_plans(cur, cur.reassign(["b"], "T2"))
        >>> cmp.transfer_matrix_wide("workload").to_dict("index")
        {'T1': {'T1': 1.0, 'T2': 2.0}, 'T2': {'T1': 0.0, 'T2': 7.0}}
        """
        columns = ["accounts", *self.metrics]
        if metric not in columns:
            raise InputError(f"metric {metric!r} is not in this comparison; choose one of {columns}")
        wide = self._transfer_matrix.pivot_table(index="from_territory", columns="to_territory", values=metric,
                                                 aggfunc="sum", fill_value=0, sort=True)
        wide.index.name, wide.columns.name = "from_territory", "to_territory"
        return wide

    def to_dict(self) -> dict:
        """Everything as plain JSON-ready values (NaN becomes None); keys in ``plans_cli_json.md``."""
        def plan_info(plan: Plan) -> dict:
            m = plan.metadata
            return {"name": m.name, "status": m.status, "method": m.method, "content_hash": plan.content_hash,
                    "input_hash": m.input_hash, "accounts": int(len(plan.assignments)),
                    "territories": int(len(plan.territories)), "approved_by": m.approved_by,
                    "approved_at": m.approved_at}

        cards = self._scorecards
        return {
            "current": plan_info(self.current),
            "proposed": plan_info(self.proposed),
            "metrics": list(self.metrics),
            "load_metric": self.load_metric,
            "tolerance": float(self.tolerance),
            "scorecards": {item: {c: _json(cards.loc[item, c]) for c in cards.columns} for item in cards.index},
            "disruption": {k: _json(v) for k, v in self._disruption.items()},
            "territory_deltas": _records(self._territory_deltas.reset_index()),
            "transfer_matrix": _records(self._transfer_matrix),
            "moved_accounts": _records(self._moved_accounts),
            "retention": _records(self._retention.reset_index()),
            "rep_retention": _records(self._rep_retention.reset_index()),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A few lines for people: the scorecard side by side and what moves."""
        lines = [f"current: {self.current.name!r} ({self.current.content_hash[:12]})   "
                 f"proposed: {self.proposed.name!r} ({self.proposed.content_hash[:12]})",
                 format_scorecards(self._scorecards),
                 "moved: " + self.moved_text()]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def moved_text(self) -> str:
        """What moves, for people: ``"120 of 25,000 accounts (0.5%), 310 h workload (0.5%), $2.1M revenue (0.4%)"``."""
        d = self._disruption
        parts = [f"{d['accounts_moved']:,} of {d['accounts']:,} accounts ({present.percent(d['accounts_moved_pct'])})"]
        parts += [f"{present.format_value(d[m + '_moved'], m)} {m} ({present.percent(d[m + '_moved_pct'])})"
                  for m in self.metrics]
        text = ", ".join(parts)
        if "bordering_lower_bound_pct" in d and self.metrics:
            moved = d[self.metrics[0] + "_moved_pct"]
            floors = []
            for label, key in (("any territory to any other", "lower_bound_pct"),
                               ("only between bordering territories", "bordering_lower_bound_pct"),
                               ("only between bordering territories, every metric compared within at once", "joint_lower_bound_pct")):
                if key not in d:
                    continue
                ratio = f", moved {moved / d[key]:.2f}x that" if d[key] > 0 else ""
                if d[key] > 0 and round(moved / d[key], 2) < 1.0:  # a ratio under 1.00x says why
                    ratio += (" (under 1.00x: the proposal is outside the tolerance, or passed load between "
                              "territories that border only after its moves; the bound counts moves between "
                              "territories bordering today)")
                floors.append(f"{present.percent(d[key])} {label}{ratio}")
            text += f"; least {self.metrics[0]} that had to move to reach ±{present.percent(self.tolerance, fraction=True)}: " + "; ".join(floors)
        return text

    def _repr_html_(self) -> str:
        head = (f"<p><b>{html.escape(self.current.name)}</b> &rarr; <b>{html.escape(self.proposed.name)}</b>: "
                f"{html.escape(self.moved_text())} move</p>")
        warnings = "".join(f"<p>warning: {html.escape(w)}</p>" for w in self.warnings)
        return head + present.html_table(present.scorecard_table(self._scorecards), index=True) + warnings

    def __repr__(self):
        return (f"<Comparison {self.current.name!r} -> {self.proposed.name!r}: "
                f"{self._disruption['accounts_moved']} accounts moved>")


def compare_plans(current: Plan, proposed: Plan, metrics=None, tolerance: float = DEFAULT_TOLERANCE, *, reps=None,
                  blocks=None, block_col: str | None = None, adjacency=None, joint_bound: bool = False) -> Comparison:
    """Compare a proposed alignment to the current one.

    Parameters
    ----------
    current, proposed : Plan
        Plans over the same accounts (any origin).
    metrics : sequence of str, optional
        Metrics to compare; default those of workload, revenue, potential
        present in the accounts. The first is the load quoted in explanations.
    tolerance : float, default 0.05
        Balance tolerance (share) for the scorecards.
    reps : pandas.DataFrame, optional
        Rep homes for both plans (see :func:`workbench.metrics.rep_homes`);
        default each plan's own territories (their ``rep_latitude``/``rep_longitude``).
    blocks : geopandas.GeoDataFrame, optional
        Block polygons for Polsby-Popper and contiguity; ``block_col`` names
        the accounts' block column (default ``county_fips``); ``adjacency``
        reuses a block graph.
    joint_bound : bool, default False
        With several metrics, also the least workload that brings *every*
        metric within ``tolerance`` at once, moving only between bordering
        territories (:func:`workbench.align.bounds.plan_joint_bound`), in
        the moved-workload text. Off by default: it is a linear program over
        the accounts (8-18 s on the 25,000-account sample), where the two
        single-metric bounds take well under a second.

    Returns
    -------
    Comparison

    Raises
    ------
    PlanError
        The plans do not cover the same accounts.
    InputError
        A metric is not a numeric column of the accounts.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": list("abcdef"), "latitude": [0.0] * 6,
    ...                          "longitude": [0.0, 1, 10, 11, 20, 21], "workload": [10.0, 10, 20, 20, 30, 30]})
    >>> current = Plan.from_labels(accounts, ["T1", "T1", "T2", "T2", "T3", "T3"], name="current")
    >>> comparison = compare_plans(current, current.reassign(["e"], "T1"))
    >>> comparison.disruption[["accounts_moved", "workload_moved", "workload_moved_pct"]].tolist()
    [1, 30.0, 25.0]
    >>> print(comparison.moved_accounts.loc[0, "explanation"])
    Moved from T3 (60 h, +50% over) to T1 (20 h, -50% under).
    """
    for value, what in ((current, "current"), (proposed, "proposed")):
        if not isinstance(value, Plan):
            raise TypeError(f"{what} must be a Plan (Plan.from_column, Plan.from_labels or load_plan), "
                            f"got {type(value).__name__}")
    check_tolerance(tolerance)
    _check_same_accounts(current, proposed)
    warnings = []
    if current.metadata.input_hash != proposed.metadata.input_hash:
        warnings.append("the plans were made from different accounts data (input hashes differ); transfers and "
                        "moved accounts use the proposed plan's values")
    accounts, current_accounts = proposed.accounts, current.accounts
    territories_c, territories_p = current.territories, proposed.territories
    if reps is not None:  # new hires (no territory_id yet) serve the new territories the realignment named for them
        from workbench.align.headcount import served_reps

        reps = served_reps(reps, territories_c.index)
    metrics = _choose_metrics(accounts, current_accounts, metrics)
    ids = proposed.assignments.index
    before = current.assignments.reindex(ids).to_numpy(dtype=object, na_value=np.nan)
    after = proposed.assignments.to_numpy(dtype=object, na_value=np.nan)
    homes_before = _metrics.rep_homes(reps if reps is not None else territories_c)
    homes_after = _metrics.rep_homes(reps if reps is not None else territories_p)
    if reps is not None and len(reps) and not (homes_before.index.isin(territories_c.index).any()
                                               or homes_before.index.isin(territories_p.index).any()):
        raise InputError(f"reps name no territory of either plan (their territories: {show(homes_before.index)}; "
                         f"plan territories: {show(territories_p.index)}); give the reps a territory_id "
                         "column with the plans' territory ids")
    if blocks is not None and adjacency is None:
        adjacency = _metrics.block_graph(blocks, block_col)
    options = dict(tolerance=tolerance, blocks=blocks, block_col=block_col, adjacency=adjacency)
    # One definition of balance: each territory's load against its own target (rep capacity, else the mean).
    targets_c = _metrics.balance_targets(reps if reps is not None else territories_c, territories_c.index)
    targets_p = _metrics.balance_targets(reps if reps is not None else territories_p, territories_p.index)
    if targets_c is not None or targets_p is not None:
        warnings.append("balance is measured against each territory's own target (its share of the reps' "
                        "capacity_hours), not the plain mean")
    summary_c = _metrics.territory_summary(current_accounts, current.labels, metrics, homes_before,
                                           territory_ids=territories_c.index, targets=targets_c, **options)
    summary_p = _metrics.territory_summary(accounts, after, metrics, homes_after,
                                           territory_ids=territories_p.index, targets=targets_p, **options)
    card_c = _metrics.scorecard(current_accounts, current.labels, metrics, reps=homes_before, summary=summary_c,
                                **options)
    card_p = _metrics.scorecard(accounts, after, metrics, reps=homes_after, summary=summary_p, **options)
    frame = pd.DataFrame({
        ACCOUNT_ID: ids.to_numpy(),
        "from_territory": pd.Series(before, dtype=object).fillna(UNASSIGNED).to_numpy(),
        "to_territory": pd.Series(after, dtype=object).fillna(UNASSIGNED).to_numpy(),
        "accounts": 1,
    })
    for m in metrics:
        frame[m] = accounts[m].to_numpy(dtype=float)
    moved_mask = (frame["from_territory"] != frame["to_territory"]).to_numpy()
    transfers = (frame.groupby(["from_territory", "to_territory"], sort=True)[["accounts", *metrics]].sum()
                 .reset_index())
    moved = _moved_accounts(frame[moved_mask], accounts.loc[moved_mask], metrics, tolerance, summary_c, summary_p,
                            homes_before, homes_after)
    return Comparison(
        current=current, proposed=proposed, metrics=tuple(metrics), tolerance=float(tolerance),
        _scorecards=_side_by_side(card_c, card_p),
        _territory_deltas=_territory_deltas(frame, metrics, summary_c, summary_p),
        _transfer_matrix=transfers,
        _moved_accounts=moved,
        _disruption=_disruption(frame, moved_mask, metrics, _bounds_of(
            current_accounts, current, metrics, tolerance, targets_c, joint_bound,
            proposed=proposed.assignments.reindex(current.assignments.index).to_numpy(dtype=object, na_value=np.nan),
            targets_p=targets_p)),
        _retention=_retention(frame, metrics, territories_c),
        _rep_retention=_rep_retention(frame, metrics, homes_before, homes_after, territories_c, territories_p,
                                      reps is not None),
        warnings=tuple(warnings),
    )


# ---------------------------------------------------------------------------- checks
def _check_same_accounts(current: Plan, proposed: Plan) -> None:
    a, b = current.assignments.index, proposed.assignments.index
    if a.equals(b) or (len(a) == len(b) and a.sort_values().equals(b.sort_values())):
        return
    only_current, only_proposed = a.difference(b), b.difference(a)
    parts = []
    if len(only_current):
        parts.append(f"{present.count(len(only_current), 'account')} only in {current.name!r}: {show(only_current)}")
    if len(only_proposed):
        parts.append(f"{present.count(len(only_proposed), 'account')} only in {proposed.name!r}: {show(only_proposed)}")
    raise PlanError("the plans do not cover the same accounts (" + "; ".join(parts) + "); make both plans from "
                    "the same accounts file")


def _choose_metrics(accounts: pd.DataFrame, other: pd.DataFrame, metrics) -> list[str]:
    if metrics is None:
        return [m for m in METRICS if m in accounts.columns and pd.api.types.is_numeric_dtype(accounts[m])]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for m in metrics:
        for frame in (accounts, other):
            if m not in frame.columns:
                raise InputError(f"metric {m!r} is not a column of the accounts (columns: {list(frame.columns)}); "
                                 "choose numeric columns, e.g. workload,revenue")
            if not pd.api.types.is_numeric_dtype(frame[m]):
                raise InputError(f"metric {m!r} is not numeric (dtype {frame[m].dtype}); choose numeric columns")
    return list(dict.fromkeys(metrics))


# ---------------------------------------------------------------------------- pieces
def _side_by_side(card_c: pd.Series, card_p: pd.Series) -> pd.DataFrame:
    items = list(dict.fromkeys([*card_c.index, *card_p.index]))
    table = pd.DataFrame({"current": card_c.reindex(items), "proposed": card_p.reindex(items)}, dtype=object)
    table["change"] = pd.Series([(p - c) if isinstance(c, (int, float)) and isinstance(p, (int, float))
                       and not isinstance(c, bool) and c is not None and p is not None else None
                                 for c, p in zip(table["current"], table["proposed"])],  # a few items, not accounts
                                index=table.index, dtype=object)
    table.index.name = "item"
    return table


def _territory_deltas(frame, metrics, summary_c, summary_p) -> pd.DataFrame:
    ids = summary_c.index.union(summary_p.index)
    out = pd.DataFrame(index=pd.Index(ids, name=TERRITORY_ID))
    in_c, in_p = ids.isin(summary_c.index), ids.isin(summary_p.index)
    out["status"] = np.select([in_c & in_p, in_p], ["kept", "new"], default="removed")
    for column in ["accounts", *metrics]:
        c = summary_c[column].reindex(ids).fillna(0).to_numpy(dtype=float)
        p = summary_p[column].reindex(ids).fillna(0).to_numpy(dtype=float)
        out[f"{column}_current"], out[f"{column}_proposed"], out[f"{column}_change"] = c, p, p - c
    for column in [f"{m}_deviation_pct" for m in metrics] + ["compactness_km"]:
        out[f"{column}_current"] = summary_c[column].reindex(ids).to_numpy(dtype=float)
        out[f"{column}_proposed"] = summary_p[column].reindex(ids).to_numpy(dtype=float)
    for column in ("accounts_current", "accounts_proposed", "accounts_change"):
        out[column] = out[column].astype(int)
    stay = frame[frame["from_territory"] == frame["to_territory"]].groupby("from_territory").size()
    move = frame[frame["from_territory"] != frame["to_territory"]]
    out["accounts_kept"] = stay.reindex(ids).fillna(0).astype(int).to_numpy()
    out["accounts_out"] = move.groupby("from_territory").size().reindex(ids).fillna(0).astype(int).to_numpy()
    out["accounts_in"] = move.groupby("to_territory").size().reindex(ids).fillna(0).astype(int).to_numpy()
    return out


def _bounds_of(accounts, plan, metrics, tolerance, targets, joint_bound=False, proposed=None,
               targets_p=None) -> dict:
    """Both lower bounds on the movement from the current plan to ``tolerance`` (first metric), in percent.

    When the ``proposed`` labels (aligned with ``plan``'s accounts) close or
    open territories, the bounds are those of that headcount change, as the
    realignment reports them: closing territories must empty, new ones
    start empty, each seeded in the territory of today it takes most from,
    and the targets are the proposed plan's (``targets_p``).
    """
    if not metrics or LATITUDE not in accounts.columns or LONGITUDE not in accounts.columns:
        return {}
    from workbench.align.bounds import plan_bounds

    labels = pd.Series(plan.labels, dtype=object)
    keep = labels.notna().to_numpy() & (labels.astype(str).str.strip() != "").to_numpy()
    if keep.sum() < 2:
        return {}
    sub = accounts.loc[keep]
    now = labels[keep].astype(str).to_numpy()
    ids = np.unique(now)
    shares = None if targets is None else targets.reindex(ids).fillna(0).to_numpy()
    territories, hubs = _headcount_change(sub, now, None if proposed is None else np.asarray(proposed)[keep],
                                          metrics[0])
    if territories is not None:
        every = list(ids) + sorted(set(territories) - set(ids))
        shares = None if targets_p is None else targets_p.reindex(every).fillna(0).to_numpy()
    groups = sub[COUNTY_FIPS] if COUNTY_FIPS in sub.columns else None
    change = dict(territories=territories, hubs=hubs)
    plain, bordering = plan_bounds(sub, now, metrics[0], tolerance, shares, groups, **change)
    out = {"lower_bound_pct": plain * 100.0, "bordering_lower_bound_pct": bordering * 100.0}
    if joint_bound and len(metrics) > 1:  # every metric within at once (accounts carry their metrics together)
        from workbench.align.bounds import plan_joint_bound

        joint = plan_joint_bound(sub, now, metrics, tolerance, shares, groups, **change)
        if np.isfinite(joint):
            out["joint_lower_bound_pct"] = max(joint, bordering) * 100.0
    return out


def _headcount_change(accounts, now, proposed, metric):
    """``(territories, hubs)`` of a proposal that closes or opens territories, else ``(None, None)``.

    ``territories``: the proposal's territory ids; ``hubs``: each new one's
    territory of today, the one it takes the most ``metric`` from.

    >>> frame = pd.DataFrame({"workload": [1.0, 2.0, 1.0, 1.0]})
    >>> _headcount_change(frame, np.array(["A", "A", "B", "C"]), np.array(["A", "N", "N", "B"]), "workload")
    (['A', 'B', 'N'], {'N': 'A'})
    """
    if proposed is None:
        return None, None
    after = pd.Series(proposed, dtype=object)
    given = (after.notna() & (after.astype(str).str.strip() != "")).to_numpy()
    territories = sorted(set(after[given].astype(str)))
    if not territories or set(territories) == set(now):
        return None, None
    load = pd.to_numeric(accounts[metric], errors="coerce").fillna(0).to_numpy(dtype=float)
    taken = (pd.DataFrame({"new": after[given].astype(str).to_numpy(), "today": now[given], "load": load[given]})
             .groupby(["new", "today"], sort=True)["load"].sum())
    hubs = {t: str(taken.loc[t].idxmax()) for t in territories if t not in set(now)}
    return territories, hubs


def _disruption(frame, moved_mask, metrics, bounds=None) -> pd.Series:
    n = len(frame)
    items: dict[str, object] = {"accounts": int(n), "accounts_moved": int(moved_mask.sum()),
                                "accounts_moved_pct": float(moved_mask.mean() * 100.0) if n else 0.0}
    for m in metrics:
        total = float(np.nansum(frame[m].to_numpy()))
        shifted = float(np.nansum(frame.loc[moved_mask, m].to_numpy()))
        items[f"{m}_total"] = total
        items[f"{m}_moved"] = shifted
        items[f"{m}_moved_pct"] = shifted / total * 100.0 if total else 0.0
    touched = set(frame.loc[moved_mask, "from_territory"]) | set(frame.loc[moved_mask, "to_territory"])
    items["territories_touched"] = len(touched - {UNASSIGNED})
    # The least the first metric had to move to bring the current plan within the tolerance: with any
    # territory taking from any other, and moving only between bordering territories.
    items.update(bounds or {})
    return pd.Series(items, name="value", dtype=object)


def _retention(frame, metrics, territories) -> pd.DataFrame:
    books = frame[frame["from_territory"] != UNASSIGNED]
    kept = books["from_territory"] == books["to_territory"]
    columns = ["accounts", *metrics]
    total = books.groupby("from_territory", sort=True)[columns].sum()
    stay = books[kept.to_numpy()].groupby("from_territory", sort=True)[columns].sum().reindex(total.index,
                                                                                               fill_value=0)
    out = pd.DataFrame(index=pd.Index(total.index, name=TERRITORY_ID))
    out["rep_id"] = territories["rep_id"].reindex(out.index).to_numpy(dtype=object)
    out["rep_name"] = territories["rep_name"].reindex(out.index).to_numpy(dtype=object)
    for column in columns:
        out[column] = total[column]
        out[f"{column}_kept"] = stay[column]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{column}_kept_pct"] = np.where(total[column] > 0, stay[column] / total[column] * 100.0, 100.0)
    out["accounts"] = out["accounts"].astype(int)
    out["accounts_kept"] = out["accounts_kept"].astype(int)
    return out


def _rep_retention(frame, metrics, homes_before, homes_after, territories_c, territories_p, given) -> pd.DataFrame:
    def rep_of(territories, homes, labels):
        table = homes["rep_id"] if given else territories["rep_id"]
        return pd.Series(labels).map(table.dropna().astype(str)).to_numpy(dtype=object)

    before = rep_of(territories_c, homes_before, frame["from_territory"])
    after = rep_of(territories_p, homes_after, frame["to_territory"])
    columns = ["accounts", *metrics]
    books = frame.assign(rep_id=before, kept=(before == after))[pd.notna(before)]
    total = books.groupby("rep_id", sort=True)[columns].sum()
    stay = books[books["kept"].to_numpy(dtype=bool)].groupby("rep_id", sort=True)[columns].sum().reindex(
        total.index, fill_value=0)
    out = pd.DataFrame(index=pd.Index(total.index, name="rep_id"))
    names = territories_c.dropna(subset=["rep_id"]).drop_duplicates("rep_id").set_index("rep_id")["rep_name"]
    out["rep_name"] = names.reindex(out.index).to_numpy(dtype=object)
    for column in columns:
        out[column] = total[column]
        out[f"{column}_kept"] = stay[column]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{column}_kept_pct"] = np.where(total[column] > 0, stay[column] / total[column] * 100.0, 100.0)
    for column in ("accounts", "accounts_kept"):
        out[column] = out[column].astype(int)
    return out


def _moved_accounts(moves, accounts, metrics, tolerance, summary_c, summary_p, homes_before, homes_after):
    load = metrics[0] if metrics else "accounts"
    out = moves[[ACCOUNT_ID, "from_territory", "to_territory"]].reset_index(drop=True)
    if NAME in accounts.columns:
        out.insert(1, NAME, accounts[NAME].to_numpy())
    for m in metrics:
        out[m] = moves[m].to_numpy()
    dev = f"{load}_deviation_pct" if metrics else None

    def lookup(summary, key, column):
        return summary[column].reindex(out[key].to_numpy()).to_numpy(dtype=float)

    out["load_metric"] = load
    out["from_load_before"] = lookup(summary_c, "from_territory", load)
    out["from_load_after"] = np.nan_to_num(lookup(summary_p, "from_territory", load), nan=0.0)
    out["to_load_before"] = np.nan_to_num(lookup(summary_c, "to_territory", load), nan=0.0)
    out["to_load_after"] = lookup(summary_p, "to_territory", load)
    if dev is not None:
        out["from_deviation_before_pct"] = lookup(summary_c, "from_territory", dev)
        out["from_deviation_after_pct"] = lookup(summary_p, "from_territory", dev)
        out["to_deviation_before_pct"] = lookup(summary_c, "to_territory", dev)
        out["to_deviation_after_pct"] = lookup(summary_p, "to_territory", dev)
    if LATITUDE in accounts.columns and LONGITUDE in accounts.columns:
        lat, lon = accounts[LATITUDE].to_numpy(float), accounts[LONGITUDE].to_numpy(float)
    else:
        lat = lon = np.full(len(out), np.nan)
    home_b = homes_before.reindex(out["from_territory"].to_numpy())
    home_a = homes_after.reindex(out["to_territory"].to_numpy())
    out["distance_to_home_before_km"] = great_circle_km(lat, lon, home_b[LATITUDE], home_b[LONGITUDE])
    out["distance_to_home_after_km"] = great_circle_km(lat, lon, home_a[LATITUDE], home_a[LONGITUDE])
    out["distance_change_km"] = out["distance_to_home_after_km"] - out["distance_to_home_before_km"]
    out["explanation"] = _explain(out, load, tolerance, summary_c, summary_p)
    return out


def _territory_phrases(summary: pd.DataFrame, load: str, tolerance: float, dev_col: str | None) -> dict:
    """'T03 (1,950 h, +15% over)' per territory: a loop over territories, not accounts."""
    unit = UNITS.get(load, load)
    phrases = {}
    for territory, row in summary.iterrows():
        text = f"{float(row[load]):,.0f} {unit}"
        if dev_col is not None and pd.notna(row[dev_col]):
            d = float(row[dev_col])
            state = "over" if d > tolerance * 100 + 1e-9 else "under" if d < -tolerance * 100 - 1e-9 else "on target"
            percent = f"{d:+.0f}" if round(d) != 0 else "0"
            text += f", {percent}% {state}"
        phrases[territory] = f"{territory} ({text})"
    return phrases


def _explain(out: pd.DataFrame, load: str, tolerance: float, summary_c, summary_p) -> pd.Series:
    if out.empty:
        return pd.Series([], index=out.index, dtype="str")
    dev_col = f"{load}_deviation_pct" if load != "accounts" else "accounts_deviation_pct"
    summary_c = summary_c.copy()
    if load == "accounts":
        loads = summary_c["accounts"].astype(float)
        summary_c[dev_col] = (loads / loads.mean() - 1) * 100 if len(loads) and loads.mean() else 0.0
    phrases = _territory_phrases(summary_c, load, tolerance, dev_col)
    new = {t: f"{t} (new territory)" for t in summary_p.index.difference(summary_c.index)}
    phrases = {**new, **phrases}
    src = out["from_territory"].map(phrases).fillna(out["from_territory"])
    dst = out["to_territory"].map(phrases).fillna(out["to_territory"])
    text = np.where(out["from_territory"] == UNASSIGNED, "Newly assigned to " + dst,
                    np.where(out["to_territory"] == UNASSIGNED, "Left unassigned; was in " + src,
                             "Moved from " + src + " to " + dst))
    change = out["distance_change_km"]
    size = change.abs().map("{:,.0f}".format)
    to_rep, from_rep = "the " + out["to_territory"] + " rep's home", "the " + out["from_territory"] + " rep's"
    clause = np.select(
        [change.isna(), change <= -0.5, change >= 0.5],
        ["", ": " + size + " km closer to " + to_rep + " than to " + from_rep,
         ": " + size + " km farther from " + to_rep + " than from " + from_rep],
        default=": as far from " + to_rep + " as from " + from_rep)
    return pd.Series(text, index=out.index) + pd.Series(clause, index=out.index) + "."


def format_scorecards(scorecards: pd.DataFrame) -> str:
    """The scorecards as an aligned text table for people (see :func:`workbench.present.scorecard_text`)."""
    return present.scorecard_text(scorecards)


def _json(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None  # JSON has no NaN or infinity
    return value if isinstance(value, str) else str(value)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{str(k): _json(v) for k, v in row.items()} for row in frame.to_dict("records")]
