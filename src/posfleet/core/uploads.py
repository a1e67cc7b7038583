"""Uploaded evidence (case materials, dispute documents): read within a size limit and accepted by its
content, never by its name.

Only PDF, JPEG and PNG pass: what staff can open safely in a browser preview. The caller stores the
bytes under a generated name outside the web root, with the SHA-256 computed here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from posfleet.core.errors import ValidationFailed

SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str
    ext: str  # without the dot
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None if the file is not PDF, JPEG or PNG."""
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def read_limited(upload: Any, limit: int) -> bytes:
    """The upload's bytes; refused (nothing kept) as soon as it is known to exceed `limit`."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise too_big(limit)
    if hasattr(upload, "chunks"):
        parts: list[bytes] = []
        total = 0
        for chunk in upload.chunks():
            total += len(chunk)
            if total > limit:
                raise too_big(limit)
            parts.append(chunk)
        return b"".join(parts)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_big(limit)
    return bytes(data)


def too_big(limit: int) -> ValidationFailed:
    return ValidationFailed(
        _("The file is too large."),
        details={"file": [_("At most %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)}]},
    )


def check(upload: Any, limit: int) -> CheckedFile:
    """Read and accept one upload, or raise ValidationFailed naming the field `file`."""
    data = read_limited(upload, limit)
    if not data:
        raise ValidationFailed(_("The file is empty."), details={"file": [_("The file is empty.")]})
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed(
            _("Only PDF, JPEG and PNG files are accepted."),
            details={"file": [_("The content is not a PDF, JPEG or PNG file.")]},
        )
    return CheckedFile(data, kind[0], kind[1], hashlib.sha256(data).hexdigest())
