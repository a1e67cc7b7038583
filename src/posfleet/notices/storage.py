"""Letter files: under VAR_DIR/files/letters (outside the web root), named by a random id, with SHA-256."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone


def letters_dir() -> Path:
    return Path(settings.VAR_DIR) / "files" / "letters"


def letter_path(relative: str) -> Path:
    base = letters_dir().resolve()
    path = (base / relative).resolve()
    if base not in path.parents:  # a stored path can never point outside the letters folder
        raise ValueError("letter path outside the letters folder")
    return path


def store_letter(data: bytes) -> tuple[str, str]:
    """Write `data` atomically; return (relative path, sha256 hex)."""
    relative = f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}.pdf"
    path = letter_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return relative, hashlib.sha256(data).hexdigest()


def read_letter(notice: Any) -> bytes | None:
    try:
        data = letter_path(notice.pdf_path).read_bytes()
    except (OSError, ValueError):
        return None
    if hashlib.sha256(data).hexdigest() != notice.pdf_sha256:
        return None
    return data
