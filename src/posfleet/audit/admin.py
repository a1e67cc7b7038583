"""The audit log in the admin: read-only (the table is append-only)."""

from __future__ import annotations

from django.contrib import admin

from posfleet.audit.models import AuditEvent
from posfleet.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "occurred_at", "object_type", "object_id", "action", "actor_name", "channel")
    list_filter = ("channel", "object_type")
    search_fields = ("object_id", "actor_name", "action")
    show_full_result_count = False
