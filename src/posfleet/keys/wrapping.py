"""Terminal master keys: generation, AES key wrap (RFC 3394) under the KEK, and the key check value.

The key-wrapping key is derived from settings.POSFLEET_KEK with HKDF under its own label, so the
KEK is never used directly and never for two purposes (core.crypto derives the field key the same
way with another label). Clear key bytes exist only inside these functions; nothing here logs them.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from django.conf import settings

KEY_BYTES = 16  # AES-128 terminal master key


@functools.cache
def _wrapping_key(kek_b64: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"posfleet terminal key wrapping"
    ).derive(base64.b64decode(kek_b64))


def wrapping_key() -> bytes:
    return _wrapping_key(settings.POSFLEET_KEK)


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def wrap(clear_key: bytes) -> bytes:
    return aes_key_wrap(wrapping_key(), clear_key)


def unwrap(wrapped: bytes) -> bytes:
    """For key injection only (a later issue); raises InvalidUnwrap when the KEK does not match."""
    return aes_key_unwrap(wrapping_key(), wrapped)


def kcv(clear_key: bytes) -> str:
    """Key check value: the first 3 bytes of AES-ECB(key, zero block), upper-case hex."""
    encryptor = Cipher(algorithms.AES(clear_key), modes.ECB()).encryptor()  # noqa: S305 - KCV is defined on ECB
    block = encryptor.update(bytes(16)) + encryptor.finalize()
    return block[:3].hex().upper()


def generate() -> tuple[bytes, str]:
    """A fresh key, returned only wrapped, with its KCV."""
    clear = new_key()
    return wrap(clear), kcv(clear)
