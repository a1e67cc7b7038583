"""Sent after a notice commits, with its code in clear (never stored): a delivery channel
(SMS, e-mail, webhook) listens here. kwargs: notice_id, code."""

from django.dispatch import Signal

notice_sent = Signal()
