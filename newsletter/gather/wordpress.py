"""WordPress REST API posts (`/wp-json/wp/v2/posts`), with `_embed`ded authors, images, terms."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from newsletter.gather.entries import (
    Entry,
    Feed,
    FeedError,
    html_to_text,
    inline_text,
    load_json,
    parse_datetime,
    safe_id,
    safe_link,
    sanitize_html,
)
from newsletter.models import is_web_url

__all__ = ["MAX_PAGES", "is_wordpress", "parse_wordpress", "wordpress_posts_url"]

MAX_PAGES = 10  # pages of posts followed per gather; older posts were seen on earlier runs
PER_PAGE = 20
_NEXT_LINK_RE = re.compile(r"<([^>]*)>\s*;[^,]*\brel=\"?next\b", re.I)


def is_wordpress(data: object) -> bool:
    """True for a WordPress post object or a list of them (`content.rendered`)."""
    posts = data if isinstance(data, list) else [data]
    return bool(posts) and all(isinstance(_rendered(p, "content"), str) for p in posts)


def parse_wordpress(body: bytes, *, url: str, headers: Mapping[str, str] | None = None) -> Feed:
    """A REST API response (a list of posts, or one post) -> Feed, with the next page's URL."""
    data = load_json(body)
    if isinstance(data, dict) and "code" in data and "message" in data:
        code, message = (inline_text(str(data[key])) for key in ("code", "message"))
        raise FeedError(f"WordPress API error: {code}: {message}")
    if data != [] and not is_wordpress(data):
        raise FeedError("not a WordPress REST API response (no posts with content.rendered)")
    posts = data if isinstance(data, list) else [data]
    headers = {name.lower(): value for name, value in (headers or {}).items()}
    return Feed([_entry(post, url) for post in posts], next_url=_next_url(url, headers))


def wordpress_posts_url(site_or_api_url: str) -> str:
    """A site, its `/wp-json/` root or a posts URL -> the posts URL, 20 a page, embedded."""
    if not is_web_url(site_or_api_url):
        raise FeedError(f"not an http(s) URL: {site_or_api_url}")
    parts = urlsplit(site_or_api_url.strip())
    path, query = parts.path, parts.query
    if "/wp-json/" in f"{path}/":
        root = path[: f"{path}/".index("/wp-json/")]
        path = path if path.rstrip("/").endswith("/wp/v2/posts") else f"{root}/wp-json/wp/v2/posts"
    else:  # a site (possibly in a sub-folder): its query string is not the API's
        path, query = f"{path.rstrip('/')}/wp-json/wp/v2/posts", ""
    query = _set_param(query, "per_page", str(PER_PAGE), replace=False)
    query = _set_param(query, "_embed", "1", replace=False)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _next_url(url: str, headers: dict[str, str]) -> str | None:
    """The next page, from a `Link: rel="next"` header or `X-WP-TotalPages`; None past MAX_PAGES."""
    page = dict(parse_qsl(urlsplit(url).query)).get("page", "1")
    page_number = int(page) if page.isdigit() else 1
    if page_number >= MAX_PAGES:
        return None
    if link := _NEXT_LINK_RE.search(headers.get("link", "")):
        return safe_link(html.unescape(link.group(1)), url)
    total = headers.get("x-wp-totalpages", "")
    if not (total.isdigit() and page_number < int(total)) or not is_web_url(url):
        return None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=_set_param(parts.query, "page", str(page_number + 1))))


def _set_param(query: str, name: str, value: str, *, replace: bool = True) -> str:
    """`query` with `name=value`; the other pairs are kept verbatim (not re-encoded)."""
    pairs = [pair for pair in query.split("&") if pair]
    present = any(pair.split("=")[0] == name for pair in pairs)
    if present and not replace:
        return query
    pairs = [pair for pair in pairs if pair.split("=")[0] != name]
    return "&".join([*pairs, f"{name}={value}"])


def _entry(post: dict[str, Any], api_url: str) -> Entry:
    link = safe_link(html.unescape(str(post.get("link", ""))), api_url)
    content = _rendered(post, "content") or ""
    if not content.strip() or _rendered(post, "content", "protected") is True:
        content = _rendered(post, "excerpt") or ""
    summary = sanitize_html(content, base=link or api_url)
    embedded = post.get("_embedded") if isinstance(post.get("_embedded"), dict) else {}
    guid = _rendered(post, "guid")
    return Entry(
        title=inline_text(_rendered(post, "title") or ""),
        url=link,
        guid=safe_id(html.unescape(guid) if isinstance(guid, str) else None)
        or safe_id(post.get("id")),
        published=_gmt(post, "date"),
        updated=_gmt(post, "modified"),
        author=inline_text(str(_first(embedded, "author").get("name", ""))) or None,
        summary=summary,
        text=html_to_text(summary),
        image=safe_link(_first(embedded, "wp:featuredmedia").get("source_url"), link or api_url),
        tags=_terms(embedded),
    )


def _rendered(post: object, key: str, field: str = "rendered") -> Any:
    value = post.get(key) if isinstance(post, dict) else None
    return value.get(field) if isinstance(value, dict) else None


def _gmt(post: dict[str, Any], key: str) -> Any:
    """`date_gmt` is UTC without a zone; `date` is site-local time, used only without it."""
    return parse_datetime(post.get(f"{key}_gmt")) or parse_datetime(post.get(key))


def _first(embedded: dict[str, Any], key: str) -> dict[str, Any]:
    items = embedded.get(key)
    first = items[0] if isinstance(items, list) and items else None
    return first if isinstance(first, dict) else {}


def _terms(embedded: dict[str, Any]) -> list[str]:
    """Category and tag names; `wp:term` is a list of lists of term objects."""
    groups = embedded.get("wp:term") if isinstance(embedded.get("wp:term"), list) else []
    terms = [t for group in groups if isinstance(group, list) for t in group]
    names = (inline_text(str(t.get("name", ""))) for t in terms if isinstance(t, dict))
    return list(dict.fromkeys(name for name in names if name))
