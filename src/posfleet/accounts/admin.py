"""Accounts in the admin: users and groups (roles) use Django's default admin; tokens are shown
(prefix only, never the hash) and can only be revoked from the console or CLI; portal links are editable.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from posfleet.accounts.models import ApiToken, MerchantUser


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    exclude = ("key_hash",)
    search_fields = ("name", "user__username", "key_prefix")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MerchantUser)
class MerchantUserAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "created_at")
    raw_id_fields = ("user", "merchant")
    list_select_related = ("user", "merchant")
