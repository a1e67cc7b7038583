import pytest

from posfleet.accounts import tokens
from posfleet.accounts.models import ApiToken
from posfleet.audit.models import AuditEvent
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests import builders

pytestmark = pytest.mark.django_db


class TestIssue:
    def test_raw_returned_once_and_only_hash_stored(self):
        u = builders.user("tok1", "technician")
        token, raw = tokens.issue(builders.actor(u=u), u, "laptop")
        assert raw.startswith("pf_") and token.key_hash == ApiToken.hash_key(raw)
        assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().first())
        event = AuditEvent.objects.get(object_type="api_token", object_id=str(token.pk))
        assert raw not in str(event.after) and token.key_hash not in str(event.after)
        assert event.after["prefix"] == token.key_prefix

    def test_name_required(self):
        u = builders.user("tok2", "technician")
        with pytest.raises(ValidationFailed):
            tokens.issue(builders.actor(u=u), u, "  ")

    def test_for_someone_else_needs_admin(self):
        u, other = builders.user("tok3", "technician"), builders.user("tok4", "risk")
        with pytest.raises(PermissionDenied):
            tokens.issue(builders.actor(u=u), other, "x")
        token, _raw = tokens.issue(builders.actor("admin"), other, "x")
        assert token.user_id == other.pk

    def test_system_may_issue(self):
        u = builders.user("tok5", "finance")
        token, _raw = tokens.issue(Actor.system("cli"), u, "batch")
        assert token.user_id == u.pk


class TestRevoke:
    def test_revoke_own_and_twice_conflicts(self):
        u = builders.user("rev1", "technician")
        a = builders.actor(u=u)
        token, _raw = tokens.issue(a, u, "x")
        tokens.revoke(a, token.pk)
        token.refresh_from_db()
        assert token.revoked_at is not None
        with pytest.raises(Conflict):
            tokens.revoke(a, token.pk)
        assert AuditEvent.objects.filter(action="token.revoke", object_id=str(token.pk)).count() == 1

    def test_cannot_revoke_others(self):
        owner, other = builders.user("rev2", "technician"), builders.user("rev3", "technician")
        token, _raw = tokens.issue(builders.actor(u=owner), owner, "x")
        with pytest.raises(PermissionDenied):
            tokens.revoke(builders.actor(u=other), token.pk)

    def test_unknown(self):
        with pytest.raises(NotFound):
            tokens.revoke(builders.actor("admin"), 99999)


class TestList:
    def test_own_vs_admin(self):
        a, b = builders.user("lst1", "technician"), builders.user("lst2", "risk")
        tokens.issue(builders.actor(u=a), a, "a")
        tokens.issue(builders.actor(u=b), b, "b")
        assert [t.name for t in tokens.tokens_for(builders.actor(u=a))] == ["a"]
        assert {t.name for t in tokens.tokens_for(builders.actor("admin"))} == {"a", "b"}
