"""The ready-to-send MIME message: text then HTML, UTF-8, quoted-printable."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from newsletter.config import Settings
from newsletter.errors import RenderError
from newsletter.slugs import strip_controls

__all__ = ["build_message", "header_text"]

# An RFC 2047 encoded-word in an untrusted title could smuggle CR/LF into a
# header once decoded; breaking the "=?" opener keeps it plain text.
_ENCODED_WORD = re.compile(r"=\?")


def header_text(value: str) -> str:
    """An untrusted string made safe for a header value."""
    return _ENCODED_WORD.sub("=\u200b?", strip_controls(value))


def build_message(
    *,
    settings: Settings,
    subject: str,
    text: str,
    html: str,
    message_key: str,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """multipart/alternative with the text part first; Message-ID derives from `message_key`."""
    name, address = parseaddr(settings.sender)
    if "@" not in address:
        raise RenderError(
            "needs a sender address such as 'Name <news@example.org>'", field="newsletter.from"
        )
    message = EmailMessage(policy=SMTP)
    message["Subject"] = header_text(subject)
    message["From"] = Address(display_name=header_text(name), addr_spec=address)
    if settings.reply_to:
        message["Reply-To"] = header_text(settings.reply_to)
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    digest = hashlib.sha256(message_key.encode("utf-8")).hexdigest()[:24]
    message["Message-ID"] = f"<{digest}@{address.rsplit('@', 1)[1]}>"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message
