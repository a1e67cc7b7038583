"""Per-request context that services read without every call threading it through (request id only)."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
