"""One message per recipient without rendering, building or encoding it per recipient.

The issue is rendered, and its message built and quoted-printable encoded, once with a
placeholder token and a placeholder recipient, then cut into pieces at the slots a copy
fills: its `To:` line, its Message-ID and every occurrence of its token. A token is
letters and digits, which quoted-printable copies as they are, so the encoding of a
copy differs from the placeholder's only in those characters: the soft line breaks fall
in the same places, and are kept where they cut the placeholder. Each copy is parsed
back and refused unless its headers are exactly the expected ones, as every `email.eml` is.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from email.headerregistry import Address
from itertools import accumulate, pairwise

from newsletter.config import Workspace
from newsletter.deliver.mime import (
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

_SOFT_BREAK = b"=\r\n"
_TO, _DIGEST = "to", "digest"
# A piece of the encoded message: bytes as they are, the To line, the Message-ID
# digest, or a token (the counts of its characters before each soft line break).
_Piece = bytes | str | tuple[int, ...]


class Personaliser:
    """The issue rendered once, ready to be addressed to each recipient."""

    def __init__(self, workspace: Workspace, issue: Issue) -> None:
        self.workspace = workspace
        self.issue = issue
        # As long as a real token, and of the same characters, so text wrapping, URL
        # quoting and header folding treat both alike.
        self.placeholder = secrets.token_hex(TOKEN_LENGTH // 2)
        rendered = render_email(workspace, issue, token=self.placeholder)
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
        self.pieces = _pieces(
            self.skeleton.fill(rendered.text, rendered.html),
            self.to_line,
            self.digest,
            self.placeholder.encode(),
        )

    def _check_slots(self) -> None:
        """Every slot a copy fills must be in the skeleton once, in one piece."""
        head = self.skeleton.data.split(b"\r\n\r\n", 1)[0]
        url = unsubscribe(self.workspace.settings, self.placeholder).url
        slots = [self.to_line, self.digest] + ([url.encode()] if url else [])
        if any(head.count(slot) != 1 for slot in slots):
            raise RenderError("cannot address copies of this message (a header was folded)")

    def message(self, email: str, name: str, token: str) -> bytes:
        """The issue's email for one recipient, as bytes ready to send."""
        if len(token) != len(self.placeholder) or not (token.isascii() and token.isalnum()):
            raise RenderError(f"a recipient token must be {TOKEN_LENGTH} letters or digits")
        try:  # names and addresses were checked on the way in; this is the last guard
            to = Address(header_text(name), addr_spec=email)
        except ValueError as exc:
            raise RenderError(f"cannot address this recipient: {exc}", field=email) from None
        fills = {
            _TO: to_header(to),
            _DIGEST: message_digest(message_key(self.workspace, self.issue, token)).encode(),
        }
        raw = token.encode()
        message = b"".join(_filled(piece, fills, raw) for piece in self.pieces)
        check_headers(message, self.skeleton.expected)
        return message


def _filled(piece: _Piece, fills: dict[str, bytes], token: bytes) -> bytes:
    if isinstance(piece, bytes):
        return piece
    if isinstance(piece, str):
        return fills[piece]
    bounds = (0, *piece, len(token))
    return _SOFT_BREAK.join(token[a:b] for a, b in pairwise(bounds))


def _pieces(data: bytes, to_line: bytes, digest: bytes, placeholder: bytes) -> list[_Piece]:
    """The encoded message cut at its slots: the To line and the digest in the headers,
    and the placeholder token anywhere, soft line breaks and all."""
    token = b"(?:=\r\n)?".join(re.escape(bytes([c])) for c in placeholder)
    head, body = data.split(b"\r\n\r\n", 1)
    slots = re.compile(b"|".join([re.escape(to_line), re.escape(digest), token]))
    pieces = _cut(head + b"\r\n\r\n", slots, {to_line: _TO, digest: _DIGEST})
    return pieces + _cut(body, re.compile(token), {})


def _cut(data: bytes, slots: re.Pattern[bytes], names: dict[bytes, str]) -> list[_Piece]:
    pieces: list[_Piece] = []
    start = 0
    for match in slots.finditer(data):
        found = match.group()
        breaks = found.split(_SOFT_BREAK)[:-1]
        slot = names.get(found) or tuple(accumulate(map(len, breaks)))
        pieces += [data[start : match.start()], slot]
        start = match.end()
    return [*pieces, data[start:]]
