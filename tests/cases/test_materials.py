"""Materials: checked by content, size-limited, stored under a generated name with SHA-256."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.cases import services
from posfleet.cases.models import Material
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests import builders
from tests.cases import builders as cb


def _case():
    m = builders.merchant()
    return cb.file(kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])


def _add(case, type_, upload, actor=None):
    with transaction.atomic():
        return services.add_material(actor or builders.actor("agent"), case.pk, type_, upload)


@pytest.mark.django_db
class TestAddMaterial:
    @pytest.mark.parametrize(
        ("data", "content_type"),
        [(cb.PDF, "application/pdf"), (cb.PNG, "image/png"), (cb.JPEG, "image/jpeg")],
    )
    def test_stored_by_content_with_sha256(self, settings, data, content_type):
        case = _case()
        material = _add(case, "application_form", SimpleUploadedFile("scan.bin", data))
        assert material.content_type == content_type
        assert material.sha256 == hashlib.sha256(data).hexdigest()
        assert material.path.parent == settings.VAR_DIR / "files" / "materials"
        assert material.path.read_bytes() == data
        assert material.stored_name != "scan.bin" and material.original_name == "scan.bin"
        assert "application_form" not in case.missing_materials()

    def test_wrong_type_named_pdf_is_refused(self, settings):
        case = _case()
        events = AuditEvent.objects.count()
        with pytest.raises(ValidationFailed) as info:
            _add(case, "application_form", SimpleUploadedFile("form.pdf", b"MZ\x90\x00 not a pdf"))
        assert "file" in info.value.details
        assert Material.objects.count() == 0 and AuditEvent.objects.count() == events
        assert not (settings.VAR_DIR / "files" / "materials").exists() or not any(
            (settings.VAR_DIR / "files" / "materials").iterdir()
        )

    def test_oversize_is_refused(self, settings):
        settings.CASE_MATERIAL_MAX_BYTES = 1024
        case = _case()
        with pytest.raises(ValidationFailed) as info:
            _add(case, "photos", SimpleUploadedFile("big.png", cb.PNG + b"\x00" * 2000))
        assert "file" in info.value.details
        assert Material.objects.count() == 0

    def test_oversize_stream_without_size_is_refused(self, settings):
        settings.CASE_MATERIAL_MAX_BYTES = 1024
        case = _case()
        with pytest.raises(ValidationFailed):
            _add(case, "photos", cb.bytes_io(cb.PNG + b"\x00" * 2000))

    def test_unknown_type_and_empty_file(self):
        case = _case()
        with pytest.raises(ValidationFailed):
            _add(case, "selfie", cb.pdf())
        with pytest.raises(ValidationFailed):
            _add(case, "photos", SimpleUploadedFile("empty.png", b""))

    def test_other_merchants_portal_user_cannot_see_or_add(self):
        case = _case()
        stranger = cb.portal_actor(builders.merchant())
        with pytest.raises(NotFound):
            _add(case, "photos", cb.pdf(), actor=stranger)
        material = _add(case, "photos", cb.pdf())
        with pytest.raises(NotFound):
            services.read_material(stranger, material.pk)
        owner = cb.portal_actor(case.merchant)
        assert services.read_material(owner, material.pk)[1] == cb.PDF

    def test_warehouse_cannot_add(self):
        with pytest.raises(PermissionDenied):
            _add(_case(), "photos", cb.pdf(), actor=builders.actor("warehouse"))

    def test_upload_moves_a_waiting_case_back_to_review(self):
        case = _case()
        cb.decide(case, "need_materials", reason="please send the form")
        case.refresh_from_db()
        assert case.state == "needs_materials"
        _add(case, "application_form", cb.pdf(), actor=cb.portal_actor(case.merchant))
        case.refresh_from_db()
        assert case.state == "submitted"


@pytest.mark.django_db
class TestWhoReadsCaseDocuments:
    """ID and licence copies, letters and archives: the merchant itself and the staff who work with
    them (read_case_documents); technicians, warehouse and key custodians see the case, not its papers."""

    def _approved_with_materials(self):
        m = builders.merchant()
        case = cb.approved("suspension", m, [builders.terminal(merchant_obj=m).tid])
        return m, case

    def test_technician_warehouse_and_custodian_cannot_download(self):
        _m, case = self._approved_with_materials()
        material = case.materials.first()
        for role in ("technician", "warehouse", "custodian"):
            actor = builders.actor(role)
            assert services.get_case(actor, case.pk) == case  # they still see the case itself
            with pytest.raises(PermissionDenied):
                services.read_material(actor, material.pk)
            with pytest.raises(PermissionDenied):
                services.case_archive(actor, case.pk)
            with pytest.raises(PermissionDenied):
                services.letter_pdf(actor, case.pk)
        for role in ("agent", "reviewer", "risk", "finance"):
            assert services.read_material(builders.actor(role), material.pk)[1]
        assert services.letter_pdf(builders.actor("reviewer"), case.pk)[1].startswith(b"%PDF")

    def test_the_merchants_archive_leaves_internal_comments_out(self):
        import io
        import json
        import zipfile

        m, case = self._approved_with_materials()
        with transaction.atomic():
            services.add_comment(
                builders.actor("reviewer"), case.pk, "INTERNAL: check the licence", visible_to_merchant=False
            )
            services.add_comment(builders.actor("reviewer"), case.pk, "Your suspension is approved.")
        _name, data = services.case_archive(cb.portal_actor(m), case.pk)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            text = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".json"))
            comments = json.loads(zf.read("comments.json"))
        assert "INTERNAL" not in text
        assert [c["body"] for c in comments][-1] == "Your suspension is approved."
        assert all(c["visible_to_merchant"] for c in comments)
        _name, staff_copy = services.case_archive(builders.actor("reviewer"), case.pk)
        with zipfile.ZipFile(io.BytesIO(staff_copy)) as zf:
            assert "INTERNAL" in zf.read("comments.json").decode()
