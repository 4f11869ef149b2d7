"""The one handoff from a fitted alignment estimator to a :class:`~workbench.plan.Plan`.

A plan made from a fit records the estimator's own parameters under their own
names (``n_territories``, ``balance_on``, ``tolerance``, ``random_state``...,
exactly as ``get_params()`` gives them) and a summary of its ``report_``, so
that everything downstream (export, compare, the map view) reads the same
names the estimator was given, with no translation table in between.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.labels import clean_text, show

#: Estimator parameters that change how a fit is shown, not what it computes: not recorded,
#: so that the same fit with and without a progress bar gives the same plan (and content hash).
NOT_RECORDED = ("progress",)

#: Report fields recorded with the plan. ``seconds`` is left out (it differs between two runs of
#: the same fit, and the plan's content hash must not); the territory table is left out (the
#: plan's own scorecard recomputes it from the assignments).
REPORT_FIELDS = ("method", "max_deviation", "tolerance", "within_tolerance", "compactness_km", "contiguous",
                 "moved_share", "moved_accounts", "lower_bound_share", "n_iter", "converged", "warnings")

_PLAIN = (str, int, float, bool, type(None), np.generic)


def recorded_parameters(model) -> dict:
    """The estimator's parameters as they are recorded in a plan: ``get_params(deep=False)``, JSON-ready.

    Plain values (numbers, text, None, lists or tuples of them, mappings of
    them) are kept as they are. A callable (e.g. a travel-time ``distance``)
    is recorded by its name, an array by its shape: nothing is dropped
    silently, and nothing large lands in the manifest.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> class Demo(BaseEstimator):
    ...     def __init__(self, n_territories=3, balance_on=("workload",), distance=None, progress=False):
    ...         self.n_territories, self.balance_on, self.distance, self.progress = (
    ...             n_territories, balance_on, distance, progress)
    >>> recorded_parameters(Demo(distance=np.zeros((4, 2))))
    {'balance_on': ['workload'], 'distance': 'array of shape (4, 2)', 'n_territories': 3}
    """
    if not hasattr(model, "get_params"):
        raise TypeError(f"model must be a fitted workbench estimator (with get_params), got {type(model).__name__}")
    out = {}
    for key, value in sorted(model.get_params(deep=False).items()):
        if key in NOT_RECORDED:
            continue
        out[key] = recordable(value)
    return out


def recordable(value):
    """``value`` as a plan records it: plain values as they are, a path as text, anything else described."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, _PLAIN):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (list, tuple)) and all(isinstance(v, _PLAIN) for v in value):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    if isinstance(value, Mapping) and all(isinstance(v, _PLAIN) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    if isinstance(value, pd.DataFrame):
        return f"frame of shape {value.shape}"
    if callable(value):
        return f"callable {getattr(value, '__qualname__', type(value).__name__)}"
    return f"{type(value).__name__} object"


def recorded_report(report) -> dict:
    """The summary of an :class:`~workbench.align.AlignmentReport` that a plan records (see REPORT_FIELDS)."""
    if report is None:
        return {}
    values = report.to_dict()
    return {key: values[key] for key in REPORT_FIELDS if key in values}


def fitted_labels(model, accounts: pd.DataFrame, labels=None) -> np.ndarray:
    """Territory per account row: the model's ``labels_``, or ``labels`` when they only rename its territories.

    ``labels`` is for new names of the same territories (e.g. from
    :func:`workbench.align.match_territory_ids` or rep ids mapped to territory
    ids); it must group the accounts exactly as ``model.labels_`` does, one new
    name per fitted territory.
    """
    fitted = getattr(model, "labels_", None)
    if fitted is None:
        raise InputError(f"{type(model).__name__} is not fitted: call fit(accounts) before Plan.from_fit")
    fitted = np.asarray(fitted, dtype=object)
    if fitted.ndim != 1 or len(fitted) != len(accounts):
        raise InputError(f"{type(model).__name__}.labels_ has {len(fitted)} entries but accounts has "
                         f"{len(accounts)} rows; pass the accounts the model was fitted on")
    if labels is None or labels is model.labels_:  # the CLI passes the model's own labels when it renames none
        return fitted
    renamed = labels.to_numpy(dtype=object) if isinstance(labels, pd.Series) else np.asarray(labels, dtype=object)
    if renamed.shape != fitted.shape:
        raise InputError(f"labels has {len(renamed)} entries but the model labelled {len(fitted)} accounts; "
                         "pass one new territory id per account row")
    pairs = pd.DataFrame({"fitted": clean_text(pd.Series(fitted)), "renamed": clean_text(pd.Series(renamed))})
    pairs = pairs.drop_duplicates()
    split = pairs["fitted"][pairs["fitted"].duplicated()].unique()
    merged = pairs["renamed"][pairs["renamed"].duplicated()].unique()
    if len(split) or len(merged):
        what = (f"fitted territories {show(split)} get more than one new id" if len(split)
                else f"new ids {show(merged)} each cover more than one fitted territory")
        raise InputError(f"labels must only rename the model's territories, but {what}; pass labels that map "
                         "each fitted territory to one new id (or make a plan with Plan.from_labels)")
    return renamed
