"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read."""

from __future__ import annotations

from typing import Any

from newsletter.gather.entries import (
    Entry,
    Feed,
    FeedError,
    html_to_text,
    load_json,
    parse_datetime,
    safe_id,
    safe_link,
    sanitize_html,
    text_to_html,
)

__all__ = ["is_jsonfeed", "parse_jsonfeed"]

_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


def is_jsonfeed(data: object) -> bool:
    """True for a JSON object that declares a JSON Feed version."""
    return isinstance(data, dict) and str(data.get("version", "")).startswith(_VERSION_PREFIXES)


def parse_jsonfeed(body: bytes, *, url: str) -> Feed:
    """A JSON Feed document -> Feed. Items without the required `id` are dropped."""
    data = load_json(body)
    if not is_jsonfeed(data):
        raise FeedError("not a feed: JSON without a JSON Feed version")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without an items list")
    feed_author = _author(data)
    entries = [_entry(item, url, feed_author) for item in items if _item_id(item)]
    warnings = []
    if dropped := len(items) - len(entries):
        warnings.append(f"{dropped} item(s) without an id dropped (JSON Feed requires one)")
    return Feed(
        entries,
        title=_text(data.get("title")) or None,
        link=safe_link(data.get("home_page_url"), url),
        warnings=warnings,
        next_url=safe_link(data.get("next_url"), url),
    )


def _item_id(item: object) -> str | None:
    """The item's id as a string; the spec allows numbers, so 42 becomes "42"."""
    return safe_id(item.get("id")) if isinstance(item, dict) else None


def _entry(item: dict[str, Any], feed_url: str, feed_author: str | None) -> Entry:
    link = safe_link(item.get("url"), feed_url) or safe_link(item.get("external_url"), feed_url)
    summary = sanitize_html(_body_html(item), base=link or feed_url)
    return Entry(
        title=_text(item.get("title")),
        url=link,
        guid=_item_id(item),
        published=parse_datetime(item.get("date_published")),
        updated=parse_datetime(item.get("date_modified")),
        author=_author(item) or feed_author,
        summary=summary,
        text=html_to_text(summary),
        image=safe_link(item.get("image"), feed_url)
        or safe_link(item.get("banner_image"), feed_url),
        tags=list(dict.fromkeys(_text(tag) for tag in _list(item.get("tags")) if _text(tag))),
    )


def _body_html(item: dict[str, Any]) -> str:
    """`content_html`, else `content_text` or `summary` as escaped paragraphs."""
    html = item.get("content_html")
    if isinstance(html, str) and html.strip():
        return html
    texts = (item.get(key) for key in ("content_text", "summary"))
    return text_to_html(next((t for t in texts if isinstance(t, str) and t.strip()), ""))


def _author(obj: dict[str, Any]) -> str | None:
    """The first author's name: `authors` (1.1) or `author` (1.0)."""
    authors = _list(obj.get("authors")) or [obj.get("author")]
    names = (_text(a.get("name")) for a in authors if isinstance(a, dict))
    return next(filter(None, names), None)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    """A plain-text field with whitespace collapsed ("" when missing or not a string)."""
    return " ".join(value.split()) if isinstance(value, str) else ""
