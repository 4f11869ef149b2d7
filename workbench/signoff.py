"""Safe sign-off: what an approver sees before approving a plan, and the warnings that need an acknowledgement.

:func:`review_plan` puts together, for people: the plan's scorecard against the
current alignment, who is affected (accounts and reps that move, the largest
transfers) and the plan's **warnings**:

* territories **out of tolerance** on a balanced metric;
* **non-contiguous** territories (with building blocks: given, or the bundled
  US counties when the accounts carry ``county_fips``), when there are more
  than today;
* **far moves**: accounts moved to a territory whose rep lives more than
  :data:`FAR_FROM_HOME_KM` away *and* farther than any account that
  territory holds today;
* **edits after the last optimisation** (reassignments by hand, on the map or
  in code, after the method made the plan).

:func:`review_and_approve` (or :func:`workbench.plan.approve` with the review),
``workbench approve`` and notebook 04 show the review and refuse a plan with warnings unless the approver acknowledges them
(``accept_warnings=True``, ``--accept-warnings``, a checkbox); the
acknowledged warnings are recorded in the approved plan
(``metadata.accepted_warnings``, covered by its record hash).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import present
from workbench.geo import great_circle_km
from workbench.schema import (ACCOUNT_ID, COUNTY_FIPS, CURRENT_TERRITORY, DEFAULT_TOLERANCE, FAR_FROM_HOME_KM,
                              LATITUDE, LONGITUDE, METRICS)

#: Edits that change who covers an account (as opposed to renaming a plan or a territory).
_ASSIGNING_EDITS = ("reassign", "merge", "split", "move", "lock", "unlock", "map")


@dataclass(frozen=True)
class ApprovalReview:
    """What an approver must see: scorecard against today, who is affected, and the warnings.

    Attributes
    ----------
    plan_name, plan_hash : str
    scorecard : pandas.DataFrame
        Current, proposed and change (or proposed only, without a current alignment).
    affected : dict
        ``accounts``, ``accounts_moved``, ``accounts_moved_pct``, ``reps_losing`` and ``reps_gaining``
        (territories with their rep's name when known, e.g. ``"T05 (Ana Diaz)"``), ``largest_transfers`` (a frame: from, to, accounts and the load metric).
    warnings : tuple of str
        Each needs the approver's acknowledgement.
    checked : dict
        What could be checked: ``current`` (a current alignment was known), ``contiguity`` (blocks),
        ``distance`` (rep homes).
    """

    plan_name: str
    plan_hash: str
    scorecard: pd.DataFrame
    affected: dict = field(default_factory=dict)
    warnings: tuple = ()
    checked: dict = field(default_factory=dict)

    @property
    def has_warnings(self) -> bool:
        """Whether approving needs an explicit acknowledgement."""
        return bool(self.warnings)

    def summary(self) -> str:
        """The review as text for the terminal (the scorecard, who is affected, the warnings)."""
        lines = [f"Review of plan {self.plan_name!r} ({self.plan_hash[:12]}) before approval", "",
                 present.scorecard_text(self.scorecard), ""]
        lines += self._affected_lines()
        transfers = self.affected.get("largest_transfers")
        if transfers is not None and len(transfers):
            lines += ["", "Largest transfers:", present.text_table(transfers, index=False)]
        lines.append("")
        if self.warnings:
            lines.append(f"Warnings ({len(self.warnings)}), each needs your acknowledgement:")
            lines += [f"  ! {w}" for w in self.warnings]
        else:
            lines.append("No warnings.")
        missing = [what for what, done in self.checked.items() if not done]
        if missing:
            lines.append(f"Not checked (no data for it): {', '.join(missing)}.")
        return "\n".join(lines)

    def _affected_lines(self) -> list[str]:
        a = self.affected
        if not a:
            return ["Who is affected: unknown (no current alignment to compare with)."]
        lines = [f"Accounts that change territory: {present.integer(a['accounts_moved'])} of "
                 f"{present.integer(a['accounts'])} ({present.percent(a['accounts_moved_pct'])})"]
        for key, verb in (("reps_losing", "lose accounts"), ("reps_gaining", "gain accounts")):
            names = a.get(key) or []
            if names:
                shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                lines.append(f"Territories (reps) that {verb}: {len(names)}: {shown}")
        return lines

    def _repr_html_(self) -> str:
        style = ("<style>.wb-approval-review table{border-collapse:collapse;margin:.3em 0}"
                 ".wb-approval-review th,.wb-approval-review td{padding:2px 10px;border-bottom:1px solid #e1e4e8}"
                 ".wb-approval-review td.num,.wb-approval-review th.num{text-align:right}</style>")
        parts = [f"{style}<div class='wb-approval-review'><h3>Review before approval: {html.escape(self.plan_name)}</h3>",
                 present.html_table(self.scorecard if _is_text(self.scorecard)
                                    else present.scorecard_table(self.scorecard), index=True,
                                    table_class="wb-table wb-review-scorecard")]
        parts += [f"<p>{html.escape(line)}</p>" for line in self._affected_lines()]
        transfers = self.affected.get("largest_transfers")
        if transfers is not None and len(transfers):
            parts.append(present.html_table(transfers, caption="Largest transfers"))
        if self.warnings:
            items = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
            parts.append(f"<div class='wb-approval-warnings' style='background:#f8d7da;color:#842029;padding:.4em .8em'>"
                         f"<b>Warnings ({len(self.warnings)}): approving needs your acknowledgement</b>"
                         f"<ul>{items}</ul></div>")
        else:
            parts.append("<p class='wb-approval-warnings' style='color:#1b5e20'><b>No warnings.</b></p>")
        return "".join(parts) + "</div>"

    def to_dict(self) -> dict:
        """JSON-ready: scorecard (raw numbers), affected, warnings, checked."""
        transfers = self.affected.get("largest_transfers")
        affected = {k: v for k, v in self.affected.items() if k != "largest_transfers"}
        if transfers is not None:
            affected["largest_transfers"] = json.loads(transfers.to_json(orient="records"))
        card = self.scorecard.astype(object).where(self.scorecard.notna(), None)
        return {"plan": {"name": self.plan_name, "content_hash": self.plan_hash},
                "scorecard": {str(k): {str(c): _plain(v) for c, v in row.items()} for k, row in card.iterrows()},
                "affected": affected, "warnings": list(self.warnings), "checked": dict(self.checked)}


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def _is_text(frame: pd.DataFrame) -> bool:
    return all(isinstance(v, str) for v in frame.to_numpy().ravel())


def _balanced_metrics(plan, accounts: pd.DataFrame, metrics) -> list[str]:
    if metrics is not None:
        return [metrics] if isinstance(metrics, str) else list(metrics)
    params = plan.metadata.parameters
    for key in ("balance_on", "metrics"):
        value = params.get(key) if hasattr(params, "get") else None
        if value:
            chosen = [value] if isinstance(value, str) else list(value)
            return [m for m in chosen if m in accounts.columns]
    return [m for m in METRICS[:1] if m in accounts.columns and pd.api.types.is_numeric_dtype(accounts[m])]


def _tolerance(plan, tolerance) -> float:
    if tolerance is not None:
        return float(tolerance)
    params = plan.metadata.parameters
    value = params.get("tolerance") if hasattr(params, "get") else None
    try:
        return float(value) if value is not None else DEFAULT_TOLERANCE
    except (TypeError, ValueError):
        return DEFAULT_TOLERANCE


def _current_plan(plan, current):
    from workbench.plan import Plan

    if isinstance(current, Plan):
        return current
    accounts = plan.accounts
    if current is None:
        if CURRENT_TERRITORY not in accounts.columns:
            return None
        return Plan.from_column(accounts, CURRENT_TERRITORY, name="current")
    if hasattr(current, "assignments"):
        current = current.assignments
    labels = pd.Series(current, dtype=object) if isinstance(current, dict) else pd.Series(current)
    labels.index = labels.index.astype(str)
    ids = accounts[ACCOUNT_ID].astype(str)
    return Plan.from_labels(accounts, labels.reindex(ids.to_numpy()).to_numpy(dtype=object), method="column",
                            name="current")


def _default_graph(accounts: pd.DataFrame, blocks, block_col):
    """Block graph for the contiguity check: given blocks, else bundled counties for county_fips accounts."""
    from workbench import metrics as _metrics

    if blocks is not None:
        return _metrics.block_graph(blocks, block_col), block_col or COUNTY_FIPS
    if COUNTY_FIPS not in accounts.columns:
        return None, None
    try:
        from workbench import bundled

        counties = bundled.load_counties()
    except Exception:  # noqa: BLE001 - without the bundled counties the check is reported as not done
        return None, None
    codes = accounts[COUNTY_FIPS].astype(str)
    if not codes.isin(counties[COUNTY_FIPS].astype(str)).all():
        return None, None
    return _county_graph(), COUNTY_FIPS


_GRAPH_CACHE: dict = {}


def _county_graph():
    if "counties" not in _GRAPH_CACHE:
        from workbench import bundled
        from workbench import metrics as _metrics

        _GRAPH_CACHE["counties"] = _metrics.block_graph(bundled.load_counties(), COUNTY_FIPS)
    return _GRAPH_CACHE["counties"]


def plan_edits(plan, lineage=None) -> list[str]:
    """Edits that changed who covers accounts after the plan was made (its own last edit and recorded steps).

    Examples
    --------
    >>> from workbench.plan import Plan
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"])
    >>> plan_edits(plan.reassign(["a"], "T2").with_name("final"))
    ['Moved 1 account from T1 to T2']
    """
    edits = [p.metadata.edit for p in plan.history()] + [s.get("edit") for s in (lineage or [])
                                                        if isinstance(s, dict)]
    seen, out = set(), []
    for edit in edits:
        if edit and str(edit).lower().startswith(_ASSIGNING_EDITS) and edit not in seen:
            seen.add(edit)
            out.append(str(edit))
    return out


def review_plan(plan, current=None, *, blocks=None, block_col: str | None = None, metrics=None,
                tolerance: float | None = None, far_km: float = FAR_FROM_HOME_KM, lineage=None,
                top: int = 5) -> ApprovalReview:
    """Everything an approver must see before signing a plan off.

    Parameters
    ----------
    plan : Plan or path
        The plan to approve (a saved plan folder is loaded, its recorded lineage read).
    current : Plan, Series or dict, optional
        Today's alignment; default the accounts' ``current_territory`` column when present.
    blocks : GeoDataFrame, optional
        Building blocks for the contiguity check (default the bundled counties for accounts with
        ``county_fips``); ``block_col`` names the accounts' block column.
    metrics : sequence of str, optional
        Balanced metrics checked against the tolerance (default the plan's ``balance_on``, else workload).
    tolerance : float, optional
        Default the plan's ``tolerance`` parameter, else :data:`~workbench.schema.DEFAULT_TOLERANCE`.
    far_km : float, default :data:`FAR_FROM_HOME_KM`
    lineage : list of dict, optional
        Recorded steps of a saved plan (read from its folder when ``plan`` is a path).
    top : int, default 5
        Largest transfers shown.

    Returns
    -------
    ApprovalReview

    Examples
    --------
    >>> from workbench.plan import Plan
    >>> accounts = pd.DataFrame({"account_id": list("abcd"), "latitude": [40.0, 40.1, 41.0, 41.1],
    ...     "longitude": [-75.0, -75.1, -76.0, -76.1], "workload": [10.0, 10, 10, 10],
    ...     "current_territory": ["T1", "T1", "T2", "T2"]})
    >>> plan = Plan.from_labels(accounts, ["T1", "T2", "T2", "T2"], name="q3")
    >>> review = review_plan(plan)
    >>> review.affected["accounts_moved"], review.warnings[0]
    (1, 'workload: 2 of 2 territories are outside the ±5.0% tolerance (worst T1 -50.0%)')
    """
    from workbench import metrics as _metrics
    from workbench.compare import compare_plans
    from workbench.plan import Plan, load_plan

    if not isinstance(plan, Plan):
        path = Path(plan)
        plan = load_plan(path)
        if lineage is None:
            lineage = read_lineage(path)
    accounts = plan.accounts
    balanced = _balanced_metrics(plan, accounts, metrics)
    tol = _tolerance(plan, tolerance)
    current_plan = _current_plan(plan, current)
    graph, block_col = _default_graph(accounts, blocks, block_col)
    warnings: list[str] = []
    checked = {"current alignment": current_plan is not None, "contiguity": graph is not None,
               "distance to reps' homes": bool(_metrics.rep_homes(plan.territories).shape[0])}
    shown_metrics = list(dict.fromkeys([*balanced, *[m for m in METRICS if m in accounts.columns
                                                     and pd.api.types.is_numeric_dtype(accounts[m])]]))
    affected: dict = {}
    if current_plan is not None:
        comparison = compare_plans(current_plan, plan, metrics=shown_metrics or None, tolerance=tol,
                                   adjacency=graph, block_col=block_col, reps=None)
        scorecard = comparison.scorecards
        deltas = comparison.territory_deltas
        deviation = {m: deltas[f"{m}_deviation_pct_proposed"] for m in balanced}
        affected = _affected(comparison, top)
        warnings += _far_moves(plan, current_plan, far_km)
    else:
        summary = _metrics.territory_summary(accounts, plan.labels, shown_metrics, tolerance=tol)
        scorecard = _metrics.scorecard(accounts, plan.labels, shown_metrics, tolerance=tol,
                                       summary=summary).rename("proposed").to_frame()
        deviation = {m: summary[f"{m}_deviation_pct"] for m in balanced}
    for metric, values in deviation.items():
        out = values[values.abs() > tol * 100 + 1e-9]
        if len(out):
            worst = out.abs().idxmax()
            warnings.append(f"{metric}: {len(out)} of {len(values)} territories are outside the "
                            f"±{present.percent(tol, fraction=True)} tolerance (worst {worst} "
                            f"{present.percent(values[worst], signed=True)})")
    if graph is not None:
        warnings += _contiguity(plan, current_plan, graph, block_col)
    edits = plan_edits(plan, lineage)
    if edits:
        shown = "; ".join(edits[:3]) + (f"; and {len(edits) - 3} more" if len(edits) > 3 else "")
        warnings.append(f"edited after the last optimisation ({plan.metadata.method or 'method unknown'}): {shown}")
    return ApprovalReview(plan_name=plan.metadata.name, plan_hash=plan.content_hash, scorecard=scorecard,
                          affected=affected, warnings=tuple(warnings), checked=checked)


def review_and_approve(plan, by: str, note: str = "", *, accept_warnings: bool = False, current=None,
                       blocks=None, block_col: str | None = None):
    """Review a draft plan (:func:`review_plan`) and approve it (:func:`workbench.plan.approve`) in one call.

    A plan with warnings is approved only with ``accept_warnings=True``; the
    warnings acknowledged are recorded in ``metadata.accepted_warnings``.
    ``current``, ``blocks`` and ``block_col`` are passed to :func:`review_plan`.

    Examples
    --------
    >>> from workbench.plan import Plan
    >>> plan = Plan.from_labels(pd.DataFrame({"account_id": ["a"]}), ["T1"])
    >>> review_and_approve(plan, by="Dana Sales VP").metadata.approved_by
    'Dana Sales VP'
    """
    from workbench.plan import approve

    review = review_plan(plan, current, blocks=blocks, block_col=block_col)
    return approve(plan, by, note, review=review, accept_warnings=accept_warnings)


def _affected(comparison, top: int) -> dict:
    d = comparison.disruption
    deltas = comparison.territory_deltas
    names = {}
    for plan in (comparison.proposed, comparison.current):
        territories = plan.territories
        if "rep_name" in territories.columns:
            for territory, rep in territories["rep_name"].items():
                if isinstance(rep, str) and rep and territory not in names:
                    names[territory] = rep
    label = lambda t: f"{t} ({names[t]})" if t in names else str(t)  # noqa: E731
    losing = [label(t) for t in deltas.index[deltas["accounts_out"] > 0]]
    gaining = [label(t) for t in deltas.index[deltas["accounts_in"] > 0]]
    transfers = comparison.transfer_matrix
    transfers = transfers[transfers["from_territory"] != transfers["to_territory"]]
    load = comparison.load_metric if comparison.load_metric in transfers.columns else "accounts"
    columns = ["from_territory", "to_territory", "accounts"] + ([load] if load != "accounts" else [])
    largest = transfers.sort_values([load, "from_territory"], ascending=[False, True], kind="stable").head(top)
    return {"accounts": int(d["accounts"]), "accounts_moved": int(d["accounts_moved"]),
            "accounts_moved_pct": float(d["accounts_moved_pct"]), "reps_losing": losing, "reps_gaining": gaining,
            "largest_transfers": largest[columns].reset_index(drop=True)}


def _far_moves(plan, current_plan, far_km: float) -> list[str]:
    from workbench import metrics as _metrics

    homes = _metrics.rep_homes(plan.territories)
    accounts = plan.accounts
    if not len(homes) or LATITUDE not in accounts.columns:
        return []
    after = pd.Series(plan.labels, dtype=object).astype(str).to_numpy()
    before = pd.Series(current_plan.labels_for(accounts, missing="nan"), dtype=object).astype(str).to_numpy()
    lat, lon = accounts[LATITUDE].to_numpy(float), accounts[LONGITUDE].to_numpy(float)
    home = homes.reindex(after)
    distance = great_circle_km(lat, lon, home[LATITUDE].to_numpy(), home[LONGITUDE].to_numpy())
    # the farthest any account of each territory is today from that territory's (new) rep's home
    today = homes.reindex(before)
    today_distance = great_circle_km(lat, lon, today[LATITUDE].to_numpy(), today[LONGITUDE].to_numpy())
    farthest = pd.Series(today_distance).groupby(before).max()
    limit = np.maximum(far_km, pd.Series(after).map(farthest).fillna(0.0).to_numpy(dtype=float))
    with np.errstate(invalid="ignore"):
        far = (after != before) & (distance > limit)
    if not far.any():
        return []
    worst = int(np.nanargmax(np.where(far, distance, -np.inf)))
    name = accounts["name"].iloc[worst] if "name" in accounts.columns else accounts[ACCOUNT_ID].iloc[worst]
    rep = plan.territories["rep_name"].get(after[worst]) if "rep_name" in plan.territories else None
    return [f"{present.count(far.sum(), 'moved account')} {'is' if far.sum() == 1 else 'are'} far from their new rep's home (over "
            f"{present.km(far_km)} and farther than that territory reaches today); farthest: {name} to "
            f"{after[worst]}{f' ({rep})' if isinstance(rep, str) and rep else ''}, {present.km(distance[worst])}"]


def _contiguity(plan, current_plan, graph, block_col) -> list[str]:
    from workbench import metrics as _metrics

    accounts = plan.accounts
    proposed = _metrics.contiguity(accounts, plan.labels, adjacency=graph, block_col=block_col)
    broken = proposed.index[~proposed["contiguous"].astype(bool)].tolist()
    if not broken:
        return []
    today = 0
    if current_plan is not None:
        now = _metrics.contiguity(accounts, current_plan.labels_for(accounts, missing="nan"), adjacency=graph,
                                  block_col=block_col)
        today = int((~now["contiguous"].astype(bool)).sum())
    if len(broken) <= today:
        return []
    shown = ", ".join(map(str, broken[:8])) + (f" and {len(broken) - 8} more" if len(broken) > 8 else "")
    what = "territory is" if len(broken) == 1 else "territories are"
    return [f"{len(broken)} {what} not contiguous ({shown}); today: {today}"]


def read_lineage(path) -> list:
    """The recorded unsaved steps in a saved plan's manifest (empty when none or unreadable)."""
    try:
        manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    lineage = manifest.get("lineage") if isinstance(manifest, dict) else None
    return lineage if isinstance(lineage, list) else []


__all__ = ["ApprovalReview", "review_plan", "plan_edits", "read_lineage", "FAR_FROM_HOME_KM"]
