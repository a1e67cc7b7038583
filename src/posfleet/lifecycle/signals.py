"""Sent after a lifecycle change commits: later apps (notices, webhooks, keys) listen here."""

from django.dispatch import Signal

# Sent inside apply()'s transaction, after the state is written and audited; a listener that raises
# rolls the change back. kwargs: terminal, action, actor, before.
terminal_applied = Signal()
terminal_changed = Signal()  # kwargs: tid, action
hold_changed = Signal()  # kwargs: hold_id, action
