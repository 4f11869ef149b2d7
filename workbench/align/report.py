"""The honest report every alignment fit leaves behind in ``report_``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from workbench import metrics
from workbench.schema import WORKLOAD


class ToleranceWarning(UserWarning):
    """An alignment finished without reaching the requested balance tolerance."""


@dataclass(frozen=True)
class AlignmentReport:
    """What a fit produced and how good it is.

    Attributes
    ----------
    method : str
        Estimator name, e.g. ``"balanced"``.
    territories : pandas.DataFrame
        Per territory: ``accounts``, the total of each metric, its deviation
        from the target (``<metric>_deviation``, a share), and
        ``compactness_km``.
    max_deviation : dict
        Largest absolute deviation per balanced metric (0.05 = 5%).
    tolerance : float or None
        The tolerance asked for (None when nothing was balanced).
    within_tolerance : bool
        Every balanced metric is within ``tolerance``.
    compactness_km : float
        Workload-weighted mean great-circle distance of accounts to their
        territory centre.
    contiguous : bool or None
        Every territory is connected (None when not built from blocks).
    moved_share : float or None
        Share of the workload (or first balanced metric) that changed
        territory against the current alignment (None without one).
    moved_accounts : int or None
        Number of accounts that changed territory.
    lower_bound_share : float or None
        Share that had to move at the least to reach the tolerance, if any
        territory could take load from any other (the plain bound).
    bordering_lower_bound_share : float or None
        Share that had to move at the least when load only moves between
        bordering territories (see :mod:`workbench.align.bounds`).
    joint_lower_bound_share : float or None
        With several balanced metrics: share that had to move at the least
        to bring *every* balanced metric within the tolerance at once, load
        moving only between bordering territories (accounts carry their
        metrics together; :func:`workbench.align.bounds.joint_lower_bound`).
        None with one metric (it is then the bordering bound's setting).
    n_iter : int
        Iterations used.
    converged : bool
        The method's own stopping rule was met.
    seconds : float
        Wall-clock time of the fit.
    warnings : tuple of str
        Everything the user should know (tolerance missed, infeasible parts).
    opened, closed : tuple of str
        Territories a realignment opened (new ids) or closed.
    unequal_targets : bool
        Territories had unequal targets (rep capacities): every deviation is
        from the territory's own target, not from the mean, and the summary
        says so.
    current_compactness_km : float or None
        ``compactness_km`` of the current alignment, measured the same way
        (each territory around its own centre), when there is one: the
        realignment's compactness beside what it replaces.
    dispersion : dict or None
        Contiguous fits: the dispersion objective searched, both measures
        (``weighted_mean_km``, ``median_sum_km``), Polsby-Popper mean and
        minimum (None without polygons) and what the improvement phase did
        (``search``); see :func:`workbench.align.dispersion.dispersion_summary`.
    """

    method: str
    territories: pd.DataFrame
    max_deviation: dict
    tolerance: float | None
    within_tolerance: bool
    compactness_km: float
    contiguous: bool | None = None
    moved_share: float | None = None
    moved_accounts: int | None = None
    lower_bound_share: float | None = None
    n_iter: int = 0
    converged: bool = True
    seconds: float = 0.0
    warnings: tuple = field(default_factory=tuple)
    bordering_lower_bound_share: float | None = None
    opened: tuple = field(default_factory=tuple)
    closed: tuple = field(default_factory=tuple)
    dispersion: dict | None = None
    unequal_targets: bool = False
    current_compactness_km: float | None = None
    joint_lower_bound_share: float | None = None

    def summary(self) -> str:
        """A few lines for people: balance per metric, compactness, movement, time."""
        lines = [f"method: {self.method}, territories: {len(self.territories)}"]
        for metric, value in self.max_deviation.items():
            status = "" if self.tolerance is None else ("  ok" if value <= self.tolerance + 1e-12 else "  NOT within tolerance")
            lines.append(f"max deviation {metric}: {value:.1%}{status}")
        if self.unequal_targets and self.max_deviation:
            lines.append("deviations are from each territory's own target (its rep's capacity), not from the mean")
        compact = f"compactness: {self.compactness_km:,.0f} km (weighted mean distance to centre"
        if self.current_compactness_km is not None:
            compact += f"; current plan {self.current_compactness_km:,.0f} km"
        lines.append(compact + ")")
        if self.contiguous is not None:
            lines.append(f"contiguous: {'yes' if self.contiguous else 'no'}")
        if self.moved_share is not None:
            moved = f"moved: {self.moved_share:.1%} of {self.moved_basis}"
            if self.moved_accounts is not None:
                moved += f" ({self.moved_accounts:,} {'account' if self.moved_accounts == 1 else 'accounts'})"
            lines.append(moved)
            lines += self.bound_lines()
        if self.opened:
            lines.append(f"opened: {', '.join(self.opened)} (new territories)")
        if self.closed:
            lines.append(f"closed: {', '.join(self.closed)} (their accounts went to bordering territories)")
        if self.dispersion is not None:
            lines.append(_dispersion_line(self.dispersion))
        lines.append(f"iterations: {self.n_iter}, converged: {'yes' if self.converged else 'no'}, seconds: {self.seconds:.2f}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def with_territory_ids(self, names: dict) -> AlignmentReport:
        """The same report with its territories renamed (``names``: fitted id -> new id; others kept).

        :meth:`workbench.plan.Plan.from_fit` with ``labels=`` renames a fit's territories (e.g. after
        :func:`~workbench.align.match_territory_ids`); this makes the report speak of the same ids.

        Examples
        --------
        >>> accounts = pd.DataFrame({"latitude": [0.0, 1.0], "longitude": [0.0, 0.0], "workload": [1.0, 1.0]})
        >>> report = build_report(accounts, ["T001", "T002"], method="demo", balance_on=["workload"], tolerance=0.05)
        >>> report.with_territory_ids({"T001": "East", "T002": "West"}).territories.index.tolist()
        ['East', 'West']
        """
        rename = {str(k): str(v) for k, v in names.items()}
        territories = self.territories.rename(index=lambda t: rename.get(str(t), t))
        return replace(self, territories=territories, opened=tuple(rename.get(str(t), t) for t in self.opened),
                       closed=tuple(rename.get(str(t), t) for t in self.closed))

    @property
    def moved_basis(self) -> str:
        """The metric the moved share and its bounds are shares of: the first balanced metric (else workload)."""
        return next(iter(self.max_deviation), WORKLOAD)

    def bound_lines(self) -> list[str]:
        """The lower bounds on the movement and the moved share's ratio to each, for people."""
        lines = []
        for label, bound in (("lower bound (any territory may take from any other)", self.lower_bound_share),
                             ("lower bound (moves only between bordering territories)",
                              self.bordering_lower_bound_share),
                             ("lower bound (moves only between bordering territories, all balanced metrics)",
                              self.joint_lower_bound_share)):
            if bound is None:
                continue
            ratio, why = "", None
            if self.moved_share is not None:
                ratio = (f"; moved {self.moved_share / bound:.2f}x that" if bound > 0 else
                         "; nothing had to move")
                if bound > 0 and round(self.moved_share / bound, 2) < 1.0:  # a ratio under 1.00x says why
                    why = ("  (under 1.00x: the tolerance was not reached)" if not self.within_tolerance else
                           "  (under 1.00x: some load went between territories that came to border only after "
                           "earlier moves; the bound counts moves between territories bordering today)")
            lines.append(f"{label}: {bound:.1%} of {self.moved_basis}{ratio}")
            if why:
                lines.append(why)
        return lines

    def to_dict(self) -> dict:
        """JSON-ready dict (territory table as records)."""
        out = {k: getattr(self, k) for k in (
            "method", "max_deviation", "tolerance", "within_tolerance", "compactness_km", "contiguous",
            "moved_share", "moved_accounts", "lower_bound_share", "bordering_lower_bound_share", "n_iter",
            "converged", "seconds", "dispersion", "unequal_targets", "current_compactness_km", "joint_lower_bound_share")}
        out["opened"], out["closed"] = list(self.opened), list(self.closed)
        out["warnings"] = list(self.warnings)
        out["territories"] = self.territories.reset_index().to_dict("records")
        return out


