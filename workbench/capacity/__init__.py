"""Resource levels: how busy each rep is, how many reps the workload needs, and where to hire.

Pure functions on frames (accounts with a ``workload`` column in hours per
year, reps with ``capacity_hours``):

- :func:`rep_utilisation`: per rep, the workload of the territory they cover
  against their capacity (utilisation as a share, over/under the target);
  :func:`team_utilisation` totals it for the team.
- :func:`count_reps_needed`: how many reps the workload needs at a target
  utilisation (default 85%: time left for travel, training and growth).
- :func:`suggest_hires`: home locations for the extra reps, where the workload
  per rep is highest (a capacitated location-allocation heuristic on the
  accounts that keeps the existing reps where they are), each with the
  workload it takes over and from which territories.
- :func:`assess_capacity`: all of it at once, as a :class:`CapacityAssessment`
  (``to_dict()`` is what ``workbench capacity --json`` prints).

Modules: :mod:`~workbench.capacity.utilisation`, :mod:`~workbench.capacity.hires` (how hires are
placed), :mod:`~workbench.capacity.assessment` (everything at once, the hand-off to the
realignment), :mod:`~workbench.capacity.formatting` (tables for people).
"""

from workbench.capacity.assessment import (CapacityAssessment, assess_capacity, headcount_reps,
                                           realign_headcount)
from workbench.capacity.formatting import format_hires, format_utilisation
from workbench.capacity.hires import nearest_places, suggest_hires
from workbench.capacity.utilisation import (DEFAULT_BAND, HIRE_PREFIX, TARGET_UTILISATION, UTILISATION_COLUMNS,
                                            check_target, count_reps_needed, rep_utilisation, team_utilisation)

__all__ = ["CapacityAssessment", "DEFAULT_BAND", "HIRE_PREFIX", "TARGET_UTILISATION", "UTILISATION_COLUMNS",
           "assess_capacity", "check_target", "count_reps_needed", "format_hires", "format_utilisation",
           "headcount_reps", "nearest_places", "realign_headcount", "rep_utilisation", "suggest_hires",
           "team_utilisation"]
