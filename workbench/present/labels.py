"""Readable column labels: ``workload_max_deviation_pct`` -> ``Workload: largest deviation``."""

from __future__ import annotations

_LABELS = {
    "account_id": "Account", "name": "Account name", "account_name": "Account name",
    "territory_id": "Territory", "territory_name": "Territory name", "rep_id": "Rep ID", "rep_name": "Rep",
    "from_territory": "From", "to_territory": "To", "explanation": "Why it moves", "region": "Region",
    "area": "Area", "status": "Status", "segment": "Segment", "state": "State", "county_fips": "County FIPS",
    "current_territory": "Current territory", "moved": "Moved", "plan_status": "Plan status",
    "territories": "Territories", "accounts": "Accounts", "unassigned_accounts": "Unassigned accounts",
    "within_tolerance_pct": "Territories within tolerance on every metric", "within_tolerance": "Within tolerance",
    "compactness_km": "Compactness", "max_distance_km": "Farthest account from centre",
    "mean_polsby_popper": "Shape score, mean (Polsby-Popper)", "min_polsby_popper": "Shape score, worst (Polsby-Popper)",
    "polsby_popper": "Shape score (Polsby-Popper)",
    "non_contiguous_territories": "Non-contiguous territories", "contiguous": "Contiguous",
    "rep_home_distance_km": "Mean distance to rep's home", "centre_to_home_km": "Centre to rep's home",
    "distance_to_home_before_km": "Distance to rep's home, before",
    "distance_to_home_after_km": "Distance to rep's home, after",
    "distance_change_km": "Distance change", "accounts_moved": "Accounts moved",
    "from_load_before": "From territory's load, before", "from_load_after": "From territory's load, after",
    "to_load_before": "To territory's load, before", "to_load_after": "To territory's load, after",
    "from_deviation_before_pct": "From territory's deviation, before",
    "from_deviation_after_pct": "From territory's deviation, after",
    "to_deviation_before_pct": "To territory's deviation, before",
    "to_deviation_after_pct": "To territory's deviation, after", "territories_touched": "Territories touched",
    "load_metric": "Load", "centre_latitude": "Centre latitude", "centre_longitude": "Centre longitude",
    "accounts_in": "Accounts in", "accounts_out": "Accounts out", "accounts_kept": "Accounts kept",
    "current": "Current", "proposed": "Proposed", "change": "Change", "item": "Item", "value": "Value",
    "capacity_hours": "Capacity", "visits_per_year": "Visits per year", "latitude": "Latitude",
    "longitude": "Longitude", "workload": "Workload", "revenue": "Revenue", "potential": "Potential",
    "quota_total": "Quota: total", "quota_largest": "Quota: largest territory",
    "quota_smallest": "Quota: smallest territory",
}



def label(column) -> str:
    """A readable column label (units are on the values, not in the label).

    Examples
    --------
    >>> label("workload_max_deviation_pct"), label("revenue_cv_pct"), label("revenue_current")
    ('Workload: largest deviation', 'Revenue: spread (CV)', 'Revenue, current')
    >>> label("workload_deviation_pct_proposed"), label("accounts_kept_pct"), label("revenue_moved")
    ('Workload deviation, proposed', '% of accounts kept', 'Revenue moved')
    >>> label("compactness_km_current"), label("distance_change_km"), label("some_new_column")
    ('Compactness, current', 'Distance change', 'Some new column')
    """
    text = str(column)
    if text in _LABELS:
        return _LABELS[text]
    tokens = [t for t in text.split("_") if t] or [text]
    if len(tokens) > 1 and tokens[-1] in _SIDES:
        return f"{label('_'.join(tokens[:-1]))}, {_SIDES[tokens[-1]]}"
    if len(tokens) > 1 and tokens[-1] in ("pct", "percent"):
        stem = tokens[:-1]
        if len(stem) > 2 and stem[-2:] == ["max", "deviation"]:
            return f"{_words(stem[:-2])}: largest deviation"
        if len(stem) > 1 and stem[-1] == "cv":
            return f"{_words(stem[:-1])}: spread (CV)"
        if len(stem) > 1 and stem[-1] in ("kept", "moved"):
            return f"% of {_words(stem[:-1]).lower()} {stem[-1]}"
        return _words(stem)
    if len(tokens) > 1 and tokens[-1] == "km":
        return label("_".join(tokens[:-1]))
    return _words(tokens)


_SIDES = {"current": "current", "proposed": "proposed", "change": "change", "before": "before", "after": "after",
          "total": "total"}


def _words(tokens: list[str]) -> str:
    name = "_".join(tokens)
    if name in _LABELS:
        return _LABELS[name]
    words = " ".join(tokens)
    return words[:1].upper() + words[1:]


__all__ = ["label"]
