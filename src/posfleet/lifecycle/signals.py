"""Sent after a lifecycle change commits: later apps (notices, webhooks, keys) listen here."""

from django.dispatch import Signal

terminal_changed = Signal()  # kwargs: tid, action
hold_changed = Signal()  # kwargs: hold_id, action
