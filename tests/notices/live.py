"""Set-up of the live delivery test, run as `python -m tests.notices.live seed` against the file
database the test and its `posfleet worker` processes share. Prints one JSON line.

`SlowFileBackend` is the SMS file backend that, while the file VAR_DIR/slow-sms exists, waits after
writing a message before it answers: the worker is killed in that gap, after the send and before
the delivery records it."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


class SlowFileBackend:
    def __init__(self) -> None:
        from posfleet.notices.sms import FileBackend

        self.inner = FileBackend()

    def send(self, delivery: Any, code: str) -> Any:
        from django.conf import settings

        outcome = self.inner.send(delivery, code)
        while (Path(settings.VAR_DIR) / "slow-sms").exists():
            time.sleep(0.1)
        return outcome

    def sent_before(self, delivery: Any) -> str | None:
        return self.inner.sent_before(delivery)


def seed() -> dict[str, Any]:
    """Two merchants' terminals under one risk freeze: two notices, each with SMS and portal deliveries."""
    from django.db import transaction

    from posfleet.lifecycle import holds
    from tests import builders

    ts = [builders.terminal(), builders.terminal()]
    with transaction.atomic():
        hold = holds.place_bulk(
            builders.actor("admin"),
            kind="risk_freeze",
            reason="internal",
            terminals=ts,
            reason_category="account_anomaly",
        )
    return {"hold_id": hold.pk, "notice_ids": [n.pk for n in hold.notices]}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posfleet.settings")
    import django

    django.setup()
    if argv[0] != "seed":
        raise SystemExit(f"unknown command {argv[0]}")
    print(json.dumps(seed()))


if __name__ == "__main__":
    main(sys.argv[1:])
