"""Holds are placed and released in the console or the API (audited); the admin only shows them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from posfleet.lifecycle.models import Hold


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
