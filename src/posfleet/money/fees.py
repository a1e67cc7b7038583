"""The one fee function: round half up of amount × rate / 10000 in integer fen, then the cap.

Integer arithmetic only ((a·r·2 + 10000) // 20000 is round-half-up of a·r/10000), so no float or
Decimal context can change a result; the benchmark checks it against Decimal. `signed_fee_and_net`:
a sale nets amount − fee; a refund returns no fee (退货不退手续费: fee 0, net −amount); a reversal
(冲正, the sale never happened) returns the fee (fee −f, net −(amount − f)).
"""

from __future__ import annotations


def fee_fen(amount_fen: int, rate_bp: int, cap_fen: int | None = None) -> int:
    """Fee in fen for a positive amount at `rate_bp` basis points, capped at `cap_fen` when given."""
    if amount_fen < 0 or rate_bp < 0:
        raise ValueError("amount and rate must not be negative")
    fee = (amount_fen * rate_bp * 2 + 10000) // 20000
    if cap_fen is not None and fee > cap_fen:
        fee = cap_fen
    return fee


def signed_fee_and_net(tx_type: str, amount_fen: int, rate_bp: int, cap_fen: int | None) -> tuple[int, int]:
    """(fee_fen, net_fen) of a transaction as booked: see the module docstring for refunds/reversals."""
    if tx_type == "sale":
        fee = fee_fen(amount_fen, rate_bp, cap_fen)
        return fee, amount_fen - fee
    if tx_type == "refund":
        return 0, -amount_fen
    if tx_type == "reversal":
        fee = fee_fen(amount_fen, rate_bp, cap_fen)
        return -fee, -(amount_fen - fee)
    raise ValueError(f"unknown transaction type {tx_type}")


def reactivation_fee_fen(contract_fee_fen: int, lifted: int) -> int:
    """The reactivation fee of a case that lifted `lifted` suspensions (a hold, or a bulk hold for one
    terminal): the contract's fee once, and nothing when it lifted nothing (the terminals were not
    suspended any more by the time it was approved)."""
    if contract_fee_fen < 0 or lifted < 0:
        raise ValueError("fee and count must not be negative")
    return contract_fee_fen if lifted else 0
