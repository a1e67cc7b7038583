"""A keyset page's rows, with columns computed for the page's rows only."""

import pytest
from django.db import connection
from django.db.models import F, Value

from posfleet.core.paging import page_rows
from posfleet.registry.models import Merchant
from tests import builders

pytestmark = pytest.mark.django_db


def tagged(qs):
    return qs.annotate(tag=Value("x"), doubled=F("id") * 2)


def test_the_same_rows_in_the_same_order_with_or_without_annotations():
    for _i in range(5):
        builders.merchant()
    qs = Merchant.objects.filter(pk__gt=0)
    plain = page_rows(qs, "-id", 3)
    annotated = page_rows(qs, "-id", 3, tagged)
    assert [m.pk for m in annotated] == [m.pk for m in plain] == sorted((m.pk for m in plain), reverse=True)
    assert all(m.tag == "x" and m.doubled == 2 * m.pk for m in annotated)
    assert [m.pk for m in page_rows(qs, "id", 2, tagged)] == [m.pk for m in page_rows(qs, "id", 2)]


def test_one_query_whose_annotations_are_computed_for_the_page_only(django_assert_num_queries):
    for _i in range(4):
        builders.merchant()
    with django_assert_num_queries(1) as captured:
        rows = page_rows(Merchant.objects.all(), "-id", 2, tagged)
    assert len(rows) == 2
    sql = captured.captured_queries[0]["sql"]
    if connection.vendor == "sqlite":  # the keys are chosen (ordered, limited) inside
        assert "IN (SELECT" in sql and "LIMIT 2)" in sql
    else:  # PostgreSQL computes the annotations after its sort and limit by itself
        assert "IN (SELECT" not in sql and sql.endswith("LIMIT 2")


def test_an_empty_queryset_is_an_empty_page():
    assert page_rows(Merchant.objects.none(), "-id", 5, tagged) == []
