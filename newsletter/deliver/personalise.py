"""One message per recipient without rendering or building the issue per recipient.

The issue is rendered, and its message skeleton built, once with a placeholder token
and a placeholder recipient. Each copy replaces the token in the HTML and text (before
quoted-printable encoding, which could split it) and in the headers, swaps in its own
`To:` line and Message-ID, and is parsed back and refused unless its headers are
exactly the expected ones, as every `email.eml` is.
"""

from __future__ import annotations

import datetime as dt
import secrets
from email.headerregistry import Address

from newsletter.config import Workspace
from newsletter.deliver.mime import (
    Skeleton,
    check_headers,
    header_text,
    message_digest,
    skeleton,
    to_header,
)
from newsletter.deliver.subscribers import TOKEN_LENGTH
from newsletter.deliver.unsubscribe import unsubscribe
from newsletter.errors import RenderError
from newsletter.models import Issue
from newsletter.render.email import message_key, render_email

__all__ = ["Personaliser"]


class Personaliser:
    """The issue rendered once, ready to be addressed to each recipient."""

    def __init__(self, workspace: Workspace, issue: Issue) -> None:
        self.workspace = workspace
        self.issue = issue
        # As long as a real token, and of the same characters, so text wrapping, URL
        # quoting and header folding treat both alike.
        self.placeholder = secrets.token_hex(TOKEN_LENGTH // 2)
        rendered = render_email(workspace, issue, token=self.placeholder)
        self.html, self.text = rendered.html, rendered.text
        nobody = Address(addr_spec=f"{self.placeholder}@recipient.invalid")
        self.skeleton = skeleton(
            settings=workspace.settings,
            subject=issue.title,
            message_key=message_key(workspace, issue, self.placeholder),
            unsubscribe=unsubscribe(workspace.settings, self.placeholder),
            date=dt.datetime.now(dt.UTC),
            to=nobody,
        )
        self.to_line = to_header(nobody)
        self.digest = message_digest(message_key(workspace, issue, self.placeholder)).encode()
        self._check_slots()

    def _check_slots(self) -> None:
        """Every slot a copy fills must be in the skeleton once, in one piece."""
        head = self.skeleton.data.split(b"\r\n\r\n", 1)[0]
        url = unsubscribe(self.workspace.settings, self.placeholder).url
        slots = [self.to_line, self.digest] + ([url.encode()] if url else [])
        if any(head.count(slot) != 1 for slot in slots):
            raise RenderError("cannot address copies of this message (a header was folded)")

    def message(self, email: str, name: str, token: str) -> bytes:
        """The issue's email for one recipient, as bytes ready to send."""
        if len(token) != len(self.placeholder) or not token.isalnum():
            raise RenderError(f"a recipient token must be {TOKEN_LENGTH} letters or digits")
        try:  # names and addresses were checked on the way in; this is the last guard
            to = Address(header_text(name), addr_spec=email)
        except ValueError as exc:
            raise RenderError(f"cannot address this recipient: {exc}", field=email) from None
        key = message_key(self.workspace, self.issue, token)
        data = (
            self.skeleton.data.replace(self.to_line, to_header(to), 1)
            .replace(self.digest, message_digest(key).encode(), 1)
            .replace(self.placeholder.encode(), token.encode())
        )
        copy = Skeleton(data, self.skeleton.marker, self.skeleton.expected)
        message = copy.fill(
            self.text.replace(self.placeholder, token), self.html.replace(self.placeholder, token)
        )
        check_headers(message, self.skeleton.expected)
        return message
