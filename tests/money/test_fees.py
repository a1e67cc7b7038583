from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posfleet.money.fees import fee_fen, signed_fee_and_net


def decimal_fee(amount: int, bp: int, cap: int | None) -> int:
    fee = int((Decimal(amount) * Decimal(bp) / Decimal(10000)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(fee, cap) if cap is not None else fee


class TestSeedFigures:
    def test_credit_10000_yuan(self):
        assert fee_fen(1_000_000, 60) == 6000

    def test_qr_standard(self):
        assert fee_fen(1_000_000, 38) == 3800

    def test_debit_standard_capped(self):
        assert fee_fen(1_000_000, 50, 2500) == 2500

    def test_debit_classic_capped(self):
        assert fee_fen(1_000_000, 55, 2000) == 2000


class TestRounding:
    @pytest.mark.parametrize(
        ("amount", "bp", "expected"),
        [
            (2500, 2, 1),  # 0.5 → 1
            (2499, 2, 0),  # 0.4998 → 0
            (7500, 2, 2),  # 1.5 → 2
            (125, 40, 1),  # 0.5 → 1
            (124, 40, 0),
            (1250, 60, 8),  # 7.5 → 8
            (1249, 60, 7),  # 7.494 → 7
            (13158, 38, 50),  # 50.0004 → 50
            (13157, 38, 50),  # 49.9966 → 50
            (1, 60, 0),
            (84, 60, 1),  # 0.504 → 1
            (83, 60, 0),  # 0.498 → 0
        ],
    )
    def test_half_up(self, amount, bp, expected):
        assert fee_fen(amount, bp) == expected

    @pytest.mark.parametrize("bp", [38, 48, 50, 55, 60])
    def test_every_half_fen_boundary_of_seed_rates(self, bp):
        """For each seed rate, every amount whose exact fee ends in .5 fen rounds up, and one fen less rounds down."""
        for k in range(0, 200):
            # amount*bp = (k + 0.5) * 10000  →  amount = (2k+1)*5000/bp when integral
            num = (2 * k + 1) * 5000
            if num % bp:
                continue
            amount = num // bp
            assert fee_fen(amount, bp) == k + 1
            assert fee_fen(amount - 1, bp) == decimal_fee(amount - 1, bp, None) <= k + 1

    @given(st.integers(0, 10**12), st.integers(0, 10000), st.one_of(st.none(), st.integers(0, 10**6)))
    def test_matches_decimal(self, amount, bp, cap):
        assert fee_fen(amount, bp, cap) == decimal_fee(amount, bp, cap)


class TestCaps:
    def test_cap_applies_only_above(self):
        assert fee_fen(400_000, 50, 2500) == 2000
        assert fee_fen(500_000, 50, 2500) == 2500
        assert fee_fen(500_200, 50, 2500) == 2500

    def test_negative_refused(self):
        with pytest.raises(ValueError, match="negative"):
            fee_fen(-1, 60)


class TestSigned:
    def test_sale(self):
        assert signed_fee_and_net("sale", 1_000_000, 60, None) == (6000, 994_000)

    def test_refund_keeps_fee(self):
        assert signed_fee_and_net("refund", 1_000_000, 60, None) == (0, -1_000_000)

    def test_reversal_returns_fee(self):
        assert signed_fee_and_net("reversal", 1_000_000, 60, None) == (-6000, -994_000)

    def test_unknown(self):
        with pytest.raises(ValueError, match="unknown"):
            signed_fee_and_net("void", 1, 1, None)
