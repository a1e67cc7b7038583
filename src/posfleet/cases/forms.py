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

from posfleet.audit import display as audit_display
from posfleet.cases.choices import (
    REASONS,
    Carrier,
    CaseChannel,
    CaseKind,
    CommentKind,
    Decision,
    MaterialType,
    Reason,
)
from posfleet.core import labels
from posfleet.registry.choices import Condition, MerchantKind
from posfleet.registry.models import TerminalModel
from posfleet.registry.services import MerchantInput

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

REASON_LABELS = dict(Reason.choices)

#: Which request fields each kind asks for (the rest are not shown).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    CaseKind.SUSPENSION: ("terminals", "reason", "starts_at", "ends_at", "note"),
    CaseKind.REACTIVATION: ("terminals", "reason", "note"),
    CaseKind.DEACTIVATION: ("terminals", "reason", "planned_date", "note", "follow_up_note"),
    CaseKind.CLOSURE: ("reason", "planned_date", "note", "follow_up_note"),
    CaseKind.APPEAL: ("hold", "reason", "note"),
}


def hold_choices(merchant_id: int) -> list[tuple[int, str]]:
    """The stops a merchant may appeal against, labelled by kind, what they stop and since when."""
    from django.utils import timezone

    from posfleet.cases.services import appealable_holds

    out = []
    for hold in appealable_holds(merchant_id):
        target = (
            _("all terminals")
            if hold.on_merchant
            else _("several terminals")
            if hold.bulk
            else hold.terminal.tid  # type: ignore[union-attr]
        )
        since = timezone.localtime(hold.starts_at).strftime("%Y-%m-%d %H:%M")
        out.append((hold.pk, f"{hold.get_kind_display()} · {target} · {since}"))
    return out


class CaseRequestForm(forms.Form):
    """A request of one kind: its reasons, the merchant's terminals, its dates."""

    hold = forms.TypedChoiceField(label=_("Stop appealed against"), coerce=int)
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
        holds: Iterable[tuple[int, str]] = (),
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
        if "hold" in self.fields:
            hold = self.fields["hold"]
            assert isinstance(hold, forms.TypedChoiceField)
            hold.choices = list(holds)
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
            "hold_id": data.get("hold"),
        }


class ApplicationForm(forms.Form):
    """What an application asks for: why, where to install, which model. The services check it."""

    reason = forms.ChoiceField(label=_("Reason"))
    install_address = forms.CharField(
        label=_("Installation address"),
        max_length=300,
        required=False,
        help_text=_("Where the terminal will be delivered and installed."),
    )
    terminal_model = forms.ChoiceField(label=_("Terminal model"), required=False)
    note = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CaseChannel.choices)

    def __init__(
        self, *args: Any, new_merchant: bool = False, with_channel: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        reasons = [r for r in REASONS[CaseKind.APPLICATION] if (r == Reason.NEW_MERCHANT) == new_merchant]
        if new_merchant:
            del self.fields["reason"]
        else:
            reason = self.fields["reason"]
            assert isinstance(reason, forms.ChoiceField)
            reason.choices = [(r, REASON_LABELS[r]) for r in reasons]
        model = self.fields["terminal_model"]
        assert isinstance(model, forms.ChoiceField)
        model.choices = [("", _("Any model in stock"))] + [
            (m.name, str(m))
            for m in TerminalModel.objects.filter(permitted=True).order_by("manufacturer", "name")
        ]
        if with_channel:
            channel = self.fields["channel"]
            assert isinstance(channel, forms.ChoiceField)
            channel.choices = [c for c in CaseChannel.choices if c[0] != CaseChannel.PORTAL]
            channel.initial = CaseChannel.BRANCH
        else:
            del self.fields["channel"]

    def service_input(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reason": data.get("reason", ""),
            "install_address": data.get("install_address", ""),
            "terminal_model": data.get("terminal_model", ""),
            "note": data.get("note", ""),
        }


class ApplicantForm(forms.Form):
    """A new merchant's data, as `registry.services.validate_merchant` checks it."""

    kind = forms.ChoiceField(
        label=_("Kind of merchant"), choices=MerchantKind.choices, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    email = forms.EmailField(label=_("E-mail"), required=False)
    licence_no = forms.CharField(
        label=_("Business licence number"), max_length=40, required=False, help_text=_("Businesses only.")
    )
    legal_representative = forms.CharField(
        label=_("Legal representative"), max_length=100, required=False, help_text=_("Businesses only.")
    )
    settlement_card = forms.CharField(label=_("Settlement card number"), max_length=30, required=False)
    address = forms.CharField(label=_("Business address"), max_length=300, required=False)

    def applicant_input(self) -> MerchantInput:
        data = self.cleaned_data
        return MerchantInput(**{name: data.get(name) or "" for name in self.fields})


class ResubmitForm(forms.Form):
    note = forms.CharField(
        label=_("What did you correct?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    install_address = forms.CharField(label=_("Installation address"), max_length=300)


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label=_("Carrier"), choices=Carrier.choices)
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=40, required=False)
    shipped_on = forms.DateField(label=_("Shipped on"), widget=DATE_INPUT)


class DeliverForm(forms.Form):
    delivered_on = forms.DateField(label=_("Delivered on"), widget=DATE_INPUT)


def material_rows(required: Iterable[str], have: Iterable[str]) -> list[dict[str, Any]]:
    """The materials a case asks for, each with its label and whether one was uploaded (both UIs)."""
    labels = dict(MaterialType.choices)
    uploaded = set(have)
    return [{"type": m, "label": labels.get(m, m), "ok": m in uploaded} for m in required]


def unprefixed(details: Any, prefix: str) -> Any:
    """`{"applicant.name": [...]}` → `{"name": [...]}`, so a service's errors land on a sub-form."""
    if not isinstance(details, Mapping):
        return details
    return {k.removeprefix(prefix): v for k, v in details.items() if k.startswith(prefix)}


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


labels.register(CHECKLIST_LABELS)


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
    "case.reapply": _("Corrected and resubmitted"),
    "case.allocate": _("Terminal allocated from stock"),
    "case.ship": _("Terminal shipped"),
    "case.deliver": _("Terminal delivered"),
    "case.activate": _("Terminal installed and activated"),
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
        {
            **e,
            "label": TIMELINE_LABELS.get(str(e.get("action", "")), e.get("action", "")),
            "text": _CODE_LABELS.get(str(e.get("text", "")), labels.label(e.get("text", ""))),
            "actor": audit_display.actor_label("system", str(e.get("actor", ""))) if e.get("actor") else "",
        }
        for e in entries
    ]
