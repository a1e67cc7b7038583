"""Work out the next item of an iterator in a thread while the caller uses this one.

For a bulk import: the thread reads and parses the next chunk of a file while the caller writes this
one. The caller's time in the database driver releases the GIL, so the thread's Python runs on one
core while the database backend works on the other (a forked process would pay to send every chunk
across). The iterator must not touch the database: a query from the thread would open a second
connection outside the caller's transaction, so the thread refuses any (`ReaderQueried`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")
_END = object()


class ReaderQueried(RuntimeError):
    """The read-ahead thread tried to query the database."""


def _refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    raise ReaderQueried("the read-ahead thread may not query the database")


def read_ahead(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """`items`, produced in a thread up to `depth` ahead of the caller; an exception in the thread is
    raised in the caller at that point. Leaving the loop early stops and joins the thread."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            with connection.execute_wrapper(_refuse):
                for item in items:
                    if not put(item):
                        return
            put(_END)
        except BaseException as exc:
            put(exc)

    thread = threading.Thread(target=run, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            value = ahead.get()
            if value is _END:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
