"""Console forms: they parse and display input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from posfleet.lifecycle.models import HoldKind
from posfleet.notices.choices import ReasonCategory
from posfleet.registry.choices import MerchantKind, TerminalState
from posfleet.registry.models import TerminalModel

DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _hold_filter_choices() -> list[tuple[str, Any]]:
    """Built when a form is made, in the reader's language (not once at import, in the default one)."""
    return [
        ("", _("Any")),
        ("any", _("Held (any kind)")),
        ("none", _("Not held")),
        *[(k, _("Held: %(kind)s") % {"kind": label}) for k, label in HoldKind.choices],
    ]


class TerminalFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("TID, SN, merchant or model")}),
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *TerminalState.choices]
    )
    model = forms.ModelChoiceField(
        label=_("Model"), required=False, queryset=TerminalModel.objects.all(), empty_label=_("All models")
    )
    merchant = forms.IntegerField(label=_("Merchant"), required=False, min_value=1)
    hold = forms.ChoiceField(
        label=_("Holds"),
        required=False,
        choices=lambda: _hold_filter_choices(),
    )
    after = forms.IntegerField(required=False, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), required=True
    )


class NoticeFieldsMixin(forms.Form):
    """What the merchant is told: a reason category and the text (prefilled from its template)."""

    reason_category = forms.ChoiceField(
        label=_("Reason the merchant reads"),
        choices=[("", _("By the hold's kind")), *ReasonCategory.choices],
        required=False,
    )
    merchant_message = forms.CharField(
        label=_("Text for the merchant"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Prefilled from the category's template; the internal reason is never shown to them."),
    )


class HoldForm(NoticeFieldsMixin, ReasonForm):
    kind = forms.ChoiceField(label=_("Hold kind"), choices=HoldKind.choices)
    starts_at = forms.DateTimeField(
        label=_("Starts at"), required=False, input_formats=DT_FORMATS, widget=DateTimeLocal()
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), required=False, input_formats=DT_FORMATS, widget=DateTimeLocal()
    )
    hold_settlement = forms.BooleanField(
        label=_("Also hold the merchant's settlement (risk freeze only)"), required=False
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = kinds  # type: ignore[attr-defined]


class BulkConfirmForm(NoticeFieldsMixin, ReasonForm):
    starts_at = forms.DateTimeField(
        label=_("Starts at"), required=False, input_formats=DT_FORMATS, widget=DateTimeLocal()
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), required=False, input_formats=DT_FORMATS, widget=DateTimeLocal()
    )


class TransitionForm(ReasonForm):
    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    merchant_id = forms.IntegerField(label=_("Merchant ID"), required=False, min_value=1)


class MerchantForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MerchantKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    licence_no = forms.CharField(label=_("Business licence number"), max_length=40, required=False)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    settlement_card = forms.CharField(
        label=_("Settlement card number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    contract_template = forms.CharField(label=_("Contract template code"), max_length=40, required=False)
