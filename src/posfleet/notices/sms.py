"""SMS: the text, and the providers behind one small interface (`send`, `sent_before`).

The text follows what acquirers publish against scam texts: no link, no "reply …", no fee promise;
only the reason category, the portal by name, the hotline and the verification code.
`POSFLEET_SMS_BACKEND` names the provider: `FileBackend` (default, one file per message under
VAR_DIR/sms) or `AliyunBackend` (an approved template). Providers' sends are not idempotent, so each
message carries our id (`sms-<delivery id>`, Aliyun's `OutId`): `sent_before` asks by it whether an
attempt that died mid-send got through.
"""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from posfleet.notices.channel import Outcome
from posfleet.notices.choices import ReasonCategory
from posfleet.notices.models import Delivery, Notice

# What an SMS must never contain: a link of any form, an invitation to reply.
FORBIDDEN = re.compile(r"https?://|www\.|\.(com|cn|net|org|top|xyz)\b|回复|\breply\b", re.IGNORECASE)


def message_id(delivery: Delivery) -> str:
    return f"sms-{delivery.pk}"


def text(notice: Notice, code: str) -> str:
    """The SMS for a notice, in its language; checked against FORBIDDEN."""
    with translation.override(notice.language):
        category = str(ReasonCategory(notice.reason_category).label) if notice.reason_category else ""
        terminals = notice.terminals or []
        shown = "、".join(terminals[:3]) + ("…" if len(terminals) > 3 else "")
        parts = [f"【{settings.POSFLEET_INSTITUTION}】{notice.title}"]
        if category:
            parts.append(_("Reason: %(c)s.") % {"c": category})
        if shown:
            parts.append(_("Terminals: %(t)s.") % {"t": shown})
        parts.append(_("Details are in your merchant portal under Notices."))
        parts.append(
            _("Verification code %(code)s. Check it on our verification page or call our hotline %(h)s.")
            % {"code": code, "h": settings.POSFLEET_HOTLINE}
        )
        parts.append(_("We never ask for card numbers, passwords or codes."))
    body = " ".join(parts)
    if FORBIDDEN.search(body):  # a template or a setting let a link in: never send it
        raise ValueError("SMS text contains a link or a reply prompt")
    return body


class Backend(Protocol):
    def send(self, delivery: Delivery, code: str) -> Outcome: ...

    def sent_before(self, delivery: Delivery) -> str | None: ...


