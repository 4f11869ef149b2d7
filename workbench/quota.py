"""Territory quotas: a company target allocated top-down, with floors, caps and exact rounding.

- :func:`allocate_target`: split a target in proportion to weights, every
  part within ``[floor x target, cap x target]``, rounded to whole ``unit``\\ s
  so that the parts still add up to the target exactly.
- :func:`territory_quotas`: the quota of each territory of a plan (or of
  accounts and labels) by potential, by history (revenue) or a blend.
- :func:`salesforce_quotas`: the quota rows of ``salesforce/ForecastingQuota.csv``.

The allocation
--------------
``by="potential"``: weights are the territories' total potential (where the
opportunity is); ``by="revenue"``: their current revenue (history: what
they sell today); ``by="blend"``: ``blend x potential share + (1 - blend) x
revenue share`` (default ``blend = 0.5``, half each). Each territory gets
``clip(lambda x weight, floor x target, cap x target)`` with the one
``lambda`` that makes the parts sum to the target (water-filling: money a
capped territory cannot take goes to the others in proportion, money a
floored territory needs comes from them in proportion). ``floor`` and ``cap``
are **shares of the company target** (``floor=0.02``: no territory below 2% of
it; with 40 territories an even split is 2.5%). Rounding: every quota is
first rounded down to a whole ``unit`` (default 1, whole currency units),
then the units left over go one each to the territories with the largest
remainders (ties: territory order), never past a cap or below a floor, so the
quotas sum to the target exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.checks import real_number, share_hint
from workbench.crmnames import unique_developer_names
from workbench.errors import InputError
from workbench.metrics import assigned_mask
from workbench.schema import POTENTIAL, REP_ID, REVENUE, TERRITORY_ID, TERRITORY_NAME

#: Allocation bases of :func:`territory_quotas`.
BASES = ("potential", "revenue", "blend")
#: Columns of :func:`territory_quotas`.
QUOTA_COLUMNS = (TERRITORY_ID, TERRITORY_NAME, REP_ID, "rep_name", "accounts", "potential", "revenue", "basis_share",
                 "quota", "quota_share", "quota_vs_potential", "quota_vs_revenue")


def _share(value, name: str, *, allow_none: bool = True):
    if value is None and allow_none:
        return None
    number = real_number(value)
    if number is None or not 0 <= number <= 1:
        raise InputError(f"{name} (CLI: --{name}) must be a share of the company target in [0, 1] (0.02 = 2%), "
                         f"got {value!r}{share_hint(value)}")
    return float(value)


def check_target(target) -> float:
    """A company target: a finite amount > 0, or an :class:`InputError`.

    Examples
    --------
    >>> check_target(12_000_000)
    12000000.0
    """
    number = real_number(target)
    if number is None or number <= 0:
        raise InputError(f"target must be a positive amount (e.g. 50000000), got {target!r}")
    return float(target)


def parse_amount(text: str) -> float:
    """An amount as people write it: ``50000000``, ``50,000,000``, ``$50M``, ``2.5m``, ``750k``, ``1.2B``.

    Examples
    --------
    >>> parse_amount("$50M"), parse_amount("50,000,000"), parse_amount("750k"), parse_amount("1.25e6")
    (50000000.0, 50000000.0, 750000.0, 1250000.0)
    """
    cleaned = str(text).strip().replace(",", "").replace("_", "").replace(" ", "").lstrip("$€£")
    factor = 1.0
    if cleaned[-1:].lower() in ("k", "m", "b"):
        factor = {"k": 1e3, "m": 1e6, "b": 1e9}[cleaned[-1].lower()]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * factor
    except ValueError:
        raise InputError(f"cannot read the amount {text!r}; write it like 50000000, 50,000,000 or 50M") from None
    return check_target(value)


def _water_fill(weights: np.ndarray, total: float, low: float, high: float) -> np.ndarray:
    """``clip(lam * weights, low, high)`` summing to ``total`` (zero weights then share what is left evenly)."""
    n = len(weights)

    def filled(lam, w):
        return np.clip(lam * w, low, high)

    def solve(w, goal):
        top = 1.0
        while filled(top, w).sum() < goal and top < 1e300:
            top *= 2.0
        bottom = 0.0
        for _ in range(200):
            mid = (bottom + top) / 2
            if filled(mid, w).sum() < goal:
                bottom = mid
            else:
                top = mid
        return filled(top, w)

    if weights.sum() <= 0:
        return solve(np.ones(n), total)
    parts = solve(weights, total)
    short = total - parts.sum()
    if short > 1e-9 * total:  # every weighted territory capped: the zero-weight ones take the rest evenly
        zero = weights <= 0
        extra = solve(zero.astype(float), short + low * zero.sum()) - low * zero
        parts = parts + np.where(zero, extra, 0.0)
    return parts


def allocate_target(weights, target: float, *, floor: float | None = None, cap: float | None = None,
                    unit: float = 1.0) -> np.ndarray:
    """Split ``target`` in proportion to ``weights`` within floors/caps; whole units summing exactly to it.

    Parameters
    ----------
    weights : array-like of float >= 0
        One weight per part (e.g. territory potential).
    target : float
        The amount to split; a whole number of ``unit``.
    floor, cap : float, optional
        Each part at least ``floor x target`` and at most ``cap x target``
        (shares of the target, in [0, 1]).
    unit : float, default 1
        Rounding unit (1 = whole currency units, 1000 = thousands).

    Returns
    -------
    numpy.ndarray
        The parts: int64 when ``unit`` is a whole number, else floats on the
        unit grid. ``parts.sum() == target``.

    Raises
    ------
    InputError
        When the floors or caps cannot hold (``n x floor > 1`` or ``n x cap < 1``).

    Examples
    --------
    >>> allocate_target([1, 1, 1], 100).tolist()
    [34, 33, 33]
    >>> allocate_target([8, 1, 1], 1000, floor=0.2).tolist()  # 800/100/100 -> floors of 200 taken from the first
    [600, 200, 200]
    >>> allocate_target([8, 1, 1], 1000, cap=0.5).tolist()   # the cap's 300 spread over the others in proportion
    [500, 250, 250]
    """
    target = check_target(target)
    floor = _share(floor, "floor")
    cap = _share(cap, "cap")
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 1 or len(weights) == 0:
        raise InputError("weights must be a non-empty list of numbers, one per territory")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise InputError(f"weights must be amounts >= 0; got {weights[~np.isfinite(weights) | (weights < 0)][:5].tolist()}")
    if real_number(unit) is None or not unit > 0:
        raise InputError(f"unit (rounding; CLI: --round) must be a positive amount such as 1 or 1000, got {unit!r}")
    n = len(weights)
    units = target / unit
    total = round(units)
    if abs(units - total) > 1e-6 * max(1.0, abs(units)):
        raise InputError(f"target {target:,.2f} is not a whole number of the rounding unit {unit:g}; "
                         "round the target or choose a smaller unit")
    low_units = math.ceil((floor or 0.0) * total - 1e-9)
    high_units = math.floor(cap * total + 1e-9) if cap is not None else total
    if n * low_units > total:
        raise InputError(f"floor {floor:.2%} of the target for each of {n} territories needs {n * floor:.0%} of the "
                         f"target; lower the floor to at most {1 / n:.4f} ({1 / n:.2%})")
    if n * high_units < total:
        raise InputError(f"cap {cap:.2%} of the target for each of {n} territories covers only {n * cap:.0%} of the "
                         f"target; raise the cap to at least {1 / n:.4f} ({1 / n:.2%})")
    exact = _water_fill(weights, float(total), float(low_units), float(high_units))
    base = np.clip(np.floor(exact + 1e-9), low_units, high_units).astype(np.int64)
    left = int(total - base.sum())
    remainder = exact - base
    order = np.argsort(-remainder, kind="stable") if left > 0 else np.argsort(remainder, kind="stable")
    while left != 0:
        step = 1 if left > 0 else -1
        room = base < high_units if step > 0 else base > low_units
        chosen = order[room[order]][:abs(left)]
        base[chosen] += step
        left -= step * len(chosen)
    if float(unit).is_integer():
        return base * int(unit)
    decimals = max(0, -math.floor(math.log10(unit)) + 2)
    return np.round(base * float(unit), decimals)


def territory_quotas(plan=None, target: float | None = None, *, accounts: pd.DataFrame | None = None, labels=None,
                     by: str = "potential", floor: float | None = None, cap: float | None = None,
                     unit: float = 1.0, blend: float = 0.5, potential_col: str = POTENTIAL,
                     revenue_col: str = REVENUE) -> pd.DataFrame:
    """Quota of each territory: the company ``target`` allocated by potential, revenue or a blend.

    Parameters
    ----------
    plan : Plan, optional
        The plan whose territories carry the quotas (names and reps come from
        it). Or pass ``accounts`` and ``labels``.
    target : float
        Company target (currency).
    by : {"potential", "revenue", "blend"}
        Allocation basis (see the module docstring).
    floor, cap : float, optional
        Shares of the target each territory gets at least / at most.
    unit : float, default 1
        Rounding unit; quotas sum exactly to ``target``.
    blend : float, default 0.5
        With ``by="blend"``, the weight of the potential share (the rest is revenue).
    potential_col, revenue_col : str

    Returns
    -------
    pandas.DataFrame
        :data:`QUOTA_COLUMNS`, one row per territory (sorted by id):
        ``basis_share`` (the territory's share of the basis), ``quota``,
        ``quota_share`` (of the target), ``quota_vs_potential`` (quota /
        potential) and ``quota_vs_revenue`` (quota / revenue - 1: the growth asked).

    Examples
    --------
    >>> accounts = pd.DataFrame({"potential": [600.0, 300.0, 100.0], "revenue": [100.0, 100.0, 200.0]})
    >>> quotas = territory_quotas(accounts=accounts, labels=["A", "B", "C"], target=1000, by="blend")
    >>> quotas[["territory_id", "basis_share", "quota"]].to_dict("list")
    {'territory_id': ['A', 'B', 'C'], 'basis_share': [0.425, 0.275, 0.3], 'quota': [425, 275, 300]}
    """
    if by not in BASES:
        raise InputError(f"by must be one of {', '.join(BASES)}, got {by!r}")
    if target is None:
        raise InputError("target is required: the company quota to allocate (e.g. 50000000)")
    target = check_target(target)
    blend = _share(blend, "blend", allow_none=False)
    territories = None
    if plan is not None:
        accounts, labels, territories = plan.accounts, plan.labels, plan.territories
    needed = {"potential": [potential_col], "revenue": [revenue_col], "blend": [potential_col, revenue_col]}[by]
    out = _figures(accounts, labels, territories, potential_col, revenue_col, needed, by)
    shares = {}
    for name in ("potential", "revenue"):
        column = out[name].fillna(0.0).to_numpy()
        shares[name] = column / column.sum() if column.sum() > 0 else np.full(len(out), 1.0 / len(out))
    basis = shares["potential"] if by == "potential" else shares["revenue"] if by == "revenue" else \
        blend * shares["potential"] + (1 - blend) * shares["revenue"]
    out["basis_share"] = basis
    out["quota"] = allocate_target(basis, target, floor=floor, cap=cap, unit=unit)
    out["quota_share"] = out["quota"] / target
    with np.errstate(divide="ignore", invalid="ignore"):
        out["quota_vs_potential"] = np.where(out["potential"] > 0, out["quota"] / out["potential"], np.nan)
        out["quota_vs_revenue"] = np.where(out["revenue"] > 0, out["quota"] / out["revenue"] - 1, np.nan)
    out.index.name = TERRITORY_ID
    return _with_names(out.reset_index(), territories)[list(QUOTA_COLUMNS)]


def _figures(accounts, labels, territories, potential_col, revenue_col, needed, by) -> pd.DataFrame:
    """Accounts, potential and revenue per territory (index territory_id; every plan territory)."""
    if accounts is None or labels is None:
        raise InputError("pass a plan, or accounts= and labels= (one territory per account row)")
    values = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels, dtype=object)
    if len(values) != len(accounts):
        raise InputError(f"labels has {len(values)} entries but accounts has {len(accounts)} rows")
    assigned = assigned_mask(values)
    frame = pd.DataFrame({TERRITORY_ID: pd.Series(values[assigned]).astype(str).str.strip().to_numpy()})
    for name, column in (("potential", potential_col), ("revenue", revenue_col)):
        if column not in accounts.columns:
            if column in needed:
                raise InputError(f"accounts have no {column!r} column (columns: {list(accounts.columns)}); quotas "
                                 f"by {by} need it")
            frame[name] = np.nan
            continue
        amounts = pd.to_numeric(accounts[column], errors="coerce").to_numpy(dtype=float)[assigned]
        bad = ~np.isfinite(amounts) | (amounts < 0)
        if bad.any() and column in needed:
            raise InputError(f"accounts column {column!r} must hold amounts >= 0 for quotas by {by}; "
                             f"{int(bad.sum())} assigned accounts do not")
        frame[name] = amounts
    grouped = frame.groupby(TERRITORY_ID, sort=True)
    out = grouped[["potential", "revenue"]].sum(min_count=1)
    out.insert(0, "accounts", grouped.size())
    if territories is not None:  # territories of the plan without accounts still get a row (a floor may fund them)
        out = out.reindex(out.index.union(territories.index.astype(str)))
        out["accounts"] = out["accounts"].fillna(0).astype(int)
    if len(out) == 0:
        raise InputError("no account is assigned to a territory: there is nothing to allocate quotas to")
    out.index.name = TERRITORY_ID
    return out


def _with_names(out: pd.DataFrame, territories) -> pd.DataFrame:
    if territories is not None:
        info = territories.reindex(out[TERRITORY_ID].to_numpy())
        out[TERRITORY_NAME] = info[TERRITORY_NAME].to_numpy()
        out[REP_ID] = info[REP_ID].to_numpy() if REP_ID in info else None
        out["rep_name"] = info["rep_name"].to_numpy() if "rep_name" in info else None
    else:
        out[TERRITORY_NAME] = out[TERRITORY_ID]
        out[REP_ID] = None
        out["rep_name"] = None
    return out


def salesforce_quotas(quotas: pd.DataFrame, start_date, *, developer_names: dict | None = None) -> pd.DataFrame:
    """Rows of ``ForecastingQuota.csv`` (Data Loader insert): ``QuotaAmount``, ``QuotaOwnerId``, ``StartDate``.

    ``QuotaOwnerId`` is the territory's rep id (swap in the Salesforce User Id
    before the load, as for ``UserTerritory2Association.csv``); territories
    without a rep have no owner and are left out of this file (they stay in
    ``quotas.csv``). ``StartDate`` is the first day of the quota period
    (``YYYY-MM-DD``). ``Territory2Id`` holds the territory's DeveloperName in
    ``Territory2.csv`` (for territory forecasts; swap in the Id like the other
    references), and ``WorkbenchTerritoryId`` the plan's territory id (do not
    map it).

    Examples
    --------
    >>> quotas = pd.DataFrame({"territory_id": ["T1", "T2"], "rep_id": ["R1", None], "quota": [600, 400]})
    >>> salesforce_quotas(quotas, "2027-01-01")[["QuotaAmount", "QuotaOwnerId", "StartDate"]].to_dict("list")
    {'QuotaAmount': [600], 'QuotaOwnerId': ['R1'], 'StartDate': ['2027-01-01']}
    """
    start = quota_start(start_date)
    owned = quotas[quotas[REP_ID].notna() & (quotas[REP_ID].astype(str).str.strip() != "")] \
        if REP_ID in quotas.columns else quotas.iloc[:0]
    territory = owned[TERRITORY_ID].astype(str)
    if developer_names is None:
        developer_names = dict(zip(territory, unique_developer_names(list(territory), prefix="T")))
    return pd.DataFrame({
        "QuotaAmount": owned["quota"].to_numpy(),
        "QuotaOwnerId": owned[REP_ID].astype(str).to_numpy(),
        "StartDate": start,
        "Territory2Id": territory.map(developer_names).to_numpy(),
        "WorkbenchTerritoryId": territory.to_numpy(),
    })


def quota_start(value=None) -> str:
    """The first day of a quota period as ``YYYY-MM-DD``; default the first day of next month (UTC).

    Examples
    --------
    >>> quota_start("2027-01-01")
    '2027-01-01'
    """
    if value is None:
        today = pd.Timestamp.now(tz="UTC").normalize()
        return (today + pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d")
    try:
        start = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"quota start date {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-01-01") from None
    if start.day != 1:
        raise InputError(f"quota start date {start.date()} must be the first day of a month (forecasting quotas "
                         "start on a period's first day), e.g. 2027-01-01")
    return start.strftime("%Y-%m-%d")


def check_quotas(quotas, plan) -> pd.DataFrame:
    """Quotas (a :func:`territory_quotas` frame or the CSV ``workbench quota --out`` wrote) checked against a plan.

    Every territory of the plan needs exactly one quota and every quota a
    territory of the plan; quotas are amounts >= 0.

    Returns
    -------
    pandas.DataFrame
        :data:`QUOTA_COLUMNS` in the plan's territory order (names and reps
        from the plan, figures from ``quotas`` where it has them).
    """
    import os

    source = "quotas"
    if isinstance(quotas, (str, os.PathLike)):
        source = str(quotas)
        from workbench.safeio import unescape_cell

        frame = pd.read_csv(quotas, dtype={TERRITORY_ID: str, REP_ID: str, TERRITORY_NAME: str, "rep_name": str},
                            keep_default_na=False, na_values=[""])
        for column in (TERRITORY_ID, REP_ID, TERRITORY_NAME, "rep_name"):
            if column in frame.columns:
                frame[column] = frame[column].map(unescape_cell, na_action="ignore")
    elif isinstance(quotas, pd.DataFrame):
        frame = quotas
    else:
        raise TypeError(f"quotas must be a DataFrame or the path of a quotas CSV, got {type(quotas).__name__}")
    missing = [c for c in (TERRITORY_ID, "quota") if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: no column(s) {missing} (columns: {list(frame.columns)}); write the file with "
                         "workbench quota PLAN --target AMOUNT --out FILE")
    ids = frame[TERRITORY_ID].astype(str).str.strip()
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        raise InputError(f"{source}: territories {duplicated[:5]} have more than one quota row; keep one each")
    amounts = pd.to_numeric(frame["quota"], errors="coerce")
    bad = amounts.isna() | (amounts < 0)
    if bad.any():
        lines = (np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()
        raise InputError(f"{source}: quota must be an amount >= 0; lines {lines} have "
                         f"{frame['quota'][bad].head(5).tolist()}")
    territories = plan.territories.index.astype(str)
    unknown = sorted(set(ids) - set(territories))
    absent = sorted(set(territories) - set(ids))
    if unknown or absent:
        parts = []
        if unknown:
            parts.append(f"territories {unknown[:5]} are not in plan {plan.metadata.name!r}")
        if absent:
            parts.append(f"plan territories {absent[:5]} have no quota")
        raise InputError(f"{source}: {'; '.join(parts)}. Fix: compute the quotas from this plan "
                         "(workbench quota PLAN --target AMOUNT --out FILE)")
    out = _figures(plan.accounts, plan.labels, plan.territories, POTENTIAL, REVENUE, [], "")
    given = frame.assign(**{TERRITORY_ID: ids, "quota": amounts}).set_index(TERRITORY_ID)
    out["basis_share"] = pd.to_numeric(given["basis_share"], errors="coerce").reindex(out.index) \
        if "basis_share" in given.columns else np.nan
    out["quota"] = given["quota"].reindex(out.index)
    out["quota"] = out["quota"].astype(float)
    if (out["quota"] % 1 == 0).all():
        out["quota"] = out["quota"].astype(np.int64)
    total = float(out["quota"].sum())
    out["quota_share"] = out["quota"] / total if total > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["quota_vs_potential"] = np.where(out["potential"] > 0, out["quota"] / out["potential"], np.nan)
        out["quota_vs_revenue"] = np.where(out["revenue"] > 0, out["quota"] / out["revenue"] - 1, np.nan)
    return _with_names(out.reset_index(), plan.territories)[list(QUOTA_COLUMNS)]


def format_quotas(quotas: pd.DataFrame) -> pd.DataFrame:
    """A :func:`territory_quotas` table for people: whole currency, shares in percent, readable headers.

    Examples
    --------
    >>> quotas = pd.DataFrame({"territory_id": ["T1"], "territory_name": ["North"], "rep_id": ["R1"],
    ...                        "rep_name": ["Ann"], "accounts": [500], "potential": [4.0e6], "revenue": [1.0e6],
    ...                        "basis_share": [0.25], "quota": [1_100_000], "quota_share": [0.25],
    ...                        "quota_vs_potential": [0.275], "quota_vs_revenue": [0.1]})
    >>> format_quotas(quotas).iloc[0].tolist()
    ['T1', 'North', 'R1', '500', '$4.0M', '$1.0M', '25.0%', '$1,100,000', '25.0%', '27.5%', '+10.0%']
    """
    from workbench.present import MISSING, integer, money, percent

    return pd.DataFrame({
        "Territory": quotas[TERRITORY_ID], "Name": quotas[TERRITORY_NAME].fillna(""),
        "Rep": quotas[REP_ID].fillna(MISSING), "Accounts": quotas["accounts"].map(integer),
        "Potential": quotas["potential"].map(money), "Revenue": quotas["revenue"].map(money),
        "Basis": quotas["basis_share"].map(lambda v: percent(v, fraction=True)),
        "Quota": quotas["quota"].map(lambda v: money(v, compact=False)),
        "Share of target": quotas["quota_share"].map(lambda v: percent(v, fraction=True)),
        "Quota / potential": quotas["quota_vs_potential"].map(lambda v: percent(v, fraction=True)),
        "Growth asked": quotas["quota_vs_revenue"].map(lambda v: percent(v, fraction=True, signed=True))})
