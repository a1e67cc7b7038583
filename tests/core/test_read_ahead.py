"""read_ahead: the same items in order, errors raised in the caller, no query from the thread."""

import threading

import pytest
from django.db import connection

from posfleet.core.read_ahead import ReaderQueried, read_ahead


def _threads():
    return [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_items_come_in_order():
    assert list(read_ahead(iter(range(100)))) == list(range(100))
    assert not _threads()


def test_an_error_in_the_thread_is_raised_in_the_caller_after_the_items_before_it():
    def items():
        yield 1
        raise ValueError("bad line")

    got = []
    with pytest.raises(ValueError, match="bad line"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1]


def test_leaving_early_stops_the_thread():
    for item in read_ahead(iter(range(1000))):
        if item == 3:
            break
    assert not _threads()


@pytest.mark.django_db(transaction=True)
def test_the_thread_may_not_query():
    def items():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        yield 1

    with pytest.raises(ReaderQueried):
        list(read_ahead(items()))
