"""Real headless Chromium for tests: Debian's `chromium`, driven by Playwright.

Playwright never downloads a browser here; it launches the system Chromium that
`.ci/run` (or `scripts/ensure_chromium.sh`) installs. Use the `browser` fixture
(one per test module) and open a page per test:

    def test_x(browser):
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(path.as_uri())
        assert overflow(page) == 0

`NEWSLETTER_REQUIRE_BROWSER=1` (set by CI) turns a missing Chromium into a
failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["CHROMIUM", "browser", "overflow"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# As root in a sandbox with no network: no sandboxing, no GPU, and none of the
# background connections a closed network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, and every later test that calls asyncio.run()
    (gather, fetch) would fail with "cannot be called from a running event loop".
    """
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (scripts/ensure_chromium.sh installs it)"
        if os.environ.get("NEWSLETTER_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def overflow(page: object) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
