"""RSS 0.9x/2.0, Atom and RDF (RSS 1.0) feeds, read by feedparser from bytes."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
from typing import Any

import feedparser

from newsletter.gather.entries import (
    Entry,
    Feed,
    FeedError,
    html_to_text,
    inline_text,
    safe_id,
    safe_link,
    sanitize_html,
    text_to_html,
)
from newsletter.models import is_web_url

__all__ = ["parse_feed"]

# A DOCTYPE's internal subset can define nested entities ("billion laughs") that a parser
# expands into gigabytes; feeds never need one, so it is cut out of the prolog unread.
_PROLOG_LIMIT = 64 * 1024
_DOCTYPE_RE = re.compile(rb"<!DOCTYPE[^>\[]{0,1024}\[.*?\]\s*>", re.I | re.S)
_SUBSET_START_RE = re.compile(rb"<!DOCTYPE[^>\[]{0,1024}\[", re.I)
_ROOT_RE = re.compile(rb"<[A-Za-z]")
_XML_ENCODING_RE = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([\w.:-]+)""")
_XML_DECLARATION_RE = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml")
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# UTF-16/32 documents are made UTF-8 first, so that the DOCTYPE check above sees them.
_WIDE_CODECS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)
# Wrong or missing encoding declarations: feedparser still reads the feed, so we only warn.
_ENCODING_ISSUES = (
    feedparser.CharacterEncodingOverride,
    feedparser.CharacterEncodingUnknown,
    feedparser.NonXMLContentType,
)


