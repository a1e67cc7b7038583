"""Retiring a model: dry run, each merchant told once with the date and the offer, the stop on the
date; a dead worker's retirement resumes with each terminal held exactly once, with its report."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.jobs import runner
from posfleet.jobs.sweep import sweep
from posfleet.lifecycle import bulk, retirement
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import HoldTerminal
from posfleet.notices.models import Notice
from posfleet.registry.models import TerminalModel
from tests import builders
from tests.api.builders import Api, totp_code
from tests.jobs import builders as jb

pytestmark = pytest.mark.django_db


def _fleet():
    old = builders.terminal_model("OLD100")
    m1, m2 = builders.merchant(), builders.merchant()
    ts = [builders.terminal(merchant_obj=m, model=old) for m in (m1, m1, m2, m2, m2)]
    keep = builders.terminal(merchant_obj=m1)  # another model: untouched
    return ts, keep, (m1, m2)


def test_dry_run_then_the_job_tells_each_merchant_and_stops_on_the_date(settings, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    ts, keep, (m1, m2) = _fleet()
    api = Api("admin")
    plan = api.get("/terminal-models/OLD100/retirement").json()
    assert plan["terminals"] == 5 and [m["merchant_id"] for m in plan["merchants"]] == [m1.pk, m2.pk]
    stop_on = timezone.now() + timedelta(days=30)
    body = {"stop_on": stop_on.isoformat(), "offer": "a P3000 at no charge", "reason": "policy 2026/12"}
    r = api.post("/terminal-models/OLD100/retirement", body, **{"X-OTP": totp_code(api.enrol_totp())})
    assert r.status_code == 202, r.content
    assert not TerminalModel.objects.get(name="OLD100").permitted
    job = runner.run(r.json()["id"])
    assert job.state == "done" and job.result["placed"] == 5 and job.result["notices"] == 2
    notices = list(Notice.objects.filter(hold_id=job.result["hold_id"]).order_by("merchant_id"))
    assert [n.merchant_id for n in notices] == [m1.pk, m2.pk]
    assert all("P3000" in n.body and n.reason_category == "policy" for n in notices)
    assert all(n.publish_at <= timezone.now() for n in notices)  # told now, not a day before
    assert all(may_transact(t.tid).allowed for t in ts)  # until the date
    report = Path(settings.VAR_DIR) / "files" / "reports" / job.result["report"]
    rows = list(csv.DictReader(report.open()))
    assert sorted(r["tid"] for r in rows) == sorted(t.tid for t in ts)
    assert keep.tid not in {r["tid"] for r in rows}


def test_a_dead_workers_retirement_resumes_with_each_terminal_once(monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    ts, _keep, _merchants = _fleet()
    from django.db import transaction

    with transaction.atomic():
        job = retirement.start(
            builders.actor("admin"),
            "OLD100",
            stop_on=timezone.now() + timedelta(days=7),
            offer="swap",
            reason="p",
        )
    real, calls = bulk._link, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise jb.Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "_link", dying)
    dead = jb.die_in(job.pk)
    assert dead.state == "running" and dead.checkpoint["done"] == 2
    monkeypatch.setattr(bulk, "_link", real)
    jb.expire(dead)
    sweep()
    done = runner.run(job.pk)
    assert done.state == "done" and done.progress == 5
    hold_id = done.result["hold_id"]
    assert HoldTerminal.objects.filter(hold_id=hold_id).count() == 5
    placed = [e.object_id for e in AuditEvent.objects.filter(action="hold.place").order_by("seq")]
    assert sorted(placed) == sorted(t.tid for t in ts) and len(placed) == 5  # each exactly once
    assert Notice.objects.filter(hold_id=hold_id).count() == 2


def test_retiring_needs_the_right_and_a_future_date():
    _fleet()
    assert Api("agent").get("/terminal-models/OLD100/retirement").status_code == 403
    api = Api("admin")
    past = {"stop_on": (timezone.now() - timedelta(days=1)).isoformat(), "offer": "x", "reason": "p"}
    assert (
        api.post(
            "/terminal-models/OLD100/retirement", past, **{"X-OTP": totp_code(api.enrol_totp())}
        ).status_code
        == 422
    )
