"""Capacity tables for people: utilisation and suggested hires with hours, percents and readable headers."""

from __future__ import annotations

import pandas as pd

from workbench.schema import CAPACITY_HOURS, LATITUDE, LONGITUDE, REP_ID, REP_NAME, TERRITORY_ID


def format_utilisation(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`rep_utilisation` table for people: whole hours, utilisation in percent, readable headers.

    Examples
    --------
    >>> table = pd.DataFrame({"rep_id": ["R1"], "name": ["Ann"], "territory_id": ["T1"], "accounts": [1200],
    ...                       "workload": [1530.4], "capacity_hours": [1800.0], "utilisation": [0.85022],
    ...                       "spare_hours": [269.6], "status": ["on target"]})
    >>> format_utilisation(table).iloc[0].tolist()
    ['R1', 'Ann', 'T1', '1,200', '1,530 h', '1,800 h', '85.0%', '270 h', 'on target']
    """
    from workbench.present import MISSING, hours, integer, percent

    return pd.DataFrame({
        "Rep": table[REP_ID].fillna(MISSING), "Name": table[REP_NAME].fillna(MISSING),
        "Territory": table[TERRITORY_ID].fillna("(none)"), "Accounts": table["accounts"].map(integer),
        "Workload": table["workload"].map(hours), "Capacity": table[CAPACITY_HOURS].map(hours),
        "Utilisation": table["utilisation"].map(lambda v: percent(v, fraction=True)),
        "Spare": table["spare_hours"].map(lambda v: hours(v)), "Status": table["status"]})


def format_hires(hires: pd.DataFrame, top: int = 4) -> pd.DataFrame:
    """Suggested hires for people: place, coordinates, hours taken over and from which territories."""
    from workbench.present import hours, number, percent

    def sources(taken: dict) -> str:
        items = list(taken.items())
        text = ", ".join(f"{t} {hours(h)}" for t, h in items[:top])
        return text + (f" and {len(items) - top} more" if len(items) > top else "")

    return pd.DataFrame({
        "Hire": hires[REP_ID], **({"Near": hires["near"].fillna("-")} if "near" in hires else {}),
        # two decimals (about 1 km) for people; the JSON and --reps-out keep the full coordinates
        "Latitude": hires[LATITUDE].map(lambda v: number(v, 2)), "Longitude": hires[LONGITUDE].map(lambda v: number(v, 2)),
        "Workload": hires["workload"].map(hours),
        "Utilisation": hires["utilisation"].map(lambda v: percent(v, fraction=True)),
        "Takes over from": hires["from_territories"].map(sources)})
