"""One raw article (WordPress REST JSON, HTML page or scraped text) -> clean text + metadata.

The format is detected from the content, never from a file name. Output text is a list
of paragraphs joined by one blank line, whitespace inside a paragraph collapsed to single
spaces, every other character kept exactly as found.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import lxml.html
from lxml import etree

from newsletter.errors import ArticleError

__all__ = ["Article", "html_paragraphs", "parse_article", "read_article", "site_host"]

USER_AGENT = "newsletter/0.1 (+https://github.com/newsletter)"
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(10.0, connect=10.0, read=20.0)


@dataclass(frozen=True)
class Article:
    """One article, cleaned: `text` is paragraphs separated by "\\n\\n"."""

    title: str
    text: str
    url: str | None = None
    published: datetime.date | None = None
    source: str | None = None


# --------------------------------------------------------------------------- reading


def read_article(location: str) -> Article:
    """A local file path or an http(s) URL -> Article. Detects the format by content.

    Any other URL scheme (file://, ftp://, ...) is refused without being read.
    """
    scheme = _url_scheme(location)
    if scheme in ("http", "https"):
        text, final_url = _fetch(location)
        return _parse(text, url=final_url, origin=location)
    if scheme:
        raise ArticleError(
            f"unsupported URL scheme {scheme!r} (only http and https are fetched)", path=location
        )
    return _parse(_read_file(location), url=None, origin=location)


def parse_article(data: str | bytes, *, url: str | None = None) -> Article:
    """Detect the format (WordPress REST JSON, HTML page, plain scraped text) and extract.

    Bytes must be UTF-8. `url` is the article's address when known (an HTML page's
    canonical link and a WordPress post's `link` take precedence over it).
    """
    text = _decode_utf8(data, origin=url) if isinstance(data, bytes) else data
    return _parse(text, url=url, origin=url)


_URL_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _url_scheme(location: str) -> str | None:
    """The lower-cased scheme if `location` looks like a URL ("x://..."), else None."""
    match = _URL_SCHEME_RE.match(location.strip())
    return match.group(1).lower() if match else None


def _read_file(location: str) -> str:
    try:
        data = Path(location).read_bytes()
    except FileNotFoundError:
        raise ArticleError("file not found", path=location) from None
    except OSError as exc:
        raise ArticleError(f"cannot read file: {exc.strerror or exc}", path=location) from None
    return _decode_utf8(data, origin=location)


def _decode_utf8(data: bytes, *, origin: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (bad byte at offset {exc.start})"
        raise ArticleError(message, path=origin) from None


def _fetch(url: str) -> tuple[str, str]:
    """GET `url` -> (decoded body, final URL after redirects), within size and time limits."""
    try:
        with (
            httpx.Client(
                timeout=TIMEOUT,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"User-Agent": USER_AGENT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            _check_response(response, url)
            body = _read_capped(response, url)
            final_url = str(response.url)
            charset = response.charset_encoding
    except httpx.TooManyRedirects:
        raise ArticleError(f"more than {MAX_REDIRECTS} redirects", path=url) from None
    except httpx.TimeoutException:
        raise ArticleError("timed out", path=url) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ArticleError(f"request failed: {exc}", path=url) from None
    return _decode_lenient(body, charset), final_url


# Articles come as HTML, JSON (WordPress REST) or text; images, PDFs etc. are not articles.
_TEXTUAL_TYPE_RE = re.compile(r"^(?:text/|application/(?:[\w.+-]+\+)?(?:json|xml)\b)", re.I)


def _check_response(response: httpx.Response, url: str) -> None:
    if response.status_code >= 400:
        reason = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise ArticleError(f"HTTP {response.status_code}{reason}", path=url)
    content_type = response.headers.get("content-type", "").strip()
    if content_type and not _TEXTUAL_TYPE_RE.match(content_type):
        raise ArticleError(f"not an article (content type {content_type})", path=url)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise ArticleError(f"response larger than {MAX_BYTES // 2**20} MB", path=url)


def _read_capped(response: httpx.Response, url: str) -> bytes:
    """The (decompressed) body, stopping with an error as soon as it passes MAX_BYTES."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BYTES:
            raise ArticleError(f"response larger than {MAX_BYTES // 2**20} MB", path=url)
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_lenient(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # unknown charset name in the Content-Type header
        return body.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- dispatch

# An HTML document starts (after an optional XML declaration and comments) with one of these.
_HTML_START_RE = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head)\b", re.I | re.S
)


