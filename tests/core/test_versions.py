"""The versioned write behind cases, repair orders and merchants: it lands only on the version read."""

from __future__ import annotations

import pytest
from django.utils import timezone

from posfleet.core import versions
from posfleet.core.errors import StaleVersion
from posfleet.registry.models import Merchant
from tests import builders

pytestmark = pytest.mark.django_db


class TestWrite:
    def test_writes_the_fields_with_the_next_version_on_row_and_object(self):
        merchant = builders.merchant()
        version, now = merchant.version, timezone.now()
        before, after = versions.write(merchant, now, state="suspended")
        assert before == {"state": "active", "version": version}
        assert after == {"state": "suspended", "version": version + 1}
        assert (merchant.state, merchant.version, merchant.updated_at) == ("suspended", version + 1, now)
        row = Merchant.objects.get(pk=merchant.pk)
        assert (row.state, row.version, row.updated_at) == ("suspended", version + 1, now)

    def test_a_row_changed_since_it_was_read_is_stale_and_nothing_is_written(self):
        merchant = builders.merchant()
        version = merchant.version
        Merchant.objects.filter(pk=merchant.pk).update(version=version + 1)
        with pytest.raises(StaleVersion):
            versions.write(merchant, timezone.now(), state="suspended")
        assert (merchant.state, merchant.version) == ("active", version)
        assert Merchant.objects.get(pk=merchant.pk).state == "active"
