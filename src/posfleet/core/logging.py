"""structlog set-up: key-value logs (JSON in production) with the request id, secrets dropped.

Any event key that names a secret (keys, card numbers, ID numbers, passwords, tokens) is replaced
before rendering, so a careless `log.info(..., settlement_card=...)` cannot leak it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog

from posfleet.core import context

SECRET_WORDS = ("card", "pan", "key", "tmk", "password", "secret", "token", "id_number", "otp")


def _drop_secrets(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for k in list(event):
        if k != "event" and any(word in k.lower() for word in SECRET_WORDS):
            event[k] = "[redacted]"
    return event


def _request_id(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    rid = context.request_id.get()
    if rid:
        event.setdefault("request_id", rid)
    return event


def configure(json: bool) -> dict[str, Any]:
    """Configure structlog and return the stdlib LOGGING dict that renders through it."""
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
        _request_id,
        _drop_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
                "foreign_pre_chain": shared,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
