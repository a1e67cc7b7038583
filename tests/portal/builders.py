"""Builders for portal tests: a merchant user (portal login) linked to a merchant."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import User

from posfleet.accounts.models import MerchantUser
from posfleet.registry.models import Merchant
from tests import builders

_counter = itertools.count(1)
PASSWORD = "pw-for-tests-1"


def merchant_user(merchant_obj: Merchant | None = None, username: str = "") -> User:
    merchant_obj = merchant_obj or builders.merchant()
    u = User.objects.create_user(username=username or f"shop{next(_counter)}", password=PASSWORD)
    MerchantUser.objects.create(user=u, merchant=merchant_obj)
    return u
