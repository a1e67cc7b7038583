"""read_ahead: the same items in order from a child process, errors raised in the caller, no query
from the child, nothing left running."""

import gc
import multiprocessing

import pytest
from django.db import connection

from posfleet.core.read_ahead import ReaderEnded, ReaderQueried, read_ahead


def test_items_come_in_order():
    assert list(read_ahead(iter(range(100)))) == list(range(100))
    assert not multiprocessing.active_children()


def test_items_cross_as_plain_values_and_come_back_as_objects():
    class Box:
        def __init__(self, value: int) -> None:
            self.value = value

    got = read_ahead((Box(n) for n in range(5)), encode=lambda b: (b.value,), decode=lambda v: Box(v[0]))
    assert [b.value for b in got] == [0, 1, 2, 3, 4]


def test_the_items_are_made_in_another_process():
    import os

    parent = os.getpid()
    pids = list(read_ahead(iter([0, 1]), encode=lambda _n: os.getpid()))
    assert len(set(pids)) == 1 and pids[0] != parent


def test_an_error_in_the_child_is_raised_in_the_caller_after_the_items_before_it():
    def items():
        yield 1
        raise ValueError("bad line")

    got = []
    with pytest.raises(ValueError, match="bad line"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1]
    assert not multiprocessing.active_children()


def test_leaving_early_ends_the_child_and_unfreezes_the_collector():
    gc.unfreeze()  # as in a process that froze nothing itself
    for item in read_ahead(iter(range(100_000))):
        if item == 3:
            break
    assert not multiprocessing.active_children()
    assert gc.get_freeze_count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_child_may_not_query():
    def items():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        yield 1

    with pytest.raises(ReaderQueried):
        list(read_ahead(items()))
    with connection.cursor() as cursor:  # the caller's connection is untouched
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_child_that_dies_ends_the_loop_with_reader_ended():
    import os

    def items():
        yield 1
        os._exit(3)  # as if killed: nothing more is sent

    got = []
    with pytest.raises(ReaderEnded, match="exit code 3"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1]
    assert not multiprocessing.active_children()