class FileBackend:
    """Each message is a file VAR_DIR/sms/<our id>.json, written whole (temp file, then rename):
    a file there is a message sent, and its name makes a second send of the same delivery a no-op."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        return Path(self._directory or Path(settings.VAR_DIR) / "sms")

    def _path(self, delivery: Delivery) -> Path:
        return self.directory / f"{message_id(delivery)}.json"

    def send(self, delivery: Delivery, code: str) -> Outcome:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(delivery)
        if path.exists():
            return Outcome(ok=True, provider_id=path.name)
        record = {
            "id": message_id(delivery),
            "to": delivery.recipient,
            "notice_id": delivery.notice_id,
            "text": text(delivery.notice, code),
            "at": timezone.now().isoformat(),
        }
        part = path.with_suffix(".part")
        with part.open("w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        part.replace(path)
        return Outcome(ok=True, provider_id=path.name)

    def sent_before(self, delivery: Delivery) -> str | None:
        path = self._path(delivery)
        return path.name if path.exists() else None


# Aliyun error codes that mean "not sent, try later" (flow control, the provider's own fault).
ALIYUN_TRANSIENT = frozenset(
    {"isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL", "isp.RAM_PERMISSION_DENY", "Throttling.User"}
)


def template_codes() -> dict[str, str]:
    raw = (settings.ALIYUN_SMS_TEMPLATE_CODES or "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        return {str(k): str(v) for k, v in json.loads(raw).items()}
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


class AliyunBackend:
    """Aliyun SMS (dysmsapi 2017-05-25) with an approved template per notice kind; template
    parameters carry the category, terminals, hotline and code. Key, secret, sign name and template
    codes come from settings (ALIYUN_SMS_*); the secret is never logged."""

    def __init__(self) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        endpoint = settings.ALIYUN_SMS_ENDPOINT
        protocol = "http" if endpoint.startswith("http://") else "https"
        config = Config(
            access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
            access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
            endpoint=endpoint.split("://", 1)[-1],
            protocol=protocol,
            connect_timeout=5000,
            read_timeout=10000,
        )
        self.client = Client(config)

    def params(self, notice: Notice, code: str) -> dict[str, str]:
        with translation.override(notice.language):
            category = str(ReasonCategory(notice.reason_category).label) if notice.reason_category else ""
        return {
            "category": category,
            "terminals": ",".join((notice.terminals or [])[:3]),
            "hotline": settings.POSFLEET_HOTLINE,
            "code": code,
        }

    def send(self, delivery: Delivery, code: str) -> Outcome:
        from alibabacloud_dysmsapi20170525 import models as m

        notice = delivery.notice
        template = template_codes().get(notice.kind)
        if not template:
            return Outcome(ok=False, error=f"no Aliyun template code for notice kind {notice.kind}")
        request = m.SendSmsRequest(
            phone_numbers=delivery.recipient,
            sign_name=settings.ALIYUN_SMS_SIGN_NAME,
            template_code=template,
            template_param=json.dumps(self.params(notice, code), ensure_ascii=False),
            out_id=message_id(delivery),
        )
        try:
            body = self.client.send_sms(request).body
        except Exception as exc:
            return _aliyun_error(exc)
        if body.code == "OK":
            return Outcome(ok=True, provider_id=str(body.biz_id or ""))
        return Outcome(
            ok=False, error=f"{body.code}: {body.message}"[:500], transient=body.code in ALIYUN_TRANSIENT
        )

    def sent_before(self, delivery: Delivery) -> str | None:
        """Ask Aliyun for the messages to this number today and yesterday carrying our id."""
        from alibabacloud_dysmsapi20170525 import models as m

        now = timezone.localtime()
        for day in (now, now - timedelta(days=1)):
            request = m.QuerySendDetailsRequest(
                phone_number=delivery.recipient,
                send_date=day.strftime("%Y%m%d"),
                page_size=50,
                current_page=1,
            )
            body = self.client.query_send_details(request).body
            dtos = getattr(getattr(body, "sms_send_detail_dtos", None), "sms_send_detail_dto", None) or []
            for dto in dtos:
                if dto.out_id == message_id(delivery):
                    return str(dto.out_id)
        return None


_QUERY = re.compile(r"\?[^\s'\"]*")
_NOT_CONNECTED = ("Connection refused", "NewConnectionError", "Failed to establish a new connection",
                  "Name or service not known")  # fmt: skip


def _aliyun_error(exc: Exception) -> Outcome:
    """Only a failure to connect is clearly "not sent"; a timeout after sending may have been sent.
    The request's query (which carries the code) never reaches the stored error."""
    code = str(getattr(exc, "code", "") or "")
    message = _QUERY.sub("?…", str(getattr(exc, "message", "") or exc))[:300]
    cause: Any = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError | socket.gaierror):
            return Outcome(ok=False, error=f"connection failed: {message}", transient=True)
        cause = cause.__cause__ or cause.__context__
    if any(marker in message for marker in _NOT_CONNECTED):
        return Outcome(ok=False, error=f"connection failed: {message}", transient=True)
    if code in ALIYUN_TRANSIENT:
        return Outcome(ok=False, error=f"{code}: {message}", transient=True)
    return Outcome(ok=False, error=f"{code or type(exc).__name__}: {message}")


_backend: Any = None


def backend() -> Backend:
    """The configured provider, built once per configuration (a client keeps its connections)."""
    global _backend
    key = (settings.POSFLEET_SMS_BACKEND, settings.ALIYUN_SMS_ENDPOINT, settings.ALIYUN_SMS_ACCESS_KEY_ID)
    if _backend is None or _backend[0] != key:
        _backend = (key, import_string(key[0])())
    return _backend[1]


def send(delivery: Delivery, code: str) -> Outcome:
    return backend().send(delivery, code)


def sent_before(delivery: Delivery) -> str | None:
    return backend().sent_before(delivery)
