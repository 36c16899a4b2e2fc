"""What every source reader returns: a Feed of Entries, sanitised and with safe links only.

Also the small conversions every reader needs: HTML <-> text, JSON and dates.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import nh3

from newsletter.articles import html_paragraphs
from newsletter.errors import NewsletterError
from newsletter.models import is_web_url

__all__ = [
    "Entry",
    "Feed",
    "FeedError",
    "html_to_text",
    "inline_text",
    "load_json",
    "parse_datetime",
    "safe_id",
    "safe_link",
    "sanitize_html",
    "text_to_html",
]


class FeedError(NewsletterError):
    """A source's response cannot be read as a feed or a page (malformed, empty, wrong type)."""


@dataclass
class Entry:
    """One story as a source published it, before it becomes an inbox candidate."""

    title: str
    url: str | None = None  # absolute http(s) only, tracking parameters kept (the inbox strips)
    guid: str | None = None
    published: dt.datetime | None = None  # timezone-aware (UTC when the source gave no zone)
    updated: dt.datetime | None = None
    author: str | None = None
    summary: str = ""  # HTML, already sanitised with nh3
    text: str = ""  # plain text: paragraphs separated by one blank line
    image: str | None = None  # absolute http(s) only
    tags: list[str] = field(default_factory=list)


@dataclass
class Feed:
    """A parsed response: its entries plus what the editor should hear about."""

    entries: list[Entry]
    title: str | None = None
    link: str | None = None
    warnings: list[str] = field(default_factory=list)  # e.g. a wrongly declared encoding
    next_url: str | None = None  # the next page (WordPress REST pagination), http(s) only


# Attributes kept on top of nh3's defaults would only add risk: its defaults already
# drop scripts, event handlers, styles and javascript: URLs.
_URL_SCHEMES = {"http", "https", "mailto"}
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
# C0 controls other than tab/newline/CR: invalid in XML (the archive feed) and never content.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitize_html(html: str, base: str | None = None) -> str:
    """Untrusted HTML -> HTML safe to store and show (nh3 allow-list, web links only).

    Relative links are made absolute against `base`; without a web base they are dropped,
    as is every link that is not http(s) (or a mailto: in an href) after resolution.
    """

    def keep_url(_element: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        if attribute == "href" and value.strip().lower().startswith("mailto:"):
            return value
        return safe_link(value, base)

    return nh3.clean(
        _CONTROL_RE.sub("", html),
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=keep_url,
    )


def html_to_text(html: str) -> str:
    """HTML -> plain text: one paragraph per block element, separated by a blank line.

    Media, captions, navigation and table-of-contents widgets are left out (see articles.py).
    """
    return "\n\n".join(html_paragraphs(_CONTROL_RE.sub("", html)))


def inline_text(html: str) -> str:
    """HTML of a title or name -> text: tags stripped, entities decoded, whitespace collapsed."""
    text = htmllib.unescape(nh3.clean(_CONTROL_RE.sub("", html), tags=set()))
    return " ".join(text.split())


def text_to_html(text: str) -> str:
    """Plain text (paragraphs separated by blank lines) -> escaped <p> HTML."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", _CONTROL_RE.sub("", text)))
    return "".join(f"<p>{htmllib.escape(p, quote=False)}</p>" for p in paragraphs if p)


def load_json(body: bytes) -> Any:
    """Bytes -> JSON value, or FeedError("invalid JSON: ... (line N)")."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise FeedError(f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
    except UnicodeDecodeError as exc:
        raise FeedError(f"invalid JSON: not UTF-8 (bad byte at offset {exc.start})") from None
    except RecursionError:
        raise FeedError("invalid JSON: nested too deeply") from None


def parse_datetime(value: object) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 timestamp -> aware datetime (UTC if it has no zone), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        # Python 3.11 accepts "Z", but not a lower-case "z" (RFC 3339 allows both).
        parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# Schemes no story id has a reason to use; feedparser even resolves a guid against a
# hostile xml:base="file:///etc/".
_UNSAFE_ID_RE = re.compile(r"\s*(?:file|javascript|vbscript|data):", re.I)


def safe_id(value: object) -> str | None:
    """A source's id for an entry as a string (numbers too), or None if missing or unsafe."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text if text and not _UNSAFE_ID_RE.match(text) else None


def safe_link(value: object, base: str | None = None) -> str | None:
    """An absolute http(s) URL made from `value` (relative to `base`), or None.

    Anything else (file:, javascript:, data:, a relative link without a web base) is
    dropped, so nothing a feed says can make the tool read a local file or publish a
    script link.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    link = value.strip()
    if base and is_web_url(base):
        try:
            link = urljoin(base, link)
        except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 host)
            return None
    if not is_web_url(link) or any(c.isspace() or c < " " for c in link):
        return None
    return link
