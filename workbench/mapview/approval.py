"""The approval panel: a plan's review, then an explicit sign-off (a checkbox for its warnings).

:class:`ApprovalPanel` is a ``VBox`` showing :func:`workbench.signoff.review_plan`
(scorecard against today, who is affected, warnings) above an *Approve and
save* button. A plan with warnings can be approved only after ticking "I have
read the warnings and approve anyway"; the warnings acknowledged are recorded
in the approved plan (``metadata.accepted_warnings``).
"""

from __future__ import annotations

import html
from pathlib import Path

from ipywidgets import HTML, Button, Checkbox, HBox, Layout, Text, Textarea, VBox

from workbench import present
from workbench.errors import PlanError, WorkbenchError


class ApprovalPanel(VBox):
    """Review a draft and approve it, with an explicit acknowledgement of its warnings.

    Parameters
    ----------
    plan : Plan
        The draft to approve.
    review : ApprovalReview, optional
        Default :func:`workbench.signoff.review_plan` of ``plan`` (with ``current``).
    folder : str or path, default "plans"
        Where the approved plan is saved (``<folder>/<scenario>-approved-<hash>``).
    by, note : str
        Initial approver and note.
    current : Plan, optional
        Today's alignment for the review (default the accounts' ``current_territory``).

    Attributes
    ----------
    approved : Plan or None
        The approved plan once approved (by the button or :meth:`approve`).
    approved_path : pathlib.Path or None
    """

    def __init__(self, plan, review=None, *, folder="plans", by: str = "", note: str = "", current=None, **kwargs):
        super().__init__(**kwargs)
        from workbench.signoff import review_plan

        self.plan = plan
        self.review = review if review is not None else review_plan(plan, current)
        self.folder = Path(folder)
        self.approved = None
        self.approved_path = None
        self.add_class("wb-approval-panel")
        n = len(self.review.warnings)
        self._review = HTML(self.review._repr_html_())
        self._by = Text(value=by, description="Approved by", layout=Layout(width="420px"),
                        style={"description_width": "initial"})
        self._note = Textarea(value=note, description="Note", layout=Layout(width="620px", height="56px"))
        self._accept = Checkbox(value=False, indent=False, layout=Layout(width="auto"),
                                description=f"I have read the {present.count(n, 'warning')} above and approve anyway "
                                            "(recorded in the approval)")
        self._accept.layout.display = "flex" if n else "none"
        self._button = Button(description="Approve and save", icon="check", button_style="success",
                              layout=Layout(width="180px"))
        self._button.on_click(self._on_approve_click)
        self._result = HTML()
        self._result.add_class("wb-approval-result")
        for widget in (self._by, self._accept):
            widget.observe(self._on_input_change, "value")
        self._on_input_change()
        self.children = [self._review, self._by, self._note, self._accept, HBox([self._button, self._result])]

    def _ready(self) -> tuple[bool, str]:
        if not self._by.value.strip():
            return False, "type the approver's name"
        if self.review.warnings and not self._accept.value:
            return False, f"tick the box to acknowledge the {present.count(len(self.review.warnings), 'warning')}"
        return True, ""

    def _on_input_change(self, change=None) -> None:
        ready, why = self._ready()
        self._button.disabled = not ready or self.approved is not None
        if self.approved is None:
            self._result.value = "" if ready else f"<span style='color:#555'>To approve: {html.escape(why, quote=False)}.</span>"

    def _on_approve_click(self, button=None) -> None:
        try:
            self.approve(accept_warnings=self._accept.value)
        except WorkbenchError as error:
            self._result.value = f"<span style='color:#B2182B'>{html.escape(str(error))}</span>"

    def approve(self, accept_warnings: bool = False):
        """Approve and save (as the button does); returns the approved plan.

        Raises
        ------
        PlanError
            No approver, or warnings not acknowledged (``accept_warnings=False``).
        """
        from workbench.plan import approve, load_plan, save_plan
        from workbench.plan import slug

        if self.approved is not None:
            return self.approved
        if accept_warnings:
            self._accept.value = True
        target = self.folder / f"{slug(self.plan.name)}-approved-{self.plan.content_hash[:8]}"
        if target.exists():  # approved and saved before: the record is kept, never overwritten
            existing = load_plan(target)
            if existing.is_approved and existing.content_hash == self.plan.content_hash:
                self._done(existing, target, reused=True)
                return existing
        approved = approve(self.plan, by=self._by.value, note=self._note.value, review=self.review,
                           accept_warnings=bool(self._accept.value))
        path = save_plan(approved, target)
        self._done(approved, path)
        return approved

    def approve_if_acknowledged(self, accept_warnings: bool = False):
        """:meth:`approve`, or None (said in the panel) when warnings are not acknowledged.

        For a notebook run top to bottom: it goes on with a DRAFT instead of failing.
        """
        try:
            return self.approve(accept_warnings)
        except PlanError as error:
            self._result.value = f"<span style='color:#842029'>Not approved: {html.escape(str(error), quote=False)}</span>"
            return None

    def _done(self, approved, path, reused: bool = False) -> None:
        self.approved, self.approved_path = approved, Path(path)
        m = approved.metadata
        accepted = f"; {present.count(len(m.accepted_warnings), 'warning')} acknowledged" if m.accepted_warnings else ""
        self._result.value = (f"<span style='color:#1b5e20'><b>{'Already approved' if reused else 'Approved'}</b> by "
                              f"{html.escape(str(m.approved_by))} at {html.escape(str(m.approved_at))}{accepted}; "
                              f"saved as {html.escape(Path(path).name)}</span>")
        self._button.disabled = True
