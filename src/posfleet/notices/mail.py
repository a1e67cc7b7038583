"""E-mail: the notice as plain text through Django's mail backend (SMTP in production).

SMTP gives no way to ask whether an interrupted send got through, so an attempt that died mid-send
is sent again with the same Message-ID (`<notice-delivery-N@…>`), by which mail systems and clients
recognise a duplicate.
"""

from __future__ import annotations

import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.core.templatetags.times import local_text
from posfleet.notices.channel import Outcome
from posfleet.notices.choices import ReasonCategory
from posfleet.notices.models import Delivery, Notice


def message_id(delivery: Delivery) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1] or "posfleet.invalid"
    return f"<notice-delivery-{delivery.pk}@{domain}>"


def body(notice: Notice, code: str) -> str:
    facts = notice.facts or {}
    with translation.override(notice.language):
        lines = [notice.title, "", notice.body, ""]
        if notice.reason_category:
            lines.append(_("Reason: %(c)s") % {"c": ReasonCategory(notice.reason_category).label})
        if notice.terminals:
            lines.append(_("Terminals: %(t)s") % {"t": ", ".join(notice.terminals)})
        if facts.get("since"):
            lines.append(_("Since: %(d)s") % {"d": str(facts["since"])[:16].replace("T", " ")})
        if facts.get("until"):
            lines.append(_("Until: %(d)s") % {"d": local_text(facts["until"])})
        if facts.get("materials"):
            lines.append(_("What to have ready: %(m)s") % {"m": "; ".join(facts["materials"])})
        if facts.get("appeal_deadline"):
            lines.append(
                _("You may appeal until %(d)s in the merchant portal.") % {"d": facts["appeal_deadline"]}
            )
        lines += [
            "",
            _("Verification code: %(code)s") % {"code": code},
            _(
                "Check it with the last four digits of your phone number on our verification page, or call "
                "our hotline %(h)s. We never ask for card numbers, passwords or codes."
            )
            % {"h": settings.POSFLEET_HOTLINE},
            "",
            str(settings.POSFLEET_INSTITUTION),
        ]
    return "\n".join(str(line) for line in lines)


def send(delivery: Delivery, code: str) -> Outcome:
    notice = delivery.notice
    message = EmailMessage(
        subject=f"【{settings.POSFLEET_INSTITUTION}】{notice.title}",
        body=body(notice, code),
        to=[delivery.recipient],
        headers={
            "Message-ID": message_id(delivery),
            "Date": timezone.now().strftime("%a, %d %b %Y %H:%M:%S %z"),
        },
    )
    try:
        message.send(fail_silently=False)
    except (ConnectionRefusedError, socket.gaierror, smtplib.SMTPConnectError) as exc:
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:500], transient=True)
    except smtplib.SMTPResponseException as exc:
        # 4xx: the server asks us to try later; 5xx: it refuses for good.
        return Outcome(
            ok=False,
            error=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:500],
            transient=400 <= exc.smtp_code < 500,
        )
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(ok=False, error=f"recipient refused: {exc}"[:500])
    return Outcome(ok=True, provider_id=message_id(delivery))


def sent_before(delivery: Delivery) -> str | None:
    return None
