"""Everything at once: :func:`assess_capacity`, and its hand-off to the headcount realignment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.geo import great_circle_km
from workbench.schema import CAPACITY_HOURS, LATITUDE, LONGITUDE, REP_ID, REP_NAME, TERRITORY_ID, WORKLOAD

from workbench.capacity.hires import suggest_hires
from workbench.capacity.utilisation import (DEFAULT_BAND, TARGET_UTILISATION, check_target, count_reps_needed,
                                            rep_capacities, rep_utilisation, team_utilisation)


# --------------------------------------------------------------------------- everything at once

@dataclass(frozen=True)
class CapacityAssessment:
    """Utilisation, reps needed and suggested hires, as :func:`assess_capacity` returns them.

    Attributes
    ----------
    reps : pandas.DataFrame
        :func:`rep_utilisation` table.
    team : dict
        :func:`team_utilisation` totals.
    reps_needed : int
        Reps the workload needs at ``target``.
    hires : pandas.DataFrame
        :func:`suggest_hires` rows, ``reps_needed - current reps`` of them (none when overstaffed).
    surplus_territories : list of str
        When overstaffed: the least utilised territories, one per rep too many
        (candidates to close or merge; ``Realignment(close=...)`` takes them).
    target : float
    new_rep_capacity : float
    """

    reps: pd.DataFrame
    team: dict
    reps_needed: int
    hires: pd.DataFrame
    surplus_territories: list = field(default_factory=list)
    target: float = TARGET_UTILISATION
    new_rep_capacity: float = float("nan")

    @property
    def current_reps(self) -> int:
        """Number of reps today."""
        return int(self.team["reps"])

    @property
    def change(self) -> int:
        """Reps to add (positive) or that the workload does not need (negative)."""
        return self.reps_needed - self.current_reps

    def to_dict(self) -> dict:
        """Plain JSON-ready data: what ``workbench capacity --json`` prints."""
        def number(value):
            value = float(value)
            return value if math.isfinite(value) else None

        reps = [{REP_ID: r[REP_ID], "name": r[REP_NAME], TERRITORY_ID: r[TERRITORY_ID], "accounts": int(r["accounts"]),
                 "workload": round(float(r["workload"]), 1), CAPACITY_HOURS: number(r[CAPACITY_HOURS]),
                 "utilisation": number(r["utilisation"]),
                 "spare_hours": None if number(r["spare_hours"]) is None else round(float(r["spare_hours"]), 1),
                 "status": r["status"]}
                for r in self.reps.to_dict("records") if r[REP_ID] is not None and not pd.isna(r[REP_ID])]
        hires = [{REP_ID: h[REP_ID], LATITUDE: float(h[LATITUDE]), LONGITUDE: float(h[LONGITUDE]),
                  "workload": float(h["workload"]), CAPACITY_HOURS: float(h[CAPACITY_HOURS]),
                  "utilisation": float(h["utilisation"]), "from_territories": dict(h["from_territories"]),
                  **({"near": h["near"]} if "near" in h else {})}
                 for h in self.hires.to_dict("records")]
        team = self.team
        return {
            "reps_needed": int(self.reps_needed),
            "current_reps": self.current_reps,
            "change": int(self.change),
            "utilisation": number(team["utilisation"]),
            "target_utilisation": float(self.target),
            "workload": round(float(team["workload"]), 1),
            "capacity_hours": float(team["capacity_hours"]),
            "new_rep_capacity_hours": number(self.new_rep_capacity),
            "over": team["over"], "under": team["under"], "on_target": team["on_target"],
            "territories_without_rep": list(team["territories_without_rep"]),
            "reps": reps,
            "hires": hires,
            "surplus_territories": list(self.surplus_territories),
        }


def assess_capacity(accounts: pd.DataFrame, reps: pd.DataFrame, *, labels=None, current_col: str | None = None,
                    workload_col: str = WORKLOAD, capacity_col: str = CAPACITY_HOURS,
                    target: float = TARGET_UTILISATION, new_rep_capacity: float | None = None,
                    band: float = DEFAULT_BAND, **hire_options) -> CapacityAssessment:
    """Utilisation per rep and for the team, the reps needed at ``target``, and where to hire.

    Parameters
    ----------
    accounts, reps : pandas.DataFrame
    labels : array-like, optional
        Territory of each account; default ``accounts[current_col]``.
    current_col : str, optional
        Column of the current territory (default ``current_territory``).
    workload_col, capacity_col : str
    target : float, default 0.85
    new_rep_capacity : float, optional
        Hours of a new rep; default the current reps' mean.
    band : float, default 0.10
    **hire_options
        Passed to :func:`suggest_hires` (``radius_km``, ``max_cells``, ``max_iter``).

    Returns
    -------
    CapacityAssessment

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0], "longitude": [0.0, 0.01, 1.0, 1.01],
    ...                          "workload": [400.0, 400.0, 700.0, 700.0], "current_territory": ["W", "W", "E", "E"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["W", "E"], "latitude": [0.0, 1.0],
    ...                      "longitude": [0.0, 1.0], "capacity_hours": [1000.0, 1000.0]})
    >>> result = assess_capacity(accounts, reps)
    >>> result.reps_needed, round(result.team["utilisation"], 2), result.hires["from_territories"].tolist()
    (3, 1.1, [{'E': 850.0}])
    """
    from workbench.schema import CURRENT_TERRITORY

    target = check_target(target)
    if labels is None:
        column = current_col or CURRENT_TERRITORY
        if column not in accounts.columns:
            raise InputError(f"accounts have no current territory column {column!r} (columns: "
                             f"{list(accounts.columns)}); utilisation needs each account's territory (--current COL)")
        labels = accounts[column]
    table = rep_utilisation(accounts, labels, reps, workload_col=workload_col, capacity_col=capacity_col,
                            target=target, band=band)
    team = team_utilisation(table, target)
    capacity = rep_capacities(reps, capacity_col)
    new = float(capacity.mean()) if new_rep_capacity is None else float(new_rep_capacity)
    needed = count_reps_needed(team["workload"], capacity, target, new)
    n_hires = max(0, needed - len(reps))
    hires = suggest_hires(accounts, labels, reps, n_hires, target=target, new_rep_capacity=new,
                          workload_col=workload_col, capacity_col=capacity_col, **hire_options)
    surplus = []
    if needed < len(reps):
        staffed = table[table[REP_ID].notna() & table[TERRITORY_ID].notna()]
        staffed = staffed.sort_values(["utilisation", TERRITORY_ID], kind="stable")
        surplus = staffed[TERRITORY_ID].astype(str).head(len(reps) - needed).tolist()
    return CapacityAssessment(table, team, needed, hires, surplus, target, new)


# --------------------------------------------------------------------------- hand-off to the realignment

def headcount_reps(reps: pd.DataFrame, assessment: CapacityAssessment) -> pd.DataFrame:
    """The reps of the headcount the assessment asks for, as the realignment takes them.

    Today's reps, plus one row per suggested hire (``rep_id`` ``NEW01``...,
    named "New rep NEW01", home at the suggested place, no ``territory_id``:
    :class:`~workbench.align.Realignment` opens a new territory around a rep
    without one), less the reps of the ``surplus_territories`` when the team
    is larger than the workload needs (a territory whose rep is not in the
    file closes). ``workbench capacity --reps-out FILE`` writes this table for
    ``workbench align --current COL --reps FILE``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 1.0, 1.0], "longitude": [0.0, 0.01, 1.0, 1.01],
    ...                          "workload": [400.0, 400.0, 700.0, 700.0], "current_territory": ["W", "W", "E", "E"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "territory_id": ["W", "E"], "latitude": [0.0, 1.0],
    ...                      "longitude": [0.0, 1.0], "capacity_hours": [1000.0, 1000.0]})
    >>> headcount_reps(reps, assess_capacity(accounts, reps))[["rep_id", "territory_id"]].to_dict("list")
    {'rep_id': ['R1', 'R2', 'NEW01'], 'territory_id': ['W', 'E', None]}
    """
    keep = reps
    if assessment.surplus_territories and TERRITORY_ID in reps.columns:
        keep = reps[~reps[TERRITORY_ID].astype(str).isin(assessment.surplus_territories)]
    hires = assessment.hires
    taken = set(keep[REP_ID].astype(str))
    clash = sorted(taken & set(hires[REP_ID].astype(str)))
    if clash:
        raise InputError(f"reps already use the ids {clash[:5]} given to suggested hires; rename those reps")
    new = pd.DataFrame({REP_ID: hires[REP_ID].astype(object), REP_NAME: "New rep " + hires[REP_ID].astype(str),
                        TERRITORY_ID: pd.Series([None] * len(hires), dtype=object),
                        LATITUDE: hires[LATITUDE].to_numpy(dtype=float),
                        LONGITUDE: hires[LONGITUDE].to_numpy(dtype=float),
                        CAPACITY_HOURS: hires[CAPACITY_HOURS].to_numpy(dtype=float)})
    if "near" in hires.columns:
        new["home_city"] = hires["near"].to_numpy(dtype=object)
    out = pd.concat([keep.reset_index(drop=True), new], ignore_index=True) if len(new) else keep.reset_index(drop=True)
    out[TERRITORY_ID] = out[TERRITORY_ID].astype(object).where(out[TERRITORY_ID].notna(), None)
    return out


def realign_headcount(accounts: pd.DataFrame, reps: pd.DataFrame, assessment: CapacityAssessment, *,
                      current_col: str | None = None, balance_on=(WORKLOAD,), tolerance: float | None = None,
                      name: str = "headcount", return_model: bool = False, **options):
    """Hand the assessment to the headcount realignment: one call, one draft plan.

    Runs ``Realignment(n_territories=reps_needed, close=surplus_territories)``
    on :func:`headcount_reps`: each hire opens a territory around their home,
    taking workload from the overloaded territories around it; when the team is
    too large, the surplus territories close and their accounts go to their
    neighbours. Current territory ids are kept.

    Parameters
    ----------
    accounts, reps : pandas.DataFrame
        As given to :func:`assess_capacity`.
    assessment : CapacityAssessment
    current_col : str, optional
        Current territory column (default ``current_territory``).
    balance_on, tolerance
        Passed to :class:`~workbench.align.Realignment` (default workload, 5%).
    name : str, default "headcount"
        Name of the draft plan.
    return_model : bool, default False
        Also return the fitted realignment (its ``report_``: moves, lower bounds, opened/closed).
    **options
        Other :class:`~workbench.align.Realignment` parameters (``max_moved_share``, ``lock_col``, ...).

    Returns
    -------
    Plan or (Plan, Realignment)
        A draft plan whose new territories carry their hire as rep.
    """
    from workbench.align import Realignment
    from workbench.plan import Plan
    from workbench.schema import CURRENT_TERRITORY, DEFAULT_TOLERANCE

    current_col = current_col or CURRENT_TERRITORY
    team = headcount_reps(reps, assessment)
    model = Realignment(n_territories=assessment.reps_needed, close=list(assessment.surplus_territories) or None,
                        balance_on=balance_on, current_col=current_col,
                        tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance, **options)
    model.fit(accounts, reps=team)
    team = _name_new_territories(team, model)
    parameters = {"reps_needed": int(assessment.reps_needed), "current_reps": assessment.current_reps,
                  "target_utilisation": float(assessment.target), "hires": team.loc[team[REP_ID].isin(
                      assessment.hires[REP_ID]), REP_ID].tolist(),
                  "closed": list(getattr(model, "closed_", ()) or ()), "opened": list(getattr(model, "opened_", ()) or ()),
                  "balance_on": list(model.report_.balance_on) if hasattr(model.report_, "balance_on") else None,
                  "tolerance": float(model.tolerance)}
    plan = Plan.from_labels(accounts, model.labels_, method="headcount_realignment", parameters=parameters,
                            name=name, reps=team[team[TERRITORY_ID].notna()])
    return (plan, model) if return_model else plan


def _name_new_territories(team: pd.DataFrame, model) -> pd.DataFrame:
    """Give each hire the id of the territory the realignment opened around their home."""
    opened = list(getattr(model, "opened_", ()) or ())
    new = team[TERRITORY_ID].isna().to_numpy()
    if not opened or not new.any():
        return team
    centres = model.centres_.loc[opened] if hasattr(model.centres_, "loc") else None
    out = team.copy()
    rows = np.flatnonzero(new)
    if centres is not None and len(centres) == len(rows):
        km = great_circle_km(out[LATITUDE].to_numpy()[rows][:, None], out[LONGITUDE].to_numpy()[rows][:, None],
                             centres[LATITUDE].to_numpy()[None, :], centres[LONGITUDE].to_numpy()[None, :])
        from scipy.optimize import linear_sum_assignment

        hire, territory = linear_sum_assignment(km)
        out.loc[out.index[rows[hire]], TERRITORY_ID] = np.asarray(opened, dtype=object)[territory]
    return out
