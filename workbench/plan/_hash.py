"""Deterministic hashes of a plan's input data, content and whole record.

What each hash covers (this text is also written to every manifest):

``input_hash``
    SHA-256 of the accounts table the plan was made from: rows sorted by
    ``account_id``, columns sorted by name; each column contributes its name,
    a type tag and its values (numbers as little-endian float64 with one NaN
    pattern; booleans as 0/1; everything else as JSON text, missing as null).
    Row order and column order therefore do not change it; any changed value,
    added or removed row or column does.
``content_hash``
    SHA-256 of: the format tag; the assignments sorted by ``account_id``
    (account, territory or null, locked flag); the territories sorted by
    ``territory_id`` with every attribute column; the ``input_hash``; and the
    metadata fields ``name``, ``method``, ``parameters``, ``parent_hash`` and
    ``edit`` (and ``report``, the fit's report, when the plan has one). It leaves out ``created_at``, ``created_by``, ``versions`` (so the
    same plan rebuilt from the same data and parameters gets the same hash)
    and the approval fields (so approving a plan does not change its content
    hash: the hash an approver reviewed is the hash of the approved plan).
``record_hash``
    SHA-256 of the ``content_hash`` plus every metadata field it leaves out
    (``created_at``, ``created_by``, ``versions``, ``status``, ``approved_by``,
    ``approved_at``, ``approval_note``, and ``accepted_warnings`` when the approver
    acknowledged any). Loading checks both, so no field of a
    saved plan can change unnoticed.

These are integrity checks, not signatures: they detect accidental or casual
edits; someone who rewrites the files and recomputes the hashes is not stopped.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from workbench.plan._meta import canonical_json
from workbench.schema import ACCOUNT_ID, TERRITORY_ID

FORMAT_TAG = "territory-workbench-plan/1"
HASH_COVERAGE = __doc__[__doc__.index("``input_hash``"):__doc__.index("These are integrity")].strip()

#: Metadata fields inside the content hash.
CONTENT_FIELDS = ("name", "method", "parameters", "parent_hash", "edit")
#: Metadata fields covered only by the record hash.
RECORD_FIELDS = ("created_at", "created_by", "versions", "status", "approved_by", "approved_at", "approval_note")


def _update_column(digest, name: str, series: pd.Series) -> None:
    digest.update(json.dumps(str(name)).encode() + b"\x00")
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        digest.update(b"b")
        digest.update(series.astype("boolean").fillna(False).to_numpy(dtype=np.uint8).tobytes())
        digest.update(series.isna().to_numpy(dtype=np.uint8).tobytes())
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        values = np.where(np.isnan(values), np.nan, values + 0.0).astype("<f8")  # one NaN pattern, -0.0 -> 0.0
        digest.update(b"f")
        digest.update(values.tobytes())
    else:
        digest.update(b"t")
        values = series.astype(object).where(series.notna(), None).tolist()
        digest.update(json.dumps(values, ensure_ascii=False, default=str, allow_nan=False).encode())
    digest.update(b"\x01")


def frame_digest(frame: pd.DataFrame, sort_by: str | None = None) -> str:
    """SHA-256 of a frame independent of row and column order (rows sorted by ``sort_by``)."""
    digest = hashlib.sha256()
    if sort_by is not None:
        order = np.argsort(frame[sort_by].astype(str).to_numpy(), kind="stable")
        frame = frame.iloc[order]
    digest.update(f"rows={len(frame)}\x00".encode())
    for name in sorted(map(str, frame.columns)):
        column = frame[[c for c in frame.columns if str(c) == name][0]]
        _update_column(digest, name, column)
    return digest.hexdigest()


def input_hash(accounts: pd.DataFrame) -> str:
    """Hash of the accounts data (see the module docstring).

    Examples
    --------
    >>> a = pd.DataFrame({"account_id": ["1", "2"], "workload": [1.0, 2.0]})
    >>> input_hash(a) == input_hash(a.iloc[::-1][["workload", "account_id"]])
    True
    >>> input_hash(a) == input_hash(a.assign(workload=[1.0, 2.5]))
    False
    """
    return frame_digest(accounts.reset_index(drop=True), sort_by=ACCOUNT_ID)


def content_hash(assignments: pd.Series, locked, territories: pd.DataFrame, metadata) -> str:
    """Hash of a plan's content (see the module docstring)."""
    digest = hashlib.sha256(FORMAT_TAG.encode() + b"\x00")
    ids = assignments.index.to_numpy(dtype=object)
    order = np.argsort(ids.astype(str), kind="stable")
    frame = pd.DataFrame({
        ACCOUNT_ID: ids[order],
        TERRITORY_ID: assignments.to_numpy(dtype=object)[order],
        "locked": assignments.index.isin(list(locked))[order],
    })
    digest.update(b"assignments\x00" + frame_digest(frame).encode())
    digest.update(b"territories\x00" + frame_digest(territories.reset_index(), sort_by=TERRITORY_ID).encode())
    digest.update(b"input\x00" + metadata.input_hash.encode())
    fields = {name: getattr(metadata, name) for name in CONTENT_FIELDS}
    if metadata.report:  # only plans made from a fit have one; older plans keep their hashes
        fields["report"] = metadata.report
    digest.update(b"metadata\x00" + canonical_json(fields).encode())
    return digest.hexdigest()


def record_hash(content: str, metadata) -> str:
    """Hash of the content hash plus every metadata field outside it."""
    fields = {name: getattr(metadata, name) for name in RECORD_FIELDS}
    accepted = getattr(metadata, "accepted_warnings", ())
    if accepted:  # only when there are some, so the record hashes of earlier plans stay as they were
        fields["accepted_warnings"] = list(accepted)
    return hashlib.sha256(f"{content}\x00{canonical_json(fields)}".encode()).hexdigest()