def _unequal(targets) -> bool:
    """Targets differ between territories (rep capacities), so deviations are from each one's own target."""
    values = None if targets is None else np.asarray(targets, dtype=float)
    return values is not None and values.size > 1 and bool(np.ptp(values) > 1e-12)


def _dispersion_line(info: dict) -> str:
    """One line for people: both dispersion measures, Polsby-Popper, and what the search gained."""
    line = (f"dispersion ({info['objective']}): weighted mean {info['weighted_mean_km']:,.1f} km to the centre, "
            f"{info['median_sum_km']:,.0f} km in all from blocks to their territory's median block")
    if info.get("polsby_popper_mean") is not None:
        line += f"; Polsby-Popper mean {info['polsby_popper_mean']:.2f} (lowest {info['polsby_popper_min']:.2f})"
    search = info.get("search")
    if search:
        line += f"; the improvement phase lowered it {search['gain']:.1%} in {search['seconds']:.1f} s"
    return line


def build_report(
    accounts: pd.DataFrame,
    labels,
    *,
    method: str,
    balance_on=(),
    tolerance: float | None = None,
    targets=None,
    contiguous: bool | None = None,
    current=None,
    lower_bound_share: float | None = None,
    n_iter: int = 0,
    converged: bool = True,
    seconds: float = 0.0,
    extra_warnings=(),
    warn: bool = True,
    territory_ids=None,
) -> AlignmentReport:
    """Measure an alignment and build its :class:`AlignmentReport`.

    Issues a :class:`ToleranceWarning` (never silence) when a balanced metric
    is outside ``tolerance``.

    Parameters
    ----------
    accounts : pandas.DataFrame
    labels : array-like
        Territory id per account row.
    method : str
    balance_on : sequence of str
        Metrics that were balanced.
    tolerance : float, optional
    targets : pandas.Series, optional
        Target share per territory (unequal capacities); default equal.
    contiguous : bool, optional
    current : array-like, optional
        Current territory per account, to measure movement.
    lower_bound_share, n_iter, converged, seconds, extra_warnings
        Passed through from the method.
    warn : bool, default True
        Emit the ToleranceWarning.
    territory_ids : sequence of str, optional
        Every territory of the alignment. Territories that got no account are
        then reported with zero loads (and count in the deviation) instead of
        being left out.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0], "longitude": [0.0, 0.1, 0.0, 0.1],
    ...                          "workload": [1.0, 1.0, 1.0, 1.0]})
    >>> report = build_report(accounts, ["a", "a", "b", "b"], method="demo", balance_on=["workload"], tolerance=0.05)
    >>> report.max_deviation, report.within_tolerance
    ({'workload': 0.0}, True)
    """
    labels = np.asarray(labels)
    balance_on = list(balance_on)
    shown = list(dict.fromkeys(balance_on + [m for m in (WORKLOAD,) if m in accounts.columns]))
    loads = metrics.territory_loads(accounts, labels, shown)
    if territory_ids is not None:
        everything = pd.Index(sorted(set(map(str, territory_ids)) | set(map(str, loads.index))), name=loads.index.name)
        loads = loads.reindex(everything, fill_value=0)
    deviation = metrics.deviation_from_mean(loads, shown, targets)
    table = loads.copy()
    for metric in shown:
        table[f"{metric}_deviation"] = deviation[metric]
    weight = WORKLOAD if WORKLOAD in accounts.columns else None
    centres = metrics.territory_centres(accounts, labels, weight)
    table["compactness_km"] = metrics.compactness_km(accounts, labels, weight, centres)
    table["centre_latitude"] = centres["latitude"]
    table["centre_longitude"] = centres["longitude"]
    max_dev = {m: float(deviation[m].abs().max()) if len(deviation) else 0.0 for m in balance_on}
    within = tolerance is None or all(v <= tolerance + 1e-9 for v in max_dev.values())
    notes = list(extra_warnings)
    if not within:
        worst = ", ".join(f"{m} {v:.1%}" for m, v in max_dev.items() if v > tolerance + 1e-9)
        notes.append(f"tolerance {tolerance:.1%} not met: max deviation {worst}")
    moved_share = moved_accounts = current_compactness = None
    if current is not None:
        current = np.asarray(current)
        current_compactness = metrics.overall_compactness_km(accounts, current, weight)
        moved = current != labels
        moved_accounts = int(moved.sum())
        basis = accounts[balance_on[0]] if balance_on else (accounts[WORKLOAD] if WORKLOAD in accounts.columns else None)
        if basis is not None and float(basis.sum()) > 0:
            moved_share = float(basis.to_numpy()[moved].sum() / basis.sum())
        else:
            moved_share = float(moved.mean()) if len(moved) else 0.0
    if warn:
        for note in notes:
            warnings.warn(note, ToleranceWarning, stacklevel=3)
    return AlignmentReport(
        method=method,
        territories=table,
        max_deviation=max_dev,
        tolerance=tolerance,
        within_tolerance=within,
        compactness_km=metrics.overall_compactness_km(accounts, labels, weight, centres),
        unequal_targets=_unequal(targets),
        contiguous=contiguous,
        moved_share=moved_share,
        moved_accounts=moved_accounts,
        current_compactness_km=current_compactness,
        lower_bound_share=lower_bound_share,
        n_iter=int(n_iter),
        converged=bool(converged),
        seconds=float(seconds),
        warnings=tuple(notes),
    )
