"""One response body -> Feed: pick the reader by the source's kind, or sniff the body."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence

from newsletter.gather.entries import Feed, FeedError, load_json
from newsletter.gather.feeds import parse_feed
from newsletter.gather.jsonfeed import is_jsonfeed, parse_jsonfeed
from newsletter.gather.pages import parse_page
from newsletter.gather.wordpress import is_wordpress, parse_wordpress

__all__ = ["KINDS", "detect_kind", "parse_response"]

KINDS = ("auto", "rss", "atom", "rdf", "jsonfeed", "wordpress", "page")
_FEED_KINDS = frozenset({"rss", "atom", "rdf"})

# Whitespace, processing instructions (the XML declaration) and comments before the root.
_MISC = r"(?:\s|<\?.*?\?>|<!--.*?-->)*"
_HTML_RE = re.compile(_MISC + r"<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_XML_RE = re.compile(
    r"\s*<\?xml\b|" + _MISC + r"<(?:!DOCTYPE\s+)?(?:[\w.-]+:)?(?:rss|feed|RDF)\b", re.I | re.S
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def parse_response(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    kind: str,
    headers: Mapping[str, str] | None = None,
    prune: Sequence[str] = (),
) -> Feed:
    """Read a response with the reader for `kind` ("auto": sniffed from the body).

    `url` is the final URL, or a local file's path (then relative links are dropped).
    `headers` carry WordPress pagination; `prune` are XPaths removed from web pages.
    """
    kind = detect_kind(body) if kind == "auto" else kind
    if kind in _FEED_KINDS:
        return parse_feed(body, url=url, content_type=content_type)
    if kind == "jsonfeed":
        return parse_jsonfeed(body, url=url)
    if kind == "wordpress":
        return parse_wordpress(body, url=url, headers=headers)
    if kind == "page":
        return parse_page(body, url=url, prune=prune)
    raise FeedError(f"unknown source kind {kind!r} (expected one of {', '.join(KINDS)})")


def detect_kind(body: bytes) -> str:
    """ "jsonfeed", "wordpress", "rss" (any XML feed) or "page", judged by the content."""
    head = _head_text(body)
    if head.lstrip().startswith(("{", "[")):
        data = load_json(body)
        if is_jsonfeed(data):
            return "jsonfeed"
        # An empty list or an API error object is WordPress too: its reader says which.
        api_error = isinstance(data, dict) and {"code", "message"} <= data.keys()
        if data == [] or api_error or is_wordpress(data):
            return "wordpress"
        raise FeedError("not a feed: JSON without a JSON Feed version")
    if _HTML_RE.match(head):
        return "page"
    if _XML_RE.match(head):
        return "rss"
    if "<" in head:
        return "page"
    raise FeedError("no entries and not a feed")


def _head_text(body: bytes) -> str:
    """The first 4 KB as text, enough to see the document's first element."""
    codec = next((codec for bom, codec in _BOMS if body.startswith(bom)), "utf-8")
    head = body[:4096].decode(codec, errors="replace").removeprefix("\ufeff")
    return head.replace("\x00", "")  # UTF-16 without a BOM still shows its markup
