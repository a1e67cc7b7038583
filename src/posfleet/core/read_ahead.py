"""Work out the next item of an iterator in a forked process while the caller uses this one.

A bulk import's child parses the next chunk while the parent writes this one: a process, not a thread,
because parsing is Python and a thread would share the GIL with the parent (and with SQLite, which runs
in it). Items cross a pipe as `marshal` data (`encode` in the child, `decode` in the parent); the
child is never more than about one item ahead. What lives at the fork is frozen from the collector
(`gc.freeze`), or collections would copy the parent's heap and walk its lookup tables for every item.
The iterator must not touch the database, whose connection the child shares: it refuses any query
(`ReaderQueried`) and ends with `os._exit`, which closes nothing the parent still uses.
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import pickle
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")
_ITEM, _END, _ERROR = b"i", b"e", b"x"


class ReaderQueried(RuntimeError):
    """The read-ahead process tried to query the database."""


class ReaderEnded(RuntimeError):
    """The read-ahead process ended before its last item (killed, out of memory)."""


def _refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    raise ReaderQueried("the read-ahead process may not query the database")


def _same(value: Any) -> Any:
    return value


def _produce(items: Iterator[Any], encode: Callable[[Any], Any], out: Connection) -> None:
    """The child: every item, encoded, then the end; or the exception that stopped it."""
    try:
        with connection.execute_wrapper(_refuse):
            for item in items:
                out.send_bytes(_ITEM + marshal.dumps(encode(item)))
        out.send_bytes(_END)
    except BaseException as exc:  # any failure is the parent's to raise
        try:
            out.send_bytes(_ERROR + pickle.dumps(exc))
        except Exception:  # an exception that does not pickle is sent as its text
            out.send_bytes(_ERROR + pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        out.close()


def read_ahead(
    items: Iterator[T], *, encode: Callable[[T], Any] = _same, decode: Callable[[Any], T] = _same
) -> Generator[T, None, None]:
    """`items`, produced in a forked child about one ahead of the caller. `encode` turns an item into
    plain values `marshal` can carry and `decode` turns them back. An exception in the child is raised
    in the caller at that point; leaving the loop early ends the child."""
    frozen = gc.get_freeze_count()
    gc.freeze()
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_produce, args=(items, encode, send), name="read-ahead", daemon=True
    )
    child.start()
    send.close()  # the parent's copy: the child's end of pipe is then the only writer
    try:
        while True:
            try:
                message = receive.recv_bytes()
            except EOFError:
                child.join()
                raise ReaderEnded(
                    f"the read-ahead process ended early (exit code {child.exitcode})"
                ) from None
            kind, body = message[:1], message[1:]
            if kind == _END:
                return
            if kind == _ERROR:
                raise pickle.loads(body)  # noqa: S301 — written by our own child, above
            yield decode(marshal.loads(body))  # noqa: S302 — likewise
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join()
        if not frozen:  # a process that froze its start-up objects keeps them frozen
            gc.unfreeze()
