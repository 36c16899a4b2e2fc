"""The archive in real headless Chromium: layouts at phone and desktop widths, and search."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser import overflow
from httpserver import running

from newsletter.config import Workspace
from newsletter.site.build import build

WIDTHS = [1280, 375]


@pytest.fixture
def site(archive: Workspace) -> Path:
    return build(archive).index.parent


@pytest.fixture
def served(archive: Workspace, site: Path) -> Iterator[str]:
    """`build/` over real HTTP on 127.0.0.1, so the site lives at a sub-path: /site/."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site.parent))
    with running(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}/site/"


def pages(site: Path) -> dict[str, Path]:
    return {
        "home": site / "index.html",
        "issue": next(site.glob("issues/2025-06-20-*.html")),
        "story": next(site.glob("issues/2025-06-20-*/fpt-ai-factories-*.html")),
        "tag": site / "tags" / "ai" / "index.html",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_from_disk_fit_the_screen(browser, site: Path, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        for name, path in pages(site).items():
            page.goto(path.as_uri())
            assert page.evaluate("document.styleSheets.length") == 1, name  # style.css loaded
            assert overflow(page) == 0, f"{name} overflows at {width}px"
            line = page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('main')).width)"
                " / parseFloat(getComputedStyle(document.body).fontSize)"
            )
            assert line < 45, f"{name}: lines too long to read ({line:.0f} em)"
        # Links work from disk: the story page's issue link opens the issue page.
        page.goto(pages(site)["story"].as_uri())
        page.click("article .meta a")
        assert page.url.endswith(".html") and page.locator("article.issue h1").count() == 1
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_search_finds_a_seed_story_by_a_word_of_its_note(browser, served: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(served + "search.html")
        page.fill(".pagefind-ui__search-input", "InfiniBand")
        results = page.locator(".pagefind-ui__result-link")
        results.first.wait_for(timeout=15_000)
        hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
        assert any("fpt-ai-factories-ranked-among" in h for h in hrefs), hrefs
        assert all(h.startswith("/site/") for h in hrefs)  # the sub-path is kept
        assert page.locator(".pagefind-ui__filter-name").count() >= 1  # tag and source filters
        assert overflow(page) == 0
    finally:
        page.close()


def test_search_query_in_the_address_runs_at_once(browser, served: str) -> None:
    page = browser.new_page()
    try:
        page.goto(served + "search.html?q=UNESCO")
        page.locator(".pagefind-ui__result-link").first.wait_for(timeout=15_000)
        assert "UNESCO" in page.locator(".pagefind-ui__results").inner_text()
    finally:
        page.close()


def test_without_javascript_search_shows_the_tag_and_source_lists(browser, site: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((site / "search.html").as_uri())
        text = page.locator("main").inner_text()
        assert "Search needs JavaScript" in text
        assert page.locator("a[href='tags/ai/index.html']").is_visible()
        assert page.locator("a[href='sources/bangkok-post/index.html']").is_visible()
    finally:
        context.close()
