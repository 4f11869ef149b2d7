"""Market gaps (white space): where potential is not yet won and where no rep is near.

Pure functions on frames:

- :func:`nearest_rep_km`: each account's distance to the nearest rep home
  (great-circle, or any ``distance(lat1, lon1, lat2, lon2) -> km`` function,
  e.g. drive time).
- :func:`uncovered_accounts`: accounts farther than a travel threshold
  (``max_km``) from every rep.
- :func:`block_gaps`: for each block (county, ZIP area, user polygon) and
  territory: accounts, potential, current revenue, penetration, white space,
  distance to the nearest rep home, uncovered accounts and potential, and the
  gap score; ranked (rank 1 = biggest gap).
- :func:`territory_gaps`: the same per territory.

The gap score
-------------
``white_space = max(potential - revenue, 0)``: the potential not yet won
(``penetration = revenue / potential``; above 100% the block is fully won and
has no white space). ``reach = min(km_to_rep / max_km, 1)``: 0 at a rep's
home, 1 at the travel threshold and beyond. The raw gap is
``white_space x (1 + reach)``: uncovered potential, counting up to double
where no rep is within reach. ``gap_score`` scales it to 0-100, 100 being the
largest gap of the analysis, so scores compare blocks within one run.
``km_to_rep`` of a block is the potential-weighted mean of its accounts'
distances to their nearest rep home.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from workbench.checks import amount_column, real_number, rep_homes, territory_per_row
from workbench.errors import InputError
from workbench.geo import chord_to_km, to_unit_xyz
from workbench.metrics import assigned_mask
from workbench.schema import (
    ACCOUNT_ID, BLOCK_ID, COUNTY_FIPS, LATITUDE, LONGITUDE, NAME, POTENTIAL, REP_ID, REVENUE, TERRITORY_ID, ZIP,
)

#: Default travel threshold: accounts farther from every rep home are uncovered (about 100 miles).
DEFAULT_MAX_KM = 160.0
#: Columns of :func:`block_gaps` (``block_name`` too when the blocks have names).
GAP_COLUMNS = ("rank", BLOCK_ID, TERRITORY_ID, "accounts", "potential", "revenue", "penetration", "white_space",
               "km_to_rep", "uncovered_accounts", "uncovered_potential", "gap_score")
#: Value of ``block_id`` for accounts in no block polygon (never dropped).
OUTSIDE = "(outside every block)"


def check_max_km(max_km) -> float:
    """A travel threshold in km (> 0), or an :class:`InputError`.

    Examples
    --------
    >>> check_max_km(100)
    100.0
    """
    number = real_number(max_km)
    if number is None or number <= 0:
        raise InputError(f"max_km (CLI: --max-km) must be a positive distance in kilometres (e.g. 160), got {max_km!r}")
    return float(max_km)


def nearest_rep_km(accounts: pd.DataFrame, reps: pd.DataFrame, *, distance=None) -> pd.DataFrame:
    """Distance of each account to the nearest rep home, and that rep.

    Parameters
    ----------
    accounts : pandas.DataFrame
        ``latitude``, ``longitude``.
    reps : pandas.DataFrame
        ``rep_id``, ``latitude``, ``longitude`` (homes).
    distance : callable, optional
        ``distance(lat1, lon1, lat2, lon2) -> km``, vectorised and
        broadcasting (e.g. a drive-time model in minutes: then ``max_km``
        elsewhere is in the same unit). Default great-circle kilometres.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``accounts``: ``nearest_rep_id``, ``km_to_rep``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0], "longitude": [0.1, 0.9]})
    >>> reps = pd.DataFrame({"rep_id": ["W", "E"], "latitude": [0.0, 0.0], "longitude": [0.0, 1.0]})
    >>> nearest_rep_km(accounts, reps).round(1).to_dict("list")
    {'nearest_rep_id': ['W', 'E'], 'km_to_rep': [11.1, 11.1]}
    """
    ids, rep_lat, rep_lon = rep_homes(reps, purpose="distances to the nearest rep")
    lat = accounts[LATITUDE].to_numpy(dtype=float)
    lon = accounts[LONGITUDE].to_numpy(dtype=float)
    if distance is None:
        from scipy.spatial import cKDTree

        chord, index = cKDTree(to_unit_xyz(rep_lat, rep_lon)).query(to_unit_xyz(lat, lon), k=1)
        km = chord_to_km(chord)
    else:
        if not callable(distance):
            raise TypeError(f"distance must be a function distance(lat1, lon1, lat2, lon2) -> km, "
                            f"got {type(distance).__name__}")
        km = np.empty(len(lat))
        index = np.empty(len(lat), dtype=int)
        step = max(1, 2_000_000 // len(ids))
        for start in range(0, len(lat), step):
            part = slice(start, start + step)
            matrix = np.asarray(distance(lat[part, None], lon[part, None], rep_lat[None, :], rep_lon[None, :]),
                                dtype=float)
            if matrix.shape != (len(lat[part]), len(ids)) or not np.isfinite(matrix).all() or (matrix < 0).any():
                raise InputError("distance(lat1, lon1, lat2, lon2) must broadcast to one finite distance >= 0 per "
                                 f"account and rep (shape {(len(lat[part]), len(ids))}), got shape {matrix.shape}")
            index[part] = np.argmin(matrix, axis=1)
            km[part] = matrix[np.arange(len(matrix)), index[part]]
    return pd.DataFrame({"nearest_rep_id": ids[index], "km_to_rep": km}, index=accounts.index)


def uncovered_accounts(accounts: pd.DataFrame, reps: pd.DataFrame, *, max_km: float = DEFAULT_MAX_KM,
                       distance=None, potential_col: str = POTENTIAL, revenue_col: str = REVENUE,
                       labels=None) -> pd.DataFrame:
    """Accounts farther than ``max_km`` from every rep home, farthest first.

    Returns
    -------
    pandas.DataFrame
        ``account_id`` (and ``name``), ``latitude``, ``longitude``,
        ``territory_id`` (when ``labels`` are given), the potential and
        revenue columns present, ``nearest_rep_id``, ``km_to_rep``.

    Examples
    --------
    >>> accounts = pd.DataFrame({"account_id": ["near", "far"], "latitude": [0.0, 0.0],
    ...                          "longitude": [0.5, 3.0], "potential": [10.0, 20.0]})
    >>> reps = pd.DataFrame({"rep_id": ["R1"], "latitude": [0.0], "longitude": [0.0]})
    >>> uncovered_accounts(accounts, reps, max_km=160)[["account_id", "km_to_rep"]].round(0).to_dict("list")
    {'account_id': ['far'], 'km_to_rep': [334.0]}
    """
    max_km = check_max_km(max_km)
    near = nearest_rep_km(accounts, reps, distance=distance)
    far = near["km_to_rep"].to_numpy() > max_km
    columns = [c for c in (ACCOUNT_ID, NAME, LATITUDE, LONGITUDE) if c in accounts.columns]
    out = accounts.loc[far, columns].copy()
    if labels is not None:
        out[TERRITORY_ID] = _label_array(accounts, labels)[far]
    for column in dict.fromkeys((potential_col, revenue_col)):
        if column in accounts.columns:
            out[column] = accounts.loc[far, column].to_numpy(dtype=float)
    out = out.join(near.loc[far].round({"km_to_rep": 1}))
    return out.sort_values("km_to_rep", ascending=False, kind="stable").reset_index(drop=True)


def _label_array(accounts, labels) -> np.ndarray:
    values = territory_per_row(labels, accounts)
    return np.where(pd.notna(values), values, "(unassigned)").astype(object)


def _amounts(accounts: pd.DataFrame, column: str, what: str) -> np.ndarray:
    return amount_column(accounts, column, label=what,
                         missing_hint=f"name it with --{what}-col COL ({what}_col= in Python)")


def assign_blocks(accounts: pd.DataFrame, blocks, block_col: str | None = None) -> np.ndarray:
    """Block id of each account: its ``block_col`` value, or the polygon of ``blocks`` it lies in.

    Accounts in no polygon get :data:`OUTSIDE` (they are kept, never dropped).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> blocks = gpd.GeoDataFrame({"block_id": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
    ...                           crs="EPSG:4326")
    >>> accounts = pd.DataFrame({"latitude": [0.5, 0.5, 5.0], "longitude": [0.5, 1.5, 5.0]})
    >>> assign_blocks(accounts, blocks).tolist()
    ['A', 'B', '(outside every block)']
    """
    if block_col is not None and block_col in accounts.columns:
        column = accounts[block_col]
        if pd.api.types.is_float_dtype(column) and (column.dropna() % 1 == 0).all():
            column = column.astype("Int64")  # a numeric block id read as 12.0 (missing values) stays "12"
        values = column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
        mask = assigned_mask(values)
        if not mask.any():
            raise InputError(f"accounts column {block_col!r} is empty; fill in each account's block or pass "
                             "--blocks FILE to place accounts in polygons")
        return np.where(mask, pd.Series(values).astype(str).str.strip().to_numpy(dtype=object), OUTSIDE)
    if blocks is None:
        raise InputError(f"accounts have no block column {block_col!r} (columns: {list(accounts.columns)}); "
                         "pass --block-col naming it, or --blocks FILE with polygons")
    import geopandas as gpd

    from workbench.schema import WGS84

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(accounts[LONGITUDE], accounts[LATITUDE]), crs=WGS84)
    polygons = blocks.to_crs(WGS84) if blocks.crs is not None else blocks
    ids = polygons[BLOCK_ID].astype(str).to_numpy(dtype=object)
    left, right = polygons.sindex.query(points.geometry, predicate="within")
    out = np.full(len(accounts), OUTSIDE, dtype=object)
    first = pd.Series(right, index=left).groupby(level=0).min()  # on a shared border: the first block
    out[first.index.to_numpy()] = ids[first.to_numpy()]
    return out


def default_block_col(accounts: pd.DataFrame) -> str:
    """``county_fips`` when the accounts have it, else ``zip``; an error naming the option otherwise."""
    for column in (COUNTY_FIPS, ZIP):
        if column in accounts.columns and assigned_mask(accounts[column].to_numpy(dtype=object)).any():
            return column
    raise InputError(f"accounts have neither {COUNTY_FIPS!r} nor {ZIP!r} to group them by; pass --block-col COL "
                     "(a column of the accounts) or --blocks FILE --block-col COL (polygons)")


def block_gaps(accounts: pd.DataFrame, reps: pd.DataFrame, *, labels=None, block_col: str | None = None,
               blocks=None, potential_col: str = POTENTIAL, revenue_col: str = REVENUE,
               max_km: float = DEFAULT_MAX_KM, distance=None) -> pd.DataFrame:
    """White space per block and territory, ranked by the gap score (see the module docstring).

    Parameters
    ----------
    accounts : pandas.DataFrame
        ``latitude``, ``longitude``, the potential and revenue columns, and
        ``block_col`` (unless ``blocks`` places them).
    reps : pandas.DataFrame
        ``rep_id``, ``latitude``, ``longitude`` (homes).
    labels : array-like, optional
        Territory of each account. Default: the territory of the nearest rep
        (``territory_id`` of the reps, else the rep id).
    block_col : str, optional
        The accounts' block column (default ``county_fips``, else ``zip``).
    blocks : geopandas.GeoDataFrame, optional
        Block polygons (``workbench.io.load_blocks``): accounts without a
        ``block_col`` are placed in them; their ``name`` becomes ``block_name``.
    potential_col, revenue_col : str
    max_km : float, default 160
        Travel threshold for ``uncovered_*`` and the reach in the score.
    distance : callable, optional
        See :func:`nearest_rep_km`.

    Returns
    -------
    pandas.DataFrame
        :data:`GAP_COLUMNS`, one row per (block, territory) holding accounts,
        sorted by ``gap_score`` (largest first).

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": [0.0, 0.0, 0.0], "longitude": [0.1, 0.2, 3.0],
    ...                          "county_fips": ["A", "A", "B"], "potential": [100.0, 100.0, 300.0],
    ...                          "revenue": [100.0, 50.0, 0.0]})
    >>> reps = pd.DataFrame({"rep_id": ["R1"], "territory_id": ["T1"], "latitude": [0.0], "longitude": [0.0]})
    >>> gaps = block_gaps(accounts, reps)
    >>> gaps[["rank", "block_id", "white_space", "penetration", "uncovered_accounts", "gap_score"]].to_dict("list")
    {'rank': [1, 2], 'block_id': ['B', 'A'], 'white_space': [300.0, 50.0], 'penetration': [0.0, 0.75], 'uncovered_accounts': [1, 0], 'gap_score': [100.0, 9.2]}
    """
    max_km = check_max_km(max_km)
    if not isinstance(accounts, pd.DataFrame):
        raise TypeError(f"accounts must be a pandas DataFrame, got {type(accounts).__name__}")
    potential = _amounts(accounts, potential_col, "potential")
    revenue = _amounts(accounts, revenue_col, "revenue")
    if block_col is None and blocks is None:
        block_col = default_block_col(accounts)
    block = assign_blocks(accounts, blocks, block_col)
    near = nearest_rep_km(accounts, reps, distance=distance)
    if labels is None:
        served = reps[TERRITORY_ID] if TERRITORY_ID in reps.columns else reps[REP_ID]
        owner = dict(zip(reps[REP_ID].astype(str), served.astype(object).where(served.notna(), reps[REP_ID])))
        territory = near["nearest_rep_id"].map(owner).astype(str).to_numpy(dtype=object)
    else:
        territory = _label_array(accounts, labels)
    km = near["km_to_rep"].to_numpy()
    far = km > max_km
    frame = pd.DataFrame({BLOCK_ID: block, TERRITORY_ID: territory, "potential": potential, "revenue": revenue,
                          "km_weighted": km * potential, "km": km, "far": far.astype(int),
                          "far_potential": potential * far})
    return _summarise(frame, [BLOCK_ID, TERRITORY_ID], max_km, _block_names(blocks))


def territory_gaps(gaps: pd.DataFrame, max_km: float = DEFAULT_MAX_KM) -> pd.DataFrame:
    """Per territory totals of a :func:`block_gaps` table, scored and ranked the same way.

    Examples
    --------
    >>> gaps = pd.DataFrame({"territory_id": ["T1", "T1", "T2"], "accounts": [2, 1, 4],
    ...                      "potential": [200.0, 300.0, 100.0], "revenue": [100.0, 0.0, 100.0],
    ...                      "km_to_rep": [10.0, 40.0, 5.0], "uncovered_accounts": [0, 1, 0],
    ...                      "uncovered_potential": [0.0, 300.0, 0.0]})
    >>> territory_gaps(gaps)[["territory_id", "white_space", "km_to_rep", "gap_score"]].to_dict("list")
    {'territory_id': ['T1', 'T2'], 'white_space': [400.0, 0.0], 'km_to_rep': [28.0, 5.0], 'gap_score': [100.0, 0.0]}
    """
    max_km = check_max_km(max_km)
    frame = pd.DataFrame({TERRITORY_ID: gaps[TERRITORY_ID], "potential": gaps["potential"],
                          "revenue": gaps["revenue"], "km_weighted": gaps["km_to_rep"] * gaps["potential"],
                          "km": gaps["km_to_rep"] * gaps["accounts"], "n": gaps["accounts"],
                          "far": gaps["uncovered_accounts"], "far_potential": gaps["uncovered_potential"]})
    return _summarise(frame, [TERRITORY_ID], max_km, None, counts="n")


def _summarise(frame: pd.DataFrame, keys: list[str], max_km: float, names, counts: str | None = None):
    grouped = frame.groupby(keys, sort=True)
    out = grouped[["potential", "revenue", "km_weighted", "km", "far", "far_potential"]].sum()
    n = grouped[counts].sum() if counts else grouped.size()
    out.insert(0, "accounts", n.astype(int))
    potential = out["potential"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["penetration"] = np.where(potential > 0, out["revenue"] / potential, np.nan)
        plain_km = out["km"].to_numpy() / np.maximum(out["accounts"].to_numpy(), 1)
        out["km_to_rep"] = np.where(potential > 0, out["km_weighted"] / potential, plain_km)
    out["white_space"] = np.clip(potential - out["revenue"].to_numpy(), 0.0, None)
    reach = np.clip(out["km_to_rep"].to_numpy() / max_km, 0.0, 1.0)
    raw = out["white_space"].to_numpy() * (1.0 + reach)
    top = raw.max(initial=0.0)
    out["gap_score"] = np.round(100.0 * raw / top, 1) if top > 0 else 0.0
    out = out.rename(columns={"far": "uncovered_accounts", "far_potential": "uncovered_potential"})
    out["uncovered_accounts"] = out["uncovered_accounts"].astype(int)
    out["km_to_rep"] = out["km_to_rep"].round(1)
    out["penetration"] = out["penetration"].round(4)
    out = out.reset_index().sort_values(["gap_score", "white_space", *keys], ascending=[False, False] + [True] * len(keys),
                                        kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    columns = [c for c in GAP_COLUMNS if c in out.columns]
    if names is not None:
        out.insert(out.columns.get_loc(BLOCK_ID) + 1, "block_name", out[BLOCK_ID].map(names))
        columns.insert(columns.index(BLOCK_ID) + 1, "block_name")
    return out[columns].reset_index(drop=True)


def _block_names(blocks):
    if blocks is None or NAME not in blocks.columns:
        return None
    names = blocks[NAME].astype(str)
    if "state" in blocks.columns:
        names = names + ", " + blocks["state"].astype(str)
    return dict(zip(blocks[BLOCK_ID].astype(str), names))


def format_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """A :func:`block_gaps` or :func:`territory_gaps` table for people: money, percent, km, readable headers.

    Examples
    --------
    >>> gaps = pd.DataFrame({"rank": [1], "territory_id": ["T1"], "accounts": [1200], "potential": [2.5e6],
    ...                      "revenue": [1.0e6], "penetration": [0.4], "white_space": [1.5e6], "km_to_rep": [151.2],
    ...                      "uncovered_accounts": [3], "uncovered_potential": [45000.0], "gap_score": [100.0]})
    >>> format_gaps(gaps).iloc[0].tolist()
    ['1', 'T1', '1,200', '$2.5M', '$1.0M', '40.0%', '$1.5M', '151 km', '3', '$45,000', '100.0']
    """
    from workbench.present import integer, km, money, percent

    first = {"Block": gaps[BLOCK_ID]} if BLOCK_ID in gaps else {}
    if "block_name" in gaps:
        first["Name"] = gaps["block_name"].fillna("")
    return pd.DataFrame({
        "Rank": gaps["rank"].map(integer), **first, "Territory": gaps[TERRITORY_ID],
        "Accounts": gaps["accounts"].map(integer), "Potential": gaps["potential"].map(money),
        "Revenue": gaps["revenue"].map(money),
        "Penetration": gaps["penetration"].map(lambda v: percent(v, fraction=True)),
        "White space": gaps["white_space"].map(money), "To rep": gaps["km_to_rep"].map(km),
        "Uncovered": gaps["uncovered_accounts"].map(integer),
        "Uncovered potential": gaps["uncovered_potential"].map(money),
        "Gap score": gaps["gap_score"].map("{:.1f}".format)})
