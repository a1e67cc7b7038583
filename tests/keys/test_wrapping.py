import base64

import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap

from posfleet.keys import wrapping


def test_kcv_of_known_key_matches_reference_vector():
    # AES-128 all-zero key: AES(0^128, 0^128) = 66e94bd4ef8a2c3b884cfa59ca342b2e (FIPS-197 / NIST)
    assert wrapping.kcv(bytes(16)) == "66E94B"


def test_wrap_unwrap_round_trip_and_wrapped_differs_from_clear():
    clear = wrapping.new_key()
    wrapped = wrapping.wrap(clear)
    assert len(wrapped) == len(clear) + 8  # RFC 3394 adds one 64-bit block
    assert clear not in wrapped
    assert wrapping.unwrap(wrapped) == clear


def test_generate_returns_wrapped_key_with_its_kcv():
    wrapped, check = wrapping.generate()
    assert wrapping.kcv(wrapping.unwrap(wrapped)) == check
    assert len(check) == 6


def test_another_kek_cannot_unwrap(settings):
    wrapped = wrapping.wrap(wrapping.new_key())
    settings.POSFLEET_KEK = base64.b64encode(b"another-kek-32-bytes-long-000000").decode()
    with pytest.raises(InvalidUnwrap):
        wrapping.unwrap(wrapped)


def test_rfc3394_vector_with_library():
    # RFC 3394 §4.1: 128-bit KEK wrapping 128 bits of key data (checks the primitive we rely on)
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    kek = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
    data = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    assert aes_key_wrap(kek, data).hex().upper() == "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"
