"""Settlement demo data: settle the demo's past business days and open a few disputes.

Runs after the money demo (which books 30 days of transactions). Deterministic: the first demo
merchants get fixed roles — one is settled D0, one is under delayed settlement (risk), and disputes are
opened on some recent sales: a chargeback still open, one answered, a retrieval request won and a
chargeback lost. Yesterday's T+1 batches stay settled-not-paid (they are paid by tomorrow's run), so the
console shows every state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone

from posfleet.core.actor import Actor
from posfleet.money.models import Transaction
from posfleet.settlement import disputes
from posfleet.settlement.disputes import DisputeInput
from posfleet.settlement.models import Dispute, SettlementProfile
from posfleet.settlement.services import business_date_of, run_settlement

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class _Upload:
    """A minimal uploaded-file stand-in for demo evidence."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name, self.content, self.size = name, content, len(content)

    def chunks(self) -> list[bytes]:
        return [self.content]


def load(merchant_ids: Sequence[int], days: int = 30) -> None:
    actor = Actor.system("cli", name="demo")
    ids = sorted(merchant_ids)
    if not ids:
        return
    first_with_sales = [m for m in ids if Transaction.objects.filter(merchant_id=m, type="sale").exists()][:6]
    if len(first_with_sales) >= 2:
        SettlementProfile.objects.update_or_create(merchant_id=first_with_sales[0], defaults={"mode": "D0"})
        SettlementProfile.objects.update_or_create(
            merchant_id=first_with_sales[1],
            defaults={"delayed": True, "delayed_reason": "异常交易核查中", "delayed_at": timezone.now()},
        )

    today = business_date_of(timezone.now())
    # Disputes on sales of a week ago, opened before that day is settled so their amounts are held.
    week_ago = today - timedelta(days=min(7, days))
    opened = []
    fresh = not Dispute.objects.filter(merchant_id__in=ids).exists()  # loading twice opens nothing new
    for n, mid in enumerate(first_with_sales[2:6] if fresh else []):
        tx = (
            Transaction.objects.filter(merchant_id=mid, type="sale", occurred_at__date__gte=week_ago)
            .order_by("occurred_at", "id")
            .first()
        )
        if tx is None:
            continue
        kind = "retrieval_request" if n == 2 else "chargeback"
        reason = ["持卡人否认交易", "持卡人称未收到商品", "发卡行调单", "重复扣款"][n]
        opened.append(disputes.open_dispute(actor, DisputeInput(tx.pk, kind, reason)))

    for back in range(days, 0, -1):
        run_settlement(actor, today - timedelta(days=back))

    if len(opened) >= 2:
        disputes.answer(actor, opened[1].pk, "已上传签购单及物流签收记录", [_Upload("签购单.pdf", PDF)])
    if len(opened) >= 3:
        disputes.resolve(actor, opened[2].pk, "won", "商户提供了有效凭证")
    if len(opened) >= 4:
        disputes.resolve(actor, opened[3].pk, "lost", "商户未能提供签购单")
