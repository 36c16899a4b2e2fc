"""`check --site`: every internal link and asset of the built site resolves.

Links are internal when relative, or absolute under the archive URL (canonical
links, the sitemap, the feeds). A link to `page.html#id` needs that id in the page.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.check import Problem
from newsletter.config import Workspace
from newsletter.errors import RenderError
from newsletter.site.search import BUNDLE

__all__ = ["check_site"]

# Which attribute of which element points at another file.
_LINKING = {
    "a": "href",
    "link": "href",
    "script": "src",
    "img": "src",
    "source": "src",
    "iframe": "src",
    "form": "action",
}
_XML_LINK = re.compile(r"<loc>([^<]+)</loc>|<link[^>]*\bhref=\"([^\"]+)\"")


class _Page(HTMLParser):
    """The links and the ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        attr = _LINKING.get(tag)
        if attr and values.get(attr):
            self.links.append((f"<{tag} {attr}>", values[attr] or ""))


def check_site(workspace: Workspace) -> list[Problem]:
    """Every broken internal link or missing asset in `build/site/`, page by page."""
    out = workspace.build_dir / "site"
    if not (out / "index.html").is_file():
        raise RenderError("no site built yet; run 'newsletter build' first", path=out)
    base = workspace.settings.url
    parsed = {path: _parse(out, path) for path in _html_files(out)}
    problems = []
    for page, info in parsed.items():
        for field, link in info.links:
            problems.extend(_check(out, base, parsed, page, field, link))
    for page, link in _data_links(out):
        problems.extend(_check(out, base, parsed, page, "link", link))
    return problems


def _html_files(out: Path) -> list[str]:
    """The site's pages, without Pagefind's own bundle."""
    pages = (p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    return sorted(p for p in pages if not p.startswith(f"{BUNDLE}/"))


def _parse(out: Path, path: str) -> _Page:
    page = _Page()
    page.feed((out / path).read_text(encoding="utf-8"))
    return page


def _data_links(out: Path) -> Iterator[tuple[str, str]]:
    """The URLs in the sitemap and the feeds."""
    for name in ("sitemap.xml", "feed.xml"):
        if (out / name).is_file():
            for match in _XML_LINK.finditer((out / name).read_text(encoding="utf-8")):
                yield name, match[1] or match[2]
    if (out / "feed.json").is_file():
        feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
        for key in ("home_page_url", "feed_url"):
            yield "feed.json", feed.get(key, "")
        for item in feed.get("items", []):
            yield "feed.json", item.get("url", "")


def _check(
    out: Path, base: str, parsed: dict[str, _Page], page: str, field: str, link: str
) -> Iterator[Problem]:
    target = _target(base, page, link)
    if target is None:
        return
    path, fragment = target
    if path.startswith("../") or path == "..":
        yield Problem("error", out / page, field, f"'{link}' points outside the site's folder")
    elif not (out / path).is_file():
        yield Problem("error", out / page, field, f"'{link}' does not resolve: no {path}")
    elif fragment and path in parsed and fragment not in parsed[path].ids:
        yield Problem("error", out / page, field, f"'{link}': no id '{fragment}' in {path}")


def _target(base: str, page: str, link: str) -> tuple[str, str] | None:
    """The site file and fragment a link points at, or None for a link leaving the site."""
    if link.startswith(base):
        link = "/" + link[len(base) :]
        here = ""
    else:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc:
            return None  # another site, mailto:, data: ...
        if link.startswith("/"):
            return "../" + link.lstrip("/"), ""  # "/x" breaks from a sub-path and from disk
        here = posixpath.dirname(page)
    parts = urlsplit(link)
    if not parts.path:
        return page, unquote(parts.fragment)  # "#id" on the same page
    path = posixpath.normpath(posixpath.join(here, unquote(parts.path).lstrip("/") or "."))
    if parts.path.endswith("/") or path == ".":
        path = posixpath.join(path, "index.html") if path != "." else "index.html"
    return path, unquote(parts.fragment)
