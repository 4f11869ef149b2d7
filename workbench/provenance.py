"""Where and when a result was made: UTC timestamps and package versions, one home for both.

Plans (:mod:`workbench.plan`) and exports (:mod:`workbench.export`) record
both, in the same format.
"""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata as _importlib_metadata

#: Distributions whose versions are recorded with every plan.
RECORDED_PACKAGES = ("territory-workbench", "pandas", "numpy", "scikit-learn", "scipy", "geopandas",
                     "shapely", "pyarrow", "networkx")


def utc_now() -> str:
    """Current UTC time as ISO 8601 text with a ``Z`` suffix, to the second.

    Examples
    --------
    >>> stamp = utc_now()
    >>> len(stamp), stamp[10], stamp[-1]
    (20, 'T', 'Z')
    """
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def package_versions(names=RECORDED_PACKAGES) -> dict[str, str]:
    """Versions of Python and of the named distributions (default: those a plan's numbers depend on).

    Examples
    --------
    >>> versions = package_versions(["pandas", "no-such-package"])
    >>> sorted(versions), versions["no-such-package"]
    (['no-such-package', 'pandas', 'python'], 'not installed')
    """
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = _importlib_metadata.version(name)
        except _importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
