"""Kinds of job and their handlers, registered by the app that owns the work (jobs imports no app).

A handler is `handler(job, ctx) -> result dict | None`. It runs outside any transaction and opens
its own; it records where it got to with `ctx.save(...)` inside the transaction that did that part
of the work, so a restart resumes after the last committed step and never repeats one. Handlers
live beside the services they call and are registered when their module is imported; every app's
`tasks.py` is imported (as Huey's worker does) before the registry is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import autodiscover_modules

# handler(job, ctx): a `jobs.models.Job` and a `jobs.runner.Context`. Typed loosely here, so that the
# registry stands below the models and the runner that read it.
Handler = Callable[[Any, Any], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler
    label: Any  # a lazily translated name people read
    max_attempts: int = 3
    # Called in the transaction that marks the job failed for good (the owner's record says so too).
    on_failed: Callable[[Any], None] | None = None


_KINDS: dict[str, Kind] = {}
_loaded = False


def register(
    name: str,
    *,
    label: Any,
    max_attempts: int = 3,
    on_failed: Callable[[Any], None] | None = None,
) -> Callable[[Handler], Handler]:
    """Decorator: `handler` runs the jobs of kind `name`."""

    def decorate(handler: Handler) -> Handler:
        _KINDS[name] = Kind(name, handler, label, max_attempts, on_failed)
        return handler

    return decorate


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        autodiscover_modules("tasks")


def get(name: str) -> Kind | None:
    if name not in _KINDS:
        _load()
    return _KINDS.get(name)


def kinds() -> list[Kind]:
    _load()
    return sorted(_KINDS.values(), key=lambda k: k.name)


def label(name: str) -> Any:
    kind = get(name)
    return kind.label if kind is not None else name
