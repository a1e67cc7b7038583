"""Forms for filing and working cases, shared by the portal and the console.

They only parse input; every rule (dates in the future, terminals of the merchant, required materials,
who may decide) is the cases services' job, and their `ValidationFailed.details` are put back on the
matching fields by `attach_errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from posfleet.cases.choices import (
    REASONS,
    CaseChannel,
    CaseKind,
    CommentKind,
    Condition,
    Decision,
    MaterialType,
    Reason,
)

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

REASON_LABELS = dict(Reason.choices)

#: Which request fields each kind asks for (the rest are not shown).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    CaseKind.SUSPENSION: ("terminals", "reason", "starts_at", "ends_at", "note"),
    CaseKind.REACTIVATION: ("terminals", "reason", "note"),
    CaseKind.DEACTIVATION: ("terminals", "reason", "planned_date", "note", "follow_up_note"),
    CaseKind.CLOSURE: ("reason", "planned_date", "note", "follow_up_note"),
}


class CaseRequestForm(forms.Form):
    """A request of one kind: its reasons, the merchant's terminals, its dates."""

    terminals = forms.MultipleChoiceField(
        label=_("Terminals"), widget=forms.CheckboxSelectMultiple, required=True
    )
    reason = forms.ChoiceField(label=_("Reason"))
    starts_at = forms.DateTimeField(label=_("Expected start"), widget=DATETIME_INPUT)
    ends_at = forms.DateTimeField(label=_("Expected end"), widget=DATETIME_INPUT)
    planned_date = forms.DateField(label=_("Planned date"), widget=DATE_INPUT, required=False)
    note = forms.CharField(
        label=_("Details"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    follow_up_note = forms.CharField(
        label=_("Follow-up plan"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CaseChannel.choices)

    def __init__(
        self,
        kind: str,
        terminal_tids: Iterable[str],
        *args: Any,
        with_channel: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        wanted = set(KIND_FIELDS[kind]) | ({"channel"} if with_channel else set())
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ChoiceField)
        reason.choices = [(r, REASON_LABELS[r]) for r in REASONS[kind]]
        if "terminals" in self.fields:
            field = self.fields["terminals"]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = [(tid, tid) for tid in terminal_tids]
        if with_channel:
            channel = self.fields["channel"]
            assert isinstance(channel, forms.ChoiceField)
            channel.choices = [c for c in CaseChannel.choices if c[0] != CaseChannel.PORTAL]
            channel.initial = CaseChannel.PHONE

    def service_input(self) -> dict[str, Any]:
        """The cleaned values named as the CaseInput fields."""
        data = self.cleaned_data
        return {
            "terminals": list(data.get("terminals") or []),
            "reason": data.get("reason", ""),
            "note": data.get("note", ""),
            "starts_at": data.get("starts_at"),
            "ends_at": data.get("ends_at"),
            "planned_date": data.get("planned_date"),
            "follow_up_note": data.get("follow_up_note", ""),
        }


class MaterialForm(forms.Form):
    type = forms.ChoiceField(label=_("Material type"), choices=MaterialType.choices)
    file = forms.FileField(label=_("File"))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices)
    reason = forms.CharField(
        label=_("Reason (the merchant sees it)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class CommentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CommentKind.choices, initial=CommentKind.COMMENT)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class StopForm(forms.Form):
    at = forms.DateTimeField(label=_("Effective time (empty: now)"), widget=DATETIME_INPUT, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReturnsForm(forms.Form):
    """One condition per lent item; items are `terminal:<TID>` or `accessory:<id>`."""

    def __init__(self, items: Iterable[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for key, label in self.items:
            self.fields[key] = forms.ChoiceField(
                label=label, choices=Condition.choices, initial=Condition.GOOD
            )

    def service_items(self) -> list[dict[str, str]]:
        return [{"item": key, "condition": self.cleaned_data[key]} for key, _label in self.items]


def attach_errors(form: forms.Form, details: Any) -> bool:
    """Put a service's `details` ({field: [messages]}) on the form's fields; True if any landed."""
    if not isinstance(details, Mapping):
        return False
    landed = False
    for name, msgs in details.items():
        if not isinstance(msgs, list | tuple):
            msgs = [msgs]
        target = name if name in form.fields else None
        for msg in msgs:
            form.add_error(target, str(msg))
            landed = True
    return landed


#: How the checklist items read in both UIs (the API keeps the codes).
CHECKLIST_LABELS: dict[str, Any] = {
    "terminals_stopped": _("Terminals stopped"),
    "money_cleared": _("Money cleared (settled, no dispute, statement issued)"),
    "data_exported": _("Transaction data exported"),
    "equipment_returned": _("Equipment returned and inspected"),
    "keys_destroyed": _("Keys destroyed (two custodians)"),
    "money_settled": _("Penalty, deductions and refund settled"),
    "account_closed": _("Account closed (balance zero, card unbound)"),
}


def labelled_checklist(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {"item": i.item, "ok": i.ok, "why": i.why, "label": CHECKLIST_LABELS.get(i.item, i.item)}
        for i in items
    ]


#: How timeline entries (audit actions and comment kinds) read in both UIs.
TIMELINE_LABELS: dict[str, Any] = {
    "case.file": _("Request filed"),
    "case.material_add": _("Material uploaded"),
    "case.resubmit": _("Back to review with new materials"),
    "case.need_materials": _("More materials requested"),
    "case.approve": _("Approved"),
    "case.reject": _("Rejected"),
    "case.cancel": _("Cancelled"),
    "case.assign": _("Assigned"),
    "case.comment": _("Comment added"),
    "case.stop": _("Terminals stopped"),
    "case.stop_scheduled": _("Stop scheduled"),
    "case.statement": _("Final statement issued"),
    "case.export_requested": _("Data export requested"),
    "case.export_done": _("Data export ready"),
    "case.return": _("Equipment received and inspected"),
    "case.settle": _("Money settled"),
    "case.payment": _("Payment received"),
    "case.reminder": _("Reminder sent"),
    "case.complete": _("Completed"),
    "comment": _("Comment"),
    "call": _("Phone call"),
    "email": _("E-mail"),
    "notice": _("Notice"),
    "letter": _("Confirmation letter"),
    "statement": _("Statement"),
    "reminder": _("Reminder"),
}

#: Codes that appear as the text of timeline entries (reasons, material types), shown by their label.
_CODE_LABELS: dict[str, Any] = {**dict(Reason.choices), **dict(MaterialType.choices)}


def labelled_timeline(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**e, "label": TIMELINE_LABELS.get(str(e.get("action", "")), e.get("action", ""))} for e in entries
    ]
