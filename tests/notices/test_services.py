import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.core.actor import Actor
from posfleet.core.errors import ValidationFailed
from posfleet.notices import codes, services
from posfleet.notices.models import Notice
from posfleet.notices.tell import tell_merchant
from tests import builders as b
from tests.notices.builders import letter

pytestmark = pytest.mark.django_db


def test_code_is_long_grouped_and_unambiguous():
    code = codes.new_code()
    assert len(code) == 14 and code[4] == "-" and code[9] == "-"
    assert codes.well_formed(code)
    assert not set(codes.normalize(code)) & set("01OIL")
    assert len({codes.new_code() for _ in range(200)}) == 200


def test_letter_stores_hash_of_code_not_the_code():
    m = b.merchant()
    n = letter(m)
    code = n.code
    stored = Notice.objects.get(pk=n.pk)
    assert stored.code_hash == codes.code_hash(code)
    assert stored.code_hint == codes.normalize(code)[-2:]
    assert stored.phone_last4 == "8000"
    for value in (stored.title, stored.body, repr(stored.facts)):
        assert code not in value and codes.normalize(code) not in value
    event = AuditEvent.objects.get(object_type="notice", object_id=str(n.pk))
    assert code not in repr(event.after)
    assert stored.pdf_bytes is not None and stored.pdf_bytes.startswith(b"%PDF")


def test_verify_genuine_and_mismatches_are_generic():
    m = b.merchant()
    n = letter(m)
    ok = services.verify(n.code.lower().replace("-", " "), "8000")
    assert ok["genuine"] is True
    assert ok["summary"]["title"] == "确认函"
    assert ok["summary"]["merchant"] == m.name
    wrong_phone = services.verify(n.code, "1234")
    unknown = services.verify(codes.new_code(), "8000")
    garbage = services.verify("hello", "80")
    assert wrong_phone == unknown == garbage
    assert wrong_phone["genuine"] is False and "summary" not in wrong_phone


def test_a_told_notice_has_its_own_code_and_is_listed():
    m = b.merchant()
    with transaction.atomic():
        notice_id = tell_merchant(Actor.system("worker"), m, "Maintenance", "Tonight 2-4am")
    n = Notice.objects.get(pk=notice_id)
    assert services.verify(n.clear_code, "8000")["genuine"]
    assert [x.pk for x in services.notices_for(m.pk)] == [n.pk]
    assert not n.has_pdf


def test_bad_kind_or_language_is_refused():
    m = b.merchant()
    with pytest.raises(ValidationFailed), transaction.atomic():
        tell_merchant(Actor.system(), m, "x", "y", kind="spam")
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.issue_letter(
            Actor.system(), merchant=m, kind="letter", title="x", facts={}, lines=[], language="fr"
        )
    assert not Notice.objects.exists()
