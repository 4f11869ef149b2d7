"""Synthetic B2B accounts placed by ZIP population (see ``data/README.md``).

Everything is vectorised and driven by one :class:`numpy.random.Generator`, so
the same seed gives the same accounts.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from workbench.schema import (
    ACCOUNT_ID, COUNTY_FIPS, LATITUDE, LONGITUDE, NAME, POTENTIAL, REVENUE, SEGMENT, STATE,
    VISITS_PER_YEAR, WORKLOAD, ZIP,
)

KM_PER_MILE = 1.609344
KM_PER_DEGREE = 111.32

#: Segments and their target shares of the accounts.
SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
SEGMENT_SHARES = (0.05, 0.25, 0.70)
#: Relative likelihood of Enterprise / Mid-Market accounts by urbanicity (SMB takes the rest).
URBAN_TILT = {"dense_urban": (1.4, 1.1), "urban": (1.2, 1.05), "suburban": (1.0, 1.0), "rural": (0.7, 0.9)}
#: Lognormal size of the customer company (its own annual revenue) per segment:
#: (median USD, sigma, floor, cap). It drives admin hours and the wallet; it is not written out.
COMPANY_SIZE_MODEL = {
    "Enterprise": (750e6, 0.9, 100e6, 100e9),
    "Mid-Market": (40e6, 0.7, 5e6, 1e9),
    "SMB": (1.5e6, 0.9, 50e3, 25e6),
}
#: Share of the company's revenue it could spend with us (the wallet, ``potential``), per segment.
WALLET_SHARE = {"Enterprise": 0.0015, "Mid-Market": 0.005, "SMB": 0.04}
#: Largest wallet of one account (USD per year): a few strategic accounts, not billions.
MAX_POTENTIAL = 6_000_000
#: Share of the wallet we already win (``revenue / potential``): Beta(a, b) per account, mean a / (a + b).
CAPTURE_BETA = (2.0, 4.0)
#: Smallest annual revenue of an account on the books (USD).
MIN_REVENUE = 500
#: Mean visits per year and hours per visit, per segment.
VISITS = {"Enterprise": 8.0, "Mid-Market": 3.0, "SMB": 1.0}
HOURS_PER_VISIT = {"Enterprise": 2.0, "Mid-Market": 1.25, "SMB": 0.75}
#: Admin hours per year per decade of revenue above USD 100k.
ADMIN_HOURS_PER_DECADE = 0.2

_NOUNS = np.array([
    "Logistics", "Foods", "Manufacturing", "Health", "Dental", "Supply", "Builders", "Energy",
    "Tooling", "Packaging", "Analytics", "Plastics", "Farms", "Freight", "Medical", "Software",
    "Metals", "Printing", "Electric", "Hardware", "Outfitters", "Labs", "Engineering", "Textiles",
    "Motors", "Brewing", "Pharmacy", "Systems", "Materials", "Distribution", "Marine", "Optics",
    "Robotics", "Seed", "Paper", "Glass", "Cabinetry", "Coatings", "Controls", "Hospitality",
])
_PREFIXES = np.array([
    "Summit", "Keystone", "Pioneer", "Blue River", "Redwood", "Cedar", "Granite", "Harbor", "Prairie",
    "Northstar", "Lakeside", "Ironwood", "Silver Creek", "Evergreen", "Frontier", "Bluebird",
    "Liberty", "Meridian", "Crescent", "Heritage", "Oak Hill", "Riverbend", "Sunrise", "Westgate",
    "Copper", "Highland", "Maple", "Atlas", "Beacon", "Canyon",
])
_SUFFIXES = np.array(["Inc", "LLC", "Co", "Corp", "Group", "Partners", "Holdings", "Ltd", "Company", "Industries"])
SURNAMES = np.array([
    "Anderson", "Baker", "Bennett", "Brooks", "Carter", "Coleman", "Diaz", "Ellis", "Fischer",
    "Foster", "Garcia", "Grant", "Hayes", "Hughes", "Jensen", "Kim", "Larsen", "Lopez", "Marsh",
    "Mendoza", "Morgan", "Nguyen", "Novak", "Olsen", "Ortiz", "Patel", "Price", "Quinn", "Reed",
    "Rivera", "Russo", "Shah", "Sullivan", "Tanaka", "Torres", "Vance", "Walsh", "Weber", "Young",
    "Zimmerman", "Hart", "Nolan", "Becker", "Cruz", "Dunn", "Hale", "Kerr", "Lowe", "Pike", "Stone",
])

ACCOUNT_COLUMNS = [
    ACCOUNT_ID, NAME, LATITUDE, LONGITUDE, ZIP, COUNTY_FIPS, STATE, SEGMENT, REVENUE, POTENTIAL,
    VISITS_PER_YEAR, WORKLOAD,
]


def jitter_points(lat, lon, radius_km, rng):
    """Uniform random points in discs of ``radius_km`` around (lat, lon), in degrees.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> lat, lon = jitter_points(np.array([40.0]), np.array([-100.0]), np.array([1.0]), rng)
    >>> bool(abs(lat[0] - 40.0) < 1 / 111 and abs(lon[0] + 100.0) < 1 / 85)
    True
    """
    distance = radius_km * np.sqrt(rng.random(len(lat)))
    angle = rng.random(len(lat)) * 2 * np.pi
    dlat = distance * np.sin(angle) / KM_PER_DEGREE
    dlon = distance * np.cos(angle) / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


def place_accounts(zips: pd.DataFrame, counties: gpd.GeoDataFrame, n_accounts: int, rng,
                   max_rounds: int = 5) -> tuple[pd.DataFrame, dict]:
    """Sample ZIPs by population and jitter accounts inside the ZIP area and county.

    ``zips`` are candidate ZIP points with ``county_fips`` set to the county
    polygon containing them. Points that land outside that county are drawn
    again up to ``max_rounds`` times, then put on the ZIP point itself.
    Coordinates are rounded to 6 decimals before the containment test.
    Returns the picked ZIP rows (one per account, ZIP order) with jittered
    ``latitude``/``longitude``, and a report of the redraws.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> counties = gpd.GeoDataFrame({"county_fips": ["00001"]}, geometry=[box(-101, 39, -99, 41)])
    >>> zips = pd.DataFrame({"zip": ["00100"], "county_fips": ["00001"], "latitude": [40.0],
    ...                      "longitude": [-100.0], "population": [500], "land_area_sq_mi": [30.0]})
    >>> picked, report = place_accounts(zips, counties, 3, np.random.default_rng(0))
    >>> len(picked), report["at_zip_point"], bool(picked["latitude"].between(39.9, 40.1).all())
    (3, 0, True)
    """
    weights = zips["population"].to_numpy(dtype=float)
    chosen = rng.choice(len(zips), size=n_accounts, p=weights / weights.sum())
    chosen.sort(kind="stable")
    picked = zips.iloc[chosen].reset_index(drop=True)
    zip_lat, zip_lon = picked[LATITUDE].to_numpy(), picked[LONGITUDE].to_numpy()
    area = picked["land_area_sq_mi"].fillna(0.0).clip(lower=0.05).to_numpy()
    radius_km = np.sqrt(area / np.pi) * KM_PER_MILE
    geoms = counties.set_index(COUNTY_FIPS).geometry
    shapely.prepare(geoms.to_numpy())
    county_geom = geoms.reindex(picked[COUNTY_FIPS]).to_numpy()

    lat, lon = np.round(zip_lat, 6), np.round(zip_lon, 6)
    todo = np.arange(n_accounts)
    redrawn = 0
    for round_ in range(max_rounds):
        new_lat, new_lon = jitter_points(zip_lat[todo], zip_lon[todo], radius_km[todo], rng)
        new_lat, new_lon = np.round(new_lat, 6), np.round(new_lon, 6)
        inside = shapely.contains_xy(county_geom[todo], new_lon, new_lat)
        lat[todo[inside]], lon[todo[inside]] = new_lat[inside], new_lon[inside]
        todo = todo[~inside]
        if round_ == 0:
            redrawn = len(todo)
        if not len(todo):
            break
    picked[LATITUDE], picked[LONGITUDE] = lat, lon
    report = {"redrawn": int(redrawn), "at_zip_point": int(len(todo))}
    return picked, report


def _company_names(city: np.ndarray, rng) -> np.ndarray:
    n = len(city)
    noun = _NOUNS[rng.integers(len(_NOUNS), size=n)]
    suffix = _SUFFIXES[rng.integers(len(_SUFFIXES), size=n)]
    first = SURNAMES[rng.integers(len(SURNAMES), size=n)]
    second = SURNAMES[rng.integers(len(SURNAMES), size=n)]
    prefix = _PREFIXES[rng.integers(len(_PREFIXES), size=n)]
    pattern = rng.random(n)
    city_name = pd.Series(city).to_numpy(dtype=object)
    names = np.select(
        [pattern < 0.45, pattern < 0.65, pattern < 0.85],
        [city_name + " " + noun + " " + suffix, prefix + " " + noun + " " + suffix,
         first + " " + noun + " " + suffix],
        first + " & " + second + " " + suffix,
    )
    return names.astype(object)


def describe_accounts(picked: pd.DataFrame, rng) -> pd.DataFrame:
    """Add ids, names, segment, revenue, potential, visits and workload to placed accounts.

    ``picked`` is the output of :func:`place_accounts` plus ``county_state``.

    Examples
    --------
    >>> picked = pd.DataFrame({"zip": ["00100"] * 2, "county_fips": ["00001"] * 2,
    ...     "county_state": ["KS"] * 2, "latitude": [40.0, 40.1], "longitude": [-100.0, -100.1],
    ...     "primary_city": ["Hays"] * 2, "urbanicity_tier": ["rural"] * 2,
    ...     "median_household_income": [60000] * 2})
    >>> accounts = describe_accounts(picked, np.random.default_rng(0))
    >>> accounts["account_id"].tolist(), bool((accounts["workload"] > 0).all())
    (['A000001', 'A000002'], True)
    """
    n = len(picked)
    tier = picked["urbanicity_tier"].fillna("rural").to_numpy()
    tilt = np.array([URBAN_TILT.get(t, (1.0, 1.0)) for t in ("dense_urban", "urban", "suburban", "rural")])
    tier_idx = pd.Categorical(tier, categories=["dense_urban", "urban", "suburban", "rural"]).codes
    raw = np.column_stack([SEGMENT_SHARES[0] * tilt[tier_idx, 0], SEGMENT_SHARES[1] * tilt[tier_idx, 1]])
    raw = raw * (np.array(SEGMENT_SHARES[:2]) / raw.mean(axis=0))  # keep the overall shares
    cumulative = np.column_stack([raw[:, 0], raw.sum(axis=1)])
    draw = rng.random(n)
    segment = np.array(SEGMENTS, dtype=object)[(draw[:, None] >= cumulative).sum(axis=1)]

    def by_segment(table):
        return np.array([table[s] for s in segment])

    median, sigma, floor, cap = (np.array([COMPANY_SIZE_MODEL[s][i] for s in segment]) for i in range(4))
    size = np.clip(median * np.exp(sigma * rng.standard_normal(n)), floor, cap)
    size = np.round(size, -3)

    income = picked["median_household_income"].astype(float)
    income = income.fillna(income.median()).to_numpy()
    income_factor = np.sqrt(income / np.median(income))
    wallet = size * by_segment(WALLET_SHARE) * income_factor * np.exp(0.35 * rng.standard_normal(n))

    visits = np.maximum(1, np.round(by_segment(VISITS) * np.exp(0.3 * rng.standard_normal(n)))).astype("int64")
    admin = ADMIN_HOURS_PER_DECADE * np.log10(np.maximum(size / 1e5, 1.0))
    workload = np.round(visits * by_segment(HOURS_PER_VISIT) + admin, 1)

    # The book: what each account buys from us now. A child generator, so the draws above and the
    # caller's later draws (names, reps) are the same as before this step existed.
    book_rng = rng.spawn(1)[0]
    potential = np.round(np.clip(wallet, 10 * MIN_REVENUE, MAX_POTENTIAL), -2)
    capture = book_rng.beta(*CAPTURE_BETA, size=n)
    revenue = np.round(np.maximum(potential * capture, MIN_REVENUE), -2)

    accounts = pd.DataFrame({
        ACCOUNT_ID: [f"A{i:06d}" for i in range(1, n + 1)],
        NAME: _company_names(picked["primary_city"].fillna("Metro").to_numpy(dtype=object), rng),
        LATITUDE: picked[LATITUDE].to_numpy(),
        LONGITUDE: picked[LONGITUDE].to_numpy(),
        ZIP: picked[ZIP].to_numpy(),
        COUNTY_FIPS: picked[COUNTY_FIPS].to_numpy(),
        STATE: picked["county_state"].to_numpy(),
        SEGMENT: segment,
        REVENUE: revenue.astype("int64"),
        POTENTIAL: potential.astype("int64"),
        VISITS_PER_YEAR: visits,
        WORKLOAD: workload,
    })
    return accounts[ACCOUNT_COLUMNS]
