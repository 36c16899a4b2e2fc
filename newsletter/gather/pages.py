"""Plain web pages: one page as one entry, an article's full text, and feed discovery."""

from __future__ import annotations

import re
from collections.abc import Sequence

import lxml.html
from lxml import etree

from newsletter.gather.entries import (
    Entry,
    Feed,
    FeedError,
    parse_datetime,
    safe_link,
    text_to_html,
)

__all__ = ["COMMON_FEED_PATHS", "discover_feeds", "extract_article", "parse_page"]

# Where sites without a <link rel="alternate"> usually publish their feed, most common first.
COMMON_FEED_PATHS: tuple[str, ...] = (
    "feed/",
    "rss.xml",
    "atom.xml",
    "feed.xml",
    "index.xml",
    "feed.json",
    "rss/",
    "feed",
)
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)


def parse_page(body: bytes, *, url: str, prune: Sequence[str] = ()) -> Feed:
    """A web page -> a Feed of one Entry: its article text and declared metadata."""
    import trafilatura  # here, not above: 0.1 s of start-up for every command, even `build`

    page = _decode(body)
    text = _extract(page, url, prune)
    if not text:
        raise FeedError("no article text found on the page")
    # extensive=False: dates only from metadata and URL, never guessed from the page text.
    meta = trafilatura.extract_metadata(page, default_url=url, extensive=False)
    # trafilatura drops a relative canonical link unless an og: tag gives it a host.
    link = _canonical(_tree(body), url) or safe_link(meta.url, url) or safe_link(url)
    entry = Entry(
        title=" ".join((meta.title or "").split()),
        url=link,
        guid=link,
        published=parse_datetime(meta.date),
        author=" ".join((meta.author or "").split()) or None,
        summary=text_to_html(meta.description or ""),
        text=text,
        image=safe_link(meta.image, link or url),
        tags=list(dict.fromkeys([*(meta.categories or []), *(meta.tags or [])])),
    )
    return Feed([entry], title=meta.sitename or None, link=link)


def extract_article(body: bytes, *, url: str, prune: Sequence[str] = ()) -> str:
    """The main text of an article page, paragraphs separated by blank lines ("" if none)."""
    return _extract(_decode(body), url, prune)


def discover_feeds(body: bytes, *, url: str) -> list[str]:
    """Feed URLs a page advertises with <link rel="alternate">, absolute, in page order.

    WordPress's REST API (advertised as alternate JSON) and comment feeds are not the
    site's story feed, so they are skipped.
    """
    root = _tree(body)
    base = _base_url(root, url)
    found: list[str] = []
    for link in _links(root, "alternate"):
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = safe_link(link.get("href"), base)
        if kind not in _FEED_TYPES or href is None:
            continue
        if "/wp-json/" in href or "comments" in f"{link.get('title', '')} {href}".lower():
            continue
        found.append(href)
    return list(dict.fromkeys(found))


def _tree(body: bytes) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):  # an empty or binary body
        return None


def _links(root: lxml.html.HtmlElement | None, rel: str) -> list[lxml.html.HtmlElement]:
    """<link> elements whose rel tokens include `rel` (case-insensitive)."""
    links = root.iter("link") if root is not None else ()
    return [link for link in links if rel in (link.get("rel") or "").lower().split()]


def _base_url(root: lxml.html.HtmlElement | None, url: str) -> str:
    """The page's <base href> (made absolute against the page URL) or the page URL."""
    hrefs = root.xpath("//base/@href") if root is not None else []
    return (safe_link(hrefs[0], url) if hrefs else None) or url


def _canonical(root: lxml.html.HtmlElement | None, url: str) -> str | None:
    """The first usable <link rel="canonical">, absolute."""
    hrefs = (link.get("href") for link in _links(root, "canonical"))
    return next(filter(None, (safe_link(h, _base_url(root, url)) for h in hrefs)), None)


def _decode(body: bytes) -> str:
    """Bytes -> text by the page's <meta charset>, else UTF-8 (bad bytes replaced)."""
    match = _META_CHARSET_RE.search(body[:4096])
    charset = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")


def _extract(page: str, url: str, prune: Sequence[str]) -> str:
    """trafilatura's main text, paragraphs joined by blank lines; `prune` XPaths removed first."""
    import trafilatura

    for xpath in prune:
        try:
            etree.XPath(xpath)
        except etree.XPathError as exc:
            raise FeedError(f"prune: invalid XPath {xpath!r} ({exc})") from None
    try:
        text = trafilatura.extract(
            page,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=False,
            prune_xpath=list(prune) or None,
        )
    except etree.XPathError as exc:  # valid syntax that fails to evaluate, e.g. foo()
        raise FeedError(f"prune: invalid XPath among {list(prune)} ({exc})") from None
    paragraphs = (" ".join(line.split()) for line in (text or "").splitlines())
    return "\n\n".join(p for p in paragraphs if p)
