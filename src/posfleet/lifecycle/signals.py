"""Sent after a lifecycle change commits: later apps (notices, webhooks, keys) listen here."""

from django.dispatch import Signal

# Sent inside apply()'s transaction, after the state is written and audited; a listener that raises
# rolls the change back. kwargs: terminal, action, actor, before, params (the action's).
# use_caching: receivers are looked up once per sender, not on every audited change (sent thousands of
# times a second); connect() and disconnect() clear the cache.
terminal_applied = Signal(use_caching=True)
terminal_changed = Signal(use_caching=True)  # kwargs: tid, action
hold_changed = Signal(use_caching=True)  # kwargs: hold_id, action