def _parse(text: str, *, url: str | None, origin: str | None) -> Article:
    text = text.removeprefix("\ufeff")
    post = _wordpress_post(text, origin)
    if post is not None:
        return _from_wordpress(post, url=url, origin=origin)
    if _HTML_START_RE.match(text):
        return _from_html(text, url=url, origin=origin)
    return _from_plain_text(text, url=url, origin=origin)


def _wordpress_post(text: str, origin: str | None) -> dict[str, Any] | None:
    """The post object if `text` is WordPress REST JSON (a post, or a list of posts)."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None  # e.g. scraped text that happens to start with "[Photo]"
    if isinstance(data, list):
        data = data[0] if data else None
    if isinstance(data, dict) and isinstance(data.get("content"), dict):
        return data
    raise ArticleError("not an article (JSON, but not a WordPress post)", path=origin)


def _finish(
    title: str,
    paragraphs: list[str],
    *,
    url: str | None,
    published: datetime.date | None,
    source: str | None,
    origin: str | None,
) -> Article:
    """Assemble the Article; a paragraph that merely repeats the title is dropped."""
    key = _fold(title)
    body = [p for p in paragraphs if p and _fold(p) != key]
    if not body:
        raise ArticleError("not an article (no body text found)", path=origin)
    return Article(title, "\n\n".join(body), url, published, source)


# --------------------------------------------------------------------------- WordPress

# Elements whose content is never article text: code, styling, media and their captions.
_WP_DROP_TAGS = (
    *("script", "style", "link", "meta", "noscript", "template"),  # code, JSON-LD, styling
    *("figure", "figcaption", "img", "picture", "svg", "video", "audio", "iframe"),  # media
    *("form", "button", "nav"),  # page controls
)
# Table-of-contents widgets (e.g. "wp-block-uagb-table-of-contents", "ez-toc-container")
# only repeat the headings that follow.
_TOC_RE = re.compile(r"(?:^|[\s_-])(?:toc|table-of-contents)(?:$|[\s_-])", re.I)
# Each of these starts a new paragraph in the plain-text rendering.
_BLOCK_TAGS = frozenset(
    (
        *("p", "pre", "blockquote", "address", "hr"),
        *("h1", "h2", "h3", "h4", "h5", "h6"),
        *("ul", "ol", "li", "dl", "dt", "dd"),
        *("table", "tr", "td", "th"),
        *("div", "section", "article", "main", "header", "footer", "aside"),
    )
)


def _from_wordpress(post: dict[str, Any], *, url: str | None, origin: str | None) -> Article:
    link = post.get("link") if isinstance(post.get("link"), str) else None
    url = link or url
    return _finish(
        _html_inline_text(_rendered(post, "title")),
        html_paragraphs(_rendered(post, "content")),
        url=url,
        published=_iso_date(post.get("date")),
        source=_wordpress_site_name(post) or site_host(url),
        origin=origin,
    )


def _rendered(post: dict[str, Any], key: str) -> str:
    value = post.get(key)
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""


def _wordpress_site_name(post: dict[str, Any]) -> str | None:
    """og:site_name as exposed by Yoast SEO (`yoast_head_json`), the one common place."""
    yoast = post.get("yoast_head_json")
    name = yoast.get("og_site_name") if isinstance(yoast, dict) else None
    if not isinstance(name, str):
        return None
    return _collapse(name) or None


def _iso_date(value: object) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _html_fragment(markup: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(markup, create_parent="div")


def _html_inline_text(markup: str) -> str:
    """Tags stripped, entities decoded, whitespace collapsed."""
    return _collapse(_html_fragment(markup).text_content()) if markup.strip() else ""


def html_paragraphs(markup: str) -> list[str]:
    """Readable paragraphs of an HTML fragment: one per block element, junk elements removed."""
    if not markup.strip():
        return []
    root = _html_fragment(markup)
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    junk = [*root.iter(*_WP_DROP_TAGS)]
    junk += [el for el in root.iter() if _is_toc(el)]
    for el in junk:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the element's tail text
    return _block_texts(root)


def _is_toc(el: lxml.html.HtmlElement) -> bool:
    return _TOC_RE.search(f"{el.get('class', '')} {el.get('id', '')}") is not None


def _block_texts(root: lxml.html.HtmlElement) -> list[str]:
    """Walk the tree; text between block boundaries forms one paragraph."""
    paragraphs: list[list[str]] = [[]]
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if el.tag in _BLOCK_TAGS:
            paragraphs.append([])
        if event == "start":
            paragraphs[-1].append(" " if el.tag == "br" else el.text or "")
        elif el is not root:
            paragraphs[-1].append(el.tail or "")
    return [text for text in (_collapse("".join(p)) for p in paragraphs) if text]


# --------------------------------------------------------------------------- HTML page


def _from_html(page: str, *, url: str | None, origin: str | None) -> Article:
    import trafilatura  # here, not above: 0.1 s of start-up for every command, even `build`

    body = trafilatura.extract(
        page,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
    )
    # extensive=False: dates only from metadata and URL, never guessed from e.g. a copyright line.
    meta = trafilatura.extract_metadata(page, default_url=url, extensive=False)
    final_url = meta.url or url
    return _finish(
        _collapse(meta.title or ""),
        [_collapse(line) for line in (body or "").splitlines()],
        url=final_url,
        published=_iso_date(meta.date),
        source=_declared_site_name(meta.sitename, final_url) or site_host(final_url),
        origin=origin,
    )


def _declared_site_name(sitename: str | None, url: str | None) -> str | None:
    """trafilatura's site name, unless it is only its fallback copy of the URL's host:port."""
    netloc = urlsplit(url).netloc.removeprefix("www.") if url else None
    return sitename if sitename and sitename != netloc else None


# --------------------------------------------------------------------------- plain text
#
# Scraped text is one paragraph per line. The heuristics below each remove one kind of
# page furniture seen in real scrapes; they are deliberately narrow, because losing a
# real paragraph is worse than keeping a stray caption.

# Share/print/subscribe buttons scraped as a line of their own ("Share article").
_BOILERPLATE_RE = re.compile(
    r"(?:share|share (?:this )?(?:article|story|post|on \w+)|print(?: article)?|e-?mail|"
    r"tweet|copy link|subscribe(?: now)?|follow us(?: on \w+)?)[\s:.!]*",
    re.I,
)
# A photo file name left behind by the scraper ("Toàn cảnh sự kiện .jpg").
_IMAGE_FILE_RE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|tiff?|svg|heic)$", re.I)
# A caption ending in a photo credit ("... conference. Photo: VA.", "(Photo by Reuters)").
_PHOTO_CREDIT_RE = re.compile(
    r"(?:^|[\s(])(?:photo|image|ảnh)\s*(?::|\bby\b|\bcourtesy of\b)\s*[^.!?:]{1,60}[.)]*$", re.I
)
# Sentence punctuation; a long line with none of it is a run of navigation links.
_SENTENCE_PUNCT_RE = re.compile(r"[.,;:!?]")

_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
# "03 Dec 2025", "Sep 23, 2024", "2024-09-23" (numeric d/m vs m/d is ambiguous: not parsed).
_DATE_RES = (
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})\s+{_MONTH}\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
)
# Clock times and time zones that accompany a dateline ("13:42 GMT+7", "/ 14:22").
_TIME_RE = re.compile(
    r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?|\b(?:GMT|UTC)\s*[+-]?[\d:]*", re.I
)
_WORD_RE = re.compile(r"[^\W\d_]+")
# A closing byline: "Thai Khang", "By Jane Doe" (2-4 capitalised words, nothing else).
_BYLINE_RE = re.compile(r"(?:by\s+)?(?:[^\W\d_][\w'’.-]*\s+){1,3}[^\W\d_][\w'’.-]*", re.I)


def _from_plain_text(text: str, *, url: str | None, origin: str | None) -> Article:
    """Scraped text -> Article.

    The title is the first remaining line if it looks like a headline; when the text has
    none (it opens with a body paragraph), the title is "" rather than an invented one, so
    the caller can flag it ("TODO: headline") instead of publishing a truncated lede.
    The date comes from the first dateline. A closing byline is dropped.
    """
    lines = text.splitlines()
    indents_rare = _indentation_is_rare(lines)
    published: datetime.date | None = None
    kept: list[str] = []
    for raw in lines:
        line = _collapse(raw)
        if not line:
            continue
        if _is_dateline(line):
            published = published or _find_date(line)
        elif not _is_junk_line(raw, line, indents_rare=indents_rare):
            kept.append(line)
    title = kept[0] if len(kept) > 1 and _looks_like_headline(kept[0]) else ""
    body = kept[1:] if title else kept
    return _finish(
        title,
        _drop_byline(body),
        url=url,
        published=published,
        source=site_host(url),
        origin=origin,
    )


def _is_junk_line(raw: str, line: str, *, indents_rare: bool) -> bool:
    return (
        _BOILERPLATE_RE.fullmatch(line) is not None
        or _IMAGE_FILE_RE.search(line) is not None
        or _is_photo_caption(line)
        or _is_nav_run(line)
        or (indents_rare and _is_indented_caption(raw, line))
    )


def _is_photo_caption(line: str) -> bool:
    """A short line ending in a photo credit; body paragraphs do not credit photos."""
    return len(line.split()) <= 60 and _PHOTO_CREDIT_RE.search(line) is not None


def _is_nav_run(line: str) -> bool:
    """Topic/menu links glued into one line: 20+ words without any sentence punctuation."""
    return len(line.split()) >= 20 and not _SENTENCE_PUNCT_RE.search(line)


def _indentation_is_rare(lines: list[str]) -> bool:
    """True when under a quarter of the lines are indented, so indentation marks an outlier."""
    filled = [raw for raw in lines if raw.strip()]
    indented = sum(1 for raw in filled if raw[0].isspace())
    return indented * 4 < len(filled)


def _is_indented_caption(raw: str, line: str) -> bool:
    """Photo captions scraped from <figcaption> keep a leading (often no-break) space."""
    return raw[0].isspace() and len(line.split()) <= 30


def _is_dateline(line: str) -> bool:
    """A short line that is a date plus at most a category ("Politics & Society03 Dec 2025")."""
    if len(line) > 80 or line.endswith(".") or _find_date(line) is None:
        return False
    rest = _TIME_RE.sub(" ", _strip_dates(line))
    return len(_WORD_RE.findall(rest)) <= 3


def _find_date(line: str) -> datetime.date | None:
    for pattern in _DATE_RES:
        for match in pattern.finditer(line):
            parts = match.groupdict()
            month = int(parts["month"]) if parts.get("month") else _MONTHS[parts["mon"][:3].lower()]
            try:
                return datetime.date(int(parts["year"]), month, int(parts["day"]))
            except ValueError:
                continue
    return None


def _strip_dates(line: str) -> str:
    for pattern in _DATE_RES:
        line = pattern.sub(" ", line)
    return line


def _looks_like_headline(line: str) -> bool:
    """At most 25 words and not ending like a sentence or a lead-in (".", ",", ":", ";")."""
    ending = line.rstrip("\"'’”)»")
    return 2 <= len(line.split()) <= 25 and not ending.endswith((".", ",", ":", ";"))


def _drop_byline(paragraphs: list[str]) -> list[str]:
    """Drop a closing author line such as "Thai Khang" (2-4 capitalised words)."""
    if len(paragraphs) > 1 and _is_byline(paragraphs[-1]):
        return paragraphs[:-1]
    return paragraphs


def _is_byline(line: str) -> bool:
    words = [w for w in line.split() if w.lower() != "by"]
    return _BYLINE_RE.fullmatch(line) is not None and all(w[0].isupper() for w in words)


# --------------------------------------------------------------------------- helpers


def _collapse(text: str) -> str:
    """Whitespace runs (including no-break spaces) -> one space; ends trimmed."""
    return " ".join(text.split())


def _fold(text: str) -> str:
    return _collapse(text).casefold()


def site_host(url: str | None) -> str | None:
    """The URL's host name without a leading "www." (None without a URL)."""
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None
