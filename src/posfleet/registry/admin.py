"""Django admin for reference data: terminal models and contract templates are edited here; merchants and
terminals are read-only (their changes go through the services, which audit them), and the settlement
card is never shown except masked.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from posfleet.core.admin import ReadOnlyAdmin
from posfleet.registry.models import ContractTemplate, Merchant, Terminal, TerminalModel


@admin.register(TerminalModel)
class TerminalModelAdmin(admin.ModelAdmin):
    list_display = ("manufacturer", "name", "permitted", "min_security_patch_level")
    list_filter = ("permitted", "manufacturer")
    search_fields = ("name", "manufacturer")


@admin.register(ContractTemplate)
class ContractTemplateAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "is_default",
        "min_term_months",
        "deposit_fen",
        "monthly_fee_fen",
        "early_termination_penalty_fen",
    )
    search_fields = ("code", "name")


@admin.register(Merchant)
class MerchantAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "kind", "state", "contact_name", "phone", "card")
    list_filter = ("kind", "state")
    search_fields = ("name", "contact_name", "phone", "licence_no")
    exclude = ("settlement_card_enc", "settlement_card_last4")
    readonly_fields = ("card",)

    @admin.display(description=_("Settlement card"))
    def card(self, obj: Merchant) -> str:
        return obj.settlement_card_masked


@admin.register(Terminal)
class TerminalAdmin(ReadOnlyAdmin):
    list_display = ("tid", "sn", "model", "merchant", "state", "version")
    list_filter = ("state", "model")
    search_fields = ("tid", "sn")
    list_select_related = ("model", "merchant")
    show_full_result_count = False
    raw_id_fields = ("merchant", "model")
