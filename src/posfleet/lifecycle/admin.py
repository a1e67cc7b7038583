"""Holds are placed and released in the console or the API (audited); the admin only shows them."""

from __future__ import annotations

from django.contrib import admin

from posfleet.core.admin import ReadOnlyAdmin
from posfleet.lifecycle.models import Hold


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "terminal",
        "merchant",
        "on_merchant",
        "bulk",
        "starts_at",
        "ends_at",
        "released_at",
    )
    list_filter = ("kind", "on_merchant", "bulk")
    list_select_related = ("terminal", "merchant")
    raw_id_fields = ("terminal", "merchant", "placed_by", "released_by")
    show_full_result_count = False
