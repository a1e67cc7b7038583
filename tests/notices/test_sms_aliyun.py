"""The Aliyun adapter, through the real SDK, against an HTTP server on loopback that answers as
Aliyun's dysmsapi does: the request carries our template, parameters and OutId; flow control is a
transient error; a lost answer is found again by OutId."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction

from posfleet.lifecycle import holds
from posfleet.notices import sms
from posfleet.notices.models import Delivery
from tests import builders


class FakeAliyun:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.code = "OK"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                params |= {k: v[0] for k, v in parse_qs(body).items()}
                params.setdefault("Action", self.headers.get("x-acs-action", ""))  # the SDK's v3 signature
                params["_auth"] = self.headers.get("Authorization", "")
                fake.requests.append(params)
                if params.get("Action") == "QuerySendDetails":
                    dtos = [{"OutId": r.get("OutId"), "PhoneNum": r.get("PhoneNumbers")} for r in fake.requests
                            if r.get("Action") == "SendSms"]  # fmt: skip
                    out = {
                        "Code": "OK",
                        "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos},
                        "TotalCount": len(dtos),
                    }
                else:
                    out = {"Code": fake.code, "Message": fake.code, "BizId": "900^1", "RequestId": "r1"}
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def aliyun(settings):
    fake = FakeAliyun()
    settings.POSFLEET_SMS_BACKEND = "posfleet.notices.sms.AliyunBackend"
    settings.ALIYUN_SMS_ENDPOINT = fake.endpoint
    settings.ALIYUN_SMS_ACCESS_KEY_ID, settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-id", "test-secret"
    settings.ALIYUN_SMS_SIGN_NAME = "示例支付"
    settings.ALIYUN_SMS_TEMPLATE_CODES = "stop=SMS_100,lift=SMS_101,deactivation=SMS_102"
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _freeze():
    t = builders.terminal()
    with transaction.atomic():
        hold = holds.place_hold(
            builders.actor("admin"), kind="risk_freeze", reason="internal", tid=t.tid,
            reason_category="account_anomaly",
        )  # fmt: skip
    return t, Delivery.objects.select_related("notice", "notice__merchant").get(
        notice=hold.notices[0], channel="sms"
    )


@pytest.mark.django_db
def test_an_sms_goes_out_through_the_sdk_with_our_template_and_id(aliyun):
    t, d = _freeze()
    code = d.notice.clear_code
    outcome = sms.send(d, code)
    assert outcome.ok and outcome.provider_id == "900^1"
    [req] = aliyun.requests
    assert req["Action"] == "SendSms" and req["TemplateCode"] == "SMS_100" and req["OutId"] == f"sms-{d.pk}"
    assert req["PhoneNumbers"] == "13800138000" and req["SignName"] == "示例支付"
    params = json.loads(req["TemplateParam"])
    assert params["code"] == code and params["terminals"] == t.tid and params["category"]
    assert "test-secret" not in json.dumps(aliyun.requests) and "test-id" in req["_auth"]
    assert sms.sent_before(d) == f"sms-{d.pk}"


@pytest.mark.django_db
def test_flow_control_is_transient_and_an_unknown_error_is_not(aliyun):
    _t, d = _freeze()
    aliyun.code = "isv.BUSINESS_LIMIT_CONTROL"
    assert sms.send(d, "X").transient
    aliyun.code = "isv.MOBILE_NUMBER_ILLEGAL"
    outcome = sms.send(d, "X")
    assert not outcome.ok and not outcome.transient and "MOBILE_NUMBER_ILLEGAL" in outcome.error


@pytest.mark.django_db
def test_a_provider_that_cannot_be_reached_is_transient_and_the_code_never_reaches_the_error(settings):
    settings.POSFLEET_SMS_BACKEND = "posfleet.notices.sms.AliyunBackend"
    settings.ALIYUN_SMS_ENDPOINT = "http://127.0.0.1:1"
    settings.ALIYUN_SMS_ACCESS_KEY_ID, settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-id", "test-secret"
    settings.ALIYUN_SMS_TEMPLATE_CODES = "stop=SMS_100"
    _t, d = _freeze()
    outcome = sms.send(d, "SECRET-CODE-1")
    assert outcome.transient and not outcome.ok
    assert "SECRET" not in outcome.error
