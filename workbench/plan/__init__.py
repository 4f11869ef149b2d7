"""Plans: immutable alignments with their history, saved as open files, approved once.

>>> from workbench.plan import Plan, approve, save_plan, load_plan, list_plans, diff_plans
"""

from workbench.plan._hash import HASH_COVERAGE
from workbench.plan._meta import APPROVED, DRAFT, PlanMetadata
from workbench.plan._model import Plan
from workbench.io.assignments import read_assignments  # its home is workbench.io; kept here for callers
from workbench.plan._file import plan_from_assignments
from workbench.plan._store import (
    approve,
    check_approver,
    check_save_path,
    diff_plans,
    list_plans,
    load_plan,
    save_plan,
)
from workbench.plan._lineage import format_tree, plan_tree, save_scenario, slug
from workbench.plan._describe import blocks_phrase

__all__ = ["Plan", "PlanMetadata", "approve", "check_approver", "check_save_path", "save_plan", "load_plan",
           "list_plans", "diff_plans",
           "plan_from_assignments", "read_assignments", "HASH_COVERAGE", "APPROVED", "DRAFT", "save_scenario",
           "plan_tree", "format_tree", "slug", "blocks_phrase"]