def parse_feed(body: bytes, *, url: str, content_type: str | None) -> Feed:
    """An RSS, Atom or RDF document -> Feed. `url` is the final URL (or a local path)."""
    warnings: list[str] = []
    body, content_type = _as_utf8(body, content_type or "application/xml", warnings)
    headers = {"content-type": content_type}
    if is_web_url(url):  # feedparser resolves relative links against it
        headers["content-location"] = url
    parsed = feedparser.parse(
        io.BytesIO(_strip_internal_subset(body)),  # a stream: a bytes value may be a file name
        response_headers=headers,
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    entries = [_entry(item, url) for item in parsed.entries]
    if parsed.bozo:
        # feedparser prepends an XML declaration line when the document has none.
        added = 0 if _XML_DECLARATION_RE.match(body) else 1
        problem = _one_line(parsed.bozo_exception, line_offset=added)
        if isinstance(parsed.bozo_exception, _ENCODING_ISSUES):
            warnings.append(problem)  # e.g. "encoding: document declared as utf-8, but ..."
        elif entries:
            warnings.append(f"malformed XML, read leniently: {problem}")
        else:
            raise FeedError(f"malformed XML: {problem}")
    if not entries and not parsed.get("version"):
        raise FeedError("no entries and not a feed")
    return Feed(
        entries,
        title=_title(parsed.feed) or None,
        link=safe_link(parsed.feed.get("link"), url),
        warnings=warnings,
    )


def _strip_internal_subset(body: bytes) -> bytes:
    """`body` without a DOCTYPE internal subset (only the prolog is searched)."""
    prolog = body[:_PROLOG_LIMIT]
    start = _SUBSET_START_RE.search(prolog)
    if start is None or _ROOT_RE.search(prolog, 0, start.start()):
        return body
    match = _DOCTYPE_RE.match(prolog, start.start())
    if match is None:
        limit = f"{_PROLOG_LIMIT // 1024} KB"
        raise FeedError(f"malformed XML: DOCTYPE internal subset not closed in the first {limit}")
    # Newlines kept, so that error messages give the line numbers of the original document.
    return body[: match.start()] + b"\n" * match.group().count(b"\n") + body[match.end() :]


def _as_utf8(body: bytes, content_type: str, warnings: list[str]) -> tuple[bytes, str]:
    """(body, content type) with UTF-16/32 transcoded and UTF-8 labelled as such.

    Servers often label UTF-8 feeds iso-8859-1 or windows-1252, which feedparser believes
    without a word; valid non-ASCII UTF-8 is almost never text in another encoding.
    """
    utf8_type = f"{content_type.split(';')[0].strip()}; charset=utf-8"
    codec = next((codec for bom, codec in _WIDE_CODECS if body.startswith(bom)), None)
    if codec:
        try:
            text = body.decode(codec).encode("utf-8")
        except UnicodeDecodeError:
            raise FeedError(f"malformed XML: not valid {codec.upper()}") from None
        return _XML_ENCODING_RE.sub(rb"\1utf-8", text, count=1), utf8_type
    declared = _declared_encoding(body, content_type)
    if not declared or declared.lower().replace("_", "-") in ("utf-8", "utf8") or body.isascii():
        return body, content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body, content_type
    warnings.append(f"encoding declared as {declared} but the document is UTF-8; read as UTF-8")
    return body, utf8_type


def _declared_encoding(body: bytes, content_type: str) -> str | None:
    """The charset of the Content-Type header, else of the XML declaration."""
    if match := _CHARSET_RE.search(content_type):
        return match.group(1)
    if match := _XML_ENCODING_RE.match(body[:512]):
        return match.group(2).decode("ascii")
    return None


def _one_line(exc: object, *, line_offset: int) -> str:
    """feedparser's exception as one line, with the line number in the original document."""
    message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
    if isinstance(exc, feedparser.CharacterEncodingOverride | feedparser.CharacterEncodingUnknown):
        message = f"encoding: {message}"
    line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
    where = f" (line {max(line - line_offset, 1)})" if isinstance(line, int) else ""
    return " ".join(str(message).split()) + where


def _entry(item: Any, feed_url: str) -> Entry:
    link = safe_link(item.get("link"), feed_url)
    summary = sanitize_html(_body_html(item), base=link or feed_url)
    updated = _utc(dict.get(item, "updated_parsed"))  # dict.get: no fallback to published
    return Entry(
        title=_title(item),
        url=link,
        guid=safe_id(item.get("id")),
        # RDF's dc:date and Atom's required <updated> are often the only date given.
        published=_utc(item.get("published_parsed")) or updated,
        updated=updated,
        author=_author(item),
        summary=summary,
        text=html_to_text(summary),
        image=_image(item, feed_url),
        tags=list(dict.fromkeys(t.term.strip() for t in item.get("tags", []) if t.get("term"))),
    )


def _title(item: Any) -> str:
    """Plain text; an HTML title (Atom type="html") loses its tags."""
    title = item.get("title", "")
    if "html" in item.get("title_detail", {}).get("type", ""):
        return inline_text(title)
    return " ".join(title.split())


def _author(item: Any) -> str | None:
    """The name alone: RSS gives "jane@example.org (Jane Doe)", feedparser splits it."""
    return inline_text(item.get("author_detail", {}).get("name") or item.get("author", "")) or None


def _body_html(item: Any) -> str:
    """The fullest body: HTML content first, then plain-text content, then the summary."""
    contents = sorted(item.get("content", []), key=lambda d: "html" not in d.get("type", "html"))
    for detail in [*contents, item.get("summary_detail") or {}]:
        if detail.get("value", "").strip():
            value = detail["value"]
            return value if "html" in detail.get("type", "html") else text_to_html(value)
    return ""


def _utc(parsed: Any) -> dt.datetime | None:
    """feedparser's UTC struct_time -> aware datetime."""
    try:
        return dt.datetime(*parsed[:6], tzinfo=dt.UTC) if parsed else None
    except (TypeError, ValueError):
        return None


def _image(item: Any, base: str | None) -> str | None:
    candidates = [m.get("url") for m in item.get("media_content", []) if _is_image(m)]
    candidates += [m.get("url") for m in item.get("media_thumbnail", [])]
    candidates += [e.get("href") for e in item.get("enclosures", []) if _is_image(e)]
    return next(filter(None, (safe_link(c, base) for c in candidates)), None)


def _is_image(media: Any) -> bool:
    return media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
