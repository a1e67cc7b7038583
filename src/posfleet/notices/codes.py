"""Verification codes: unguessable, easy to read aloud, stored only as a hash.

12 characters from a 31-symbol alphabet without look-alikes (0/O, 1/I/L) give about 59 bits;
with rate-limited checks nobody can guess one. Shown grouped as XXXX-XXXX-XXXX.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(code: str) -> str:
    """Upper-case, without spaces or dashes; what people type varies, the hash must not."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def hint(code: str) -> str:
    return normalize(code)[-2:]


def well_formed(code: str) -> bool:
    n = normalize(code)
    return len(n) == LENGTH and all(ch in ALPHABET for ch in n)
