"""The console bench's pages on tiny scale data: every page answers 200 with a pinned number of queries
(so a list that starts counting or looping over rows shows up here, not only at a million rows)."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from posfleet.devtools.bench import console
from posfleet.devtools.demo import bulk
from posfleet.registry.models import TerminalModel

pytestmark = pytest.mark.django_db(transaction=True)

# queries per page (session, user and permission reads included)
# A terminal list longer than one page counts its total once (capped), hence one more than a single page.
PINNED = {
    "terminal list, state active": 8,
    "terminal list, state in_repair": 7,
    "terminal list, model": 9,
    "terminal list, merchant": 8,
    "terminal list, TID prefix": 7,
    "terminal list, search by name": 10,
    "merchant search by name": 4,
    "merchant search, no match": 4,
    "terminal page": 11,
    "merchant page": 9,
    "merchant money page (its transactions)": 9,
    "biggest merchant's money page": 9,
    "biggest merchant's settlement page": 13,
    "cases queue": 7,
    "audit list by object": 4,
    "dashboard": 7,  # states, holds, open device alerts, open fraud reports
    "money page (30-day charts)": 6,
    "settlement page": 5,
    "biggest merchant's month statement CSV": 13,
    "API terminals, state active": 2,
    "API terminals, TID prefix": 2,
    "API merchants, name": 2,
    "API audit by object": 2,
    "API cases": 4,
}


def test_every_scale_page_answers_with_its_pinned_query_count():
    TerminalModel.objects.create(manufacturer="T", name="T-1", min_security_patch_level="2025-01-01")
    bulk.build(0.0005, say=lambda _m: None)
    from posfleet.accounts.models import ApiToken

    user = console._admin()
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user, name='t')[1]}"}
    seen = {}
    for name, url in console.pages():
        _times, queries, status = console._timed(client, url, 1, **(auth if url.startswith("/api/") else {}))
        seen[name] = (queries, status)
    # on PostgreSQL the dashboard first asks the planner's statistics whether the fleet is large
    extra = {"dashboard": 1} if connection.vendor == "postgresql" else {}
    assert seen == {name: (n + extra.get(name, 0), 200) for name, n in PINNED.items()}
