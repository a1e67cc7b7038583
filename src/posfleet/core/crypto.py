"""Field encryption at rest (settlement cards, ID numbers) with AES-GCM under a key derived from the KEK.

The data-encryption key is derived with HKDF so the KEK itself (which also wraps terminal keys) is
never used directly for two purposes.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@functools.cache
def _field_key(kek_b64: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"posfleet field encryption").derive(
        base64.b64decode(kek_b64)
    )


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    nonce = os.urandom(12)
    sealed = AESGCM(_field_key(settings.POSFLEET_KEK)).encrypt(nonce, plain.encode(), b"posfleet")
    return base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    raw = base64.b64decode(token)
    return AESGCM(_field_key(settings.POSFLEET_KEK)).decrypt(raw[:12], raw[12:], b"posfleet").decode()


def mask_card(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 8:
        return "****"
    return f"{digits[:4]} **** **** {digits[-4:]}"
