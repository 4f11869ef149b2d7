"""Errors raised for bad input.

Every message names where the problem is (file, column, first offending
rows), what was received and what to do about it. The CLI prints
``str(error)`` on one line and exits non-zero.
"""


class WorkbenchError(Exception):
    """Base class of the errors this package raises on purpose."""


class InputError(WorkbenchError, ValueError):
    """A file, frame or argument does not hold what is needed.

    Raised by loaders and estimators; the message says which file, which
    rows or columns, and the fix.
    """


class InfeasibleError(WorkbenchError, ValueError):
    """The requested alignment cannot exist (e.g. one block exceeds the maximum)."""


class PlanError(WorkbenchError, ValueError):
    """A plan cannot be loaded, edited, approved or exported as asked."""


class TamperedPlanError(PlanError):
    """A saved plan's content does not match its recorded hash."""


class FolderLockedError(PlanError):
    """Another process is approving, saving or exporting the same folder; the message names it."""


class EncodingFallbackWarning(UserWarning):
    """A text file given without an encoding was not UTF-8 and was read as cp1252 or latin-1 (named in the message)."""
