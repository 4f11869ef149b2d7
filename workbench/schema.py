"""Column names and defaults shared by every module.

Frames flow through the package with these standard column names. Loaders
(:mod:`workbench.io`) rename user columns to them; everything downstream can
rely on them.
"""

# Accounts
ACCOUNT_ID = "account_id"
NAME = "name"
LATITUDE = "latitude"
LONGITUDE = "longitude"
ZIP = "zip"
COUNTY_FIPS = "county_fips"
STATE = "state"
SEGMENT = "segment"
REVENUE = "revenue"
POTENTIAL = "potential"
VISITS_PER_YEAR = "visits_per_year"
WORKLOAD = "workload"
CURRENT_TERRITORY = "current_territory"

#: Flag set by the loader when an account was placed at its ZIP point.
GEOCODED_FROM_ZIP = "geocoded_from_zip"

#: Numeric account columns that can be balanced, in the sample data.
METRICS = (WORKLOAD, REVENUE, POTENTIAL)

# Assignments and territories
TERRITORY_ID = "territory_id"
TERRITORY_NAME = "territory_name"
REGION = "region"
AREA = "area"

# Reps
REP_ID = "rep_id"
REP_NAME = "name"
HOME_CITY = "home_city"
CAPACITY_HOURS = "capacity_hours"

# Building blocks (counties in the sample)
BLOCK_ID = "block_id"

#: Coordinate reference system of every latitude/longitude in the package.
WGS84 = "EPSG:4326"

#: Default balance tolerance: max deviation from the mean, as a share.
DEFAULT_TOLERANCE = 0.05
#: A moved account is *far* when its new rep's home is more than this many km away **and** farther than
#: any account that territory holds today (a large rural territory is not flagged for its usual
#: distances). 300 km is about a half-day's drive: beyond it a rep cannot visit and be home the same day.
#: The approval review (:mod:`workbench.signoff`) flags such moves; the contiguous realignment prices them.
FAR_FROM_HOME_KM = 300.0
