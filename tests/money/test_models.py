"""The transactions table keeps no foreign key to its merchant in the database (decision 0008): the
application still refuses to delete a merchant that has transactions."""

import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError

from posfleet.money.ingest import ingest
from posfleet.money.models import Transaction
from posfleet.registry.models import Merchant
from tests import builders
from tests.money.builders import item

pytestmark = pytest.mark.django_db


def test_a_merchant_with_transactions_cannot_be_deleted():
    t = builders.terminal()
    with transaction.atomic():
        ingest(builders.actor("finance"), [item(t.tid)])
    merchant = Merchant.objects.get(pk=t.merchant_id)
    with pytest.raises(ProtectedError) as refused, transaction.atomic():
        merchant.delete()
    assert any(isinstance(obj, Transaction) for obj in refused.value.protected_objects)
    assert Transaction.objects.filter(merchant_id=merchant.pk).count() == 1


def test_the_database_keeps_no_foreign_key_from_transactions_to_merchants():
    with connection.cursor() as cursor:
        keys = connection.introspection.get_constraints(cursor, Transaction._meta.db_table)
    assert not [name for name, c in keys.items() if c["foreign_key"]]
