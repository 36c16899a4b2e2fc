"""The ready-to-send MIME message: text then HTML, UTF-8, quoted-printable, list headers."""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Set
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, compat32
from email.utils import format_datetime, parseaddr
from urllib.parse import urlsplit

from newsletter.config import Settings
from newsletter.deliver.unsubscribe import Unsubscribe
from newsletter.errors import RenderError
from newsletter.slugs import slugify, strip_controls

__all__ = [
    "Skeleton",
    "build_message",
    "check_headers",
    "expected_headers",
    "header_text",
    "list_id",
    "message_digest",
    "skeleton",
    "to_header",
]

# An RFC 2047 encoded-word in an untrusted title could smuggle CR/LF into a
# header once decoded (CVE-2024-6923 on Python 3.11.7); breaking the "=?"
# opener keeps it plain text.
_ENCODED_WORD = re.compile(r"=\?")
_BASE_HEADERS = ("Subject", "From", "Date", "Message-ID", "MIME-Version", "Content-Type")
_LIST_HEADERS = ("List-Id", "List-Unsubscribe")
# Headers set from source lines (only List-Unsubscribe) are written as folded here.
_POLICY = SMTP.clone(refold_source="none")


def header_text(value: str) -> str:
    """An untrusted string made safe for a header value."""
    return _ENCODED_WORD.sub("=\u200b?", strip_controls(value))


def list_id(settings: Settings) -> str:
    """`List-Id` (RFC 2919): the title and a dot-atom made from it and the archive's host."""
    ident = settings.list_id or f"{slugify(settings.title)}.{urlsplit(settings.url).hostname}"
    return f"{header_text(settings.title)} <{ident}>"


def expected_headers(settings: Settings, unsubscribe: Unsubscribe, *, to: bool = False) -> set[str]:
    """The header names a built message carries, lower-cased; any other is an injection."""
    names = {*_BASE_HEADERS, *_LIST_HEADERS}
    if to:
        names.add("To")
    if settings.reply_to:
        names.add("Reply-To")
    if unsubscribe.url:
        names.add("List-Unsubscribe-Post")
    return {name.lower() for name in names}


def build_message(
    *,
    settings: Settings,
    subject: str,
    text: str,
    html: str,
    message_key: str,
    unsubscribe: Unsubscribe,
    date: dt.datetime | None = None,
    to: Address | None = None,
) -> bytes:
    """multipart/alternative with the text part first, as bytes ready to send;
    Message-ID derives from `message_key`; `to` is the recipient (none in `email.eml`).

    The message is parsed back before it is returned and refused if it carries a
    header it should not: the last line of defence against header injection.
    """
    return skeleton(
        settings=settings,
        subject=subject,
        message_key=message_key,
        unsubscribe=unsubscribe,
        date=date,
        to=to,
    ).fill(text, html)


@dataclass(frozen=True)
class Skeleton:
    """A built message, its headers checked, whose two body parts are still markers."""

    data: bytes
    marker: str
    expected: frozenset[str]

    def fill(self, text: str, html: str) -> bytes:
        """The message with its text and HTML parts (quoted-printable)."""
        data = self.data.replace(f"text-{self.marker}\r\n".encode(), _quoted_printable(text), 1)
        return data.replace(f"html-{self.marker}\r\n".encode(), _quoted_printable(html), 1)


def skeleton(
    *,
    settings: Settings,
    subject: str,
    message_key: str,
    unsubscribe: Unsubscribe,
    date: dt.datetime | None = None,
    to: Address | None = None,
) -> Skeleton:
    """The message's headers and MIME structure, refused if a header is not expected.

    The email package's quoted-printable encoder is pure Python (about 4 ms for a
    35 KB issue, too slow for one message per recipient): the parts are built
    around short markers, which `fill` replaces with binascii's C encoding.
    """
    message = EmailMessage(policy=_POLICY)
    _address_headers(message, settings, subject)
    if to is not None:
        message["To"] = _recipient(to)
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{message_digest(message_key)}@{message['From'].addresses[0].domain}>"
    message["List-Id"] = list_id(settings)
    _list_unsubscribe(message, unsubscribe)
    if unsubscribe.url:  # RFC 8058 one-click needs an https target
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    marker = secrets.token_hex(16)
    message.set_content(f"text-{marker}", subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        f"html-{marker}", subtype="html", charset="utf-8", cte="quoted-printable"
    )
    data = message.as_bytes()
    expected = frozenset(expected_headers(settings, unsubscribe, to=to is not None))
    check_headers(data, expected)
    return Skeleton(data, marker, expected)


def _list_unsubscribe(message: EmailMessage, unsubscribe: Unsubscribe) -> None:
    """`List-Unsubscribe` folded between its URLs and never encoded: the email package
    would turn a URL longer than a line into RFC 2047 encoded-words, which no client
    reads as a link (RFC 2369 wants the bare URLs in angle brackets)."""
    targets = [strip_controls(t) for t in (unsubscribe.mailto, unsubscribe.url) if t]
    folded = ",\r\n ".join(f"<{target}>" for target in targets)
    message.set_raw(*message.policy.header_source_parse([f"List-Unsubscribe: {folded}\r\n"]))


def message_digest(message_key: str) -> str:
    """The local part of the Message-ID: the same key always gives the same id."""
    return hashlib.sha256(message_key.encode("utf-8")).hexdigest()[:24]


def to_header(to: Address) -> bytes:
    """The folded `To:` header line (CRLF-terminated) for one recipient."""
    # What `EmailMessage.as_bytes` writes for the header, without building a message.
    return SMTP.fold_binary("To", SMTP.header_factory("To", _recipient(to)))


def _recipient(to: Address) -> Address:
    return Address(display_name=header_text(to.display_name), addr_spec=to.addr_spec)


def _quoted_printable(content: str) -> bytes:
    """A body part's content as quoted-printable lines ending in CRLF."""
    encoded = binascii.b2a_qp(content.encode("utf-8"), istext=True).replace(b"\r\n", b"\n")
    if not encoded.endswith(b"\n"):
        encoded += b"\n"
    return encoded.replace(b"\n", b"\r\n")


def _address_headers(message: EmailMessage, settings: Settings, subject: str) -> None:
    name, address = parseaddr(settings.sender)
    if "@" not in address:
        raise RenderError(
            "needs a sender address such as 'Name <news@example.org>'", field="newsletter.from"
        )
    message["Subject"] = header_text(subject)
    message["From"] = Address(display_name=header_text(name), addr_spec=address)
    if settings.reply_to:
        message["Reply-To"] = header_text(settings.reply_to)


def check_headers(data: bytes, expected: Set[str]) -> None:
    """Refuse a message whose top-level headers are not exactly `expected` (lower-case)."""
    head = data.split(b"\r\n\r\n", 1)[0]  # only the top-level headers can be injected into
    # The parser finds the same header lines under any policy; compat32 leaves their
    # values unparsed, which keeps this check cheap enough to run on every copy.
    parsed = BytesHeaderParser(policy=compat32).parsebytes(head)
    names = [name.lower() for name in parsed]
    if sorted(names) != sorted(expected):
        extra = sorted(set(names) - expected) or sorted(n for n in names if names.count(n) > 1)
        missing = sorted(expected - set(names))
        raise RenderError(
            f"the built message's headers are wrong (unexpected: {', '.join(extra) or '-'}; "
            f"missing: {', '.join(missing) or '-'}); refusing it",
            field="email.eml",
        )
