"""How a notification leaves the platform (IN-1): e-mail over SMTP (or, with no
``MAIL_SERVER``, into the development mailbox ``instance/mailbox/``) and SMS through a
provider: ``file`` appends to ``instance/sms.log`` (development), ``http`` posts to a
gateway. A failure raises :class:`DeliveryError`; the caller keeps the notification
pending and tries again."""
from __future__ import annotations

import json
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from flask import current_app

from core import clock


class DeliveryError(Exception):
    """The server or the gateway refused or could not be reached."""


class Withdrawn(DeliveryError):
    """The guardian no longer chose the channel, or its address is gone: nothing to send."""


# E-mail --------------------------------------------------------------------------------

def send_email(to: str, subject: str, body: str, *, message_id: str):
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id  # the same for a repeated send: mail clients merge them
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        folder = Path(current_app.instance_path) / "mailbox"
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9.-]+", "_", message_id.strip("<>"))
        (folder / f"{name}.eml").write_bytes(bytes(message))
        return
    try:
        if config.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"],
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
        with smtp:
            if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            refused = smtp.send_message(message)
        if refused:
            raise DeliveryError(f"the server refused {', '.join(refused)}")
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {error}") from error


# SMS -------------------------------------------------------------------------------------

class FileSms:
    """Development: one line per message appended to ``instance/sms.log``."""

    def send(self, phone: str, text: str, key: str):
        path = Path(current_app.instance_path) / "sms.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"at": clock.now().isoformat(), "to": phone, "text": text, "id": key},
                                 ensure_ascii=False) + "\n")


class HttpSms:
    """A gateway over HTTP: ``POST SMS_HTTP_URL`` with JSON ``{"to", "text", "sender", "id"}``
    and ``Authorization: Bearer SMS_HTTP_TOKEN``; any answer but 2xx is a failure. The ``id``
    is the same for a repeated send, so a gateway that deduplicates can."""

    def send(self, phone: str, text: str, key: str):
        import httpx

        config = current_app.config
        if not config.get("SMS_HTTP_URL"):
            raise DeliveryError("SMS_HTTP_URL is not set")
        headers = {"Authorization": f"Bearer {config['SMS_HTTP_TOKEN']}"} if config.get("SMS_HTTP_TOKEN") else {}
        try:
            answer = httpx.post(config["SMS_HTTP_URL"], json={"to": phone, "text": text, "sender": config["SMS_SENDER"],
                                                              "id": key},
                                headers=headers, timeout=config["SMS_TIMEOUT"])
        except httpx.HTTPError as error:
            raise DeliveryError(f"SMS gateway: {error}") from error
        if not 200 <= answer.status_code < 300:
            raise DeliveryError(f"SMS gateway answered {answer.status_code}: {answer.text[:200]}")


PROVIDERS = {"file": FileSms, "http": HttpSms}


def register_sms_provider(name: str, provider):
    """Another gateway: an object with ``send(phone, text, key)`` raising DeliveryError."""
    PROVIDERS[name] = provider


def send_sms(phone: str, text: str, *, key: str):
    name = current_app.config.get("SMS_PROVIDER") or "file"
    if name not in PROVIDERS:
        raise DeliveryError(f"unknown SMS provider {name!r}")
    PROVIDERS[name]().send(phone, text, key)
