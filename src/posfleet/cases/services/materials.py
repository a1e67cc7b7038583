"""Materials: uploads checked by content (magic bytes, not the name), size-limited, stored under a
generated name outside the web root with their SHA-256. A merchant sees only their own cases' files.

Only PDF, JPEG and PNG are accepted: what reviewers can open safely in a browser preview.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from posfleet.audit.services import Change, record
from posfleet.cases.choices import FINAL_STATES, CaseState, MaterialType
from posfleet.cases.models import Material, files_dir
from posfleet.cases.services.common import (
    get_case,
    portal_merchant_id,
    require,
    require_documents,
    update_case,
)
from posfleet.core import uploads
from posfleet.core.actor import Actor
from posfleet.core.errors import InvalidTransition, NotFound, ValidationFailed

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "CASE_MATERIAL_MAX_BYTES", DEFAULT_MAX_BYTES))


def add_material(actor: Actor, case_id: int, type: str, uploaded_file: Any) -> Material:
    """Attach one file; a case waiting for materials goes back to review when something arrives."""
    case = get_case(actor, case_id, for_update=True)
    if portal_merchant_id(actor) is None:
        require(actor, "file_case", "review_case", "work_case")
    if type not in MaterialType.values:
        raise ValidationFailed(details={"type": [", ".join(MaterialType.values)]})
    if uploaded_file is None:
        raise ValidationFailed(details={"file": [_("This field is required.")]})
    if case.state in FINAL_STATES:
        raise InvalidTransition(_("This case is closed; no more materials can be added."))
    checked = uploads.check(uploaded_file, max_bytes())
    data, content_type, digest = checked.data, checked.content_type, checked.sha256
    stored = f"{uuid.uuid4().hex}.{checked.ext}"
    target = files_dir("materials") / stored
    target.write_bytes(data)
    try:
        original = str(getattr(uploaded_file, "name", "") or "")[-255:]
        material = Material.objects.create(
            case=case,
            type=type,
            stored_name=stored,
            original_name=original,
            content_type=content_type,
            size=len(data),
            sha256=digest,
            uploaded_by=actor.user,
            uploaded_by_name=actor.name,
        )
        after = {
            "material_id": material.pk,
            "type": type,
            "content_type": content_type,
            "size": len(data),
            "sha256": digest,
            "name": original,
        }
        record(actor, Change("case", str(case.pk), "case.material_add", None, after, type))
    except BaseException:
        target.unlink(missing_ok=True)  # no row, no file
        raise
    if case.state == CaseState.NEEDS_MATERIALS:
        update_case(actor, case, "resubmit", _("materials received"), state=CaseState.SUBMITTED)
    return material


def get_material(actor: Actor, material_id: int) -> Material:
    """A material the actor may see (the caller streams `material.path`)."""
    material = Material.objects.select_related("case").filter(pk=material_id).first()
    if material is None:
        raise NotFound(_("No such material."))
    case = get_case(actor, material.case_id)  # raises NotFound if the case is not the actor's to see
    require_documents(actor, case)
    return material


def read_material(actor: Actor, material_id: int) -> tuple[Material, bytes]:
    material = get_material(actor, material_id)
    try:
        return material, material.path.read_bytes()
    except FileNotFoundError:
        raise NotFound(_("The stored file is missing.")) from None
