"""The email in real headless Chromium: 600 px, 375 px and dark mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import overflow
from synthetic import synthetic_issue

from newsletter.config import Workspace
from newsletter.models import Issue
from newsletter.render.colours import contrast
from newsletter.render.email import render_email

# The text colour of each element and the first opaque background behind it, as hex.
COLOURS = """
(selector) => [...document.querySelectorAll(selector)].map((el) => {
  const style = (node) => getComputedStyle(node);
  const hex = (c) => '#' + c.match(/\\d+/g).slice(0, 3)
    .map((n) => (+n).toString(16).padStart(2, '0')).join('');
  const clear = /rgba\\(0, 0, 0, 0\\)|transparent/;
  let bg = el;
  while (bg && clear.test(style(bg).backgroundColor)) bg = bg.parentElement;
  return [hex(style(el).color), hex(style(bg || document.body).backgroundColor)];
})
"""
TEXT = "h1, h2.hl a, .tx p, .note p, .muted div, .tx a"


def open_email(browser, path: Path, width: int, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.goto(path.as_uri())
    return page


def write(tmp_path: Path, workspace: Workspace, issue: Issue) -> Path:
    path = tmp_path / "email.html"
    path.write_text(render_email(workspace, issue).html, encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [600, 375])
def test_seed_email_fits_and_shows_every_headline_and_note(
    browser, tmp_path: Path, workspace: Workspace, seed_issue: Issue, width: int
) -> None:
    page = open_email(browser, write(tmp_path, workspace, seed_issue), width)
    assert overflow(page) == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    headlines = page.locator("h2.hl")
    notes = page.locator("table.note")
    assert headlines.count() == notes.count() == len(seed_issue.stories)
    for n, story in enumerate(seed_issue.stories):
        assert headlines.nth(n).is_visible() and headlines.nth(n).inner_text() == story.title
        box = notes.nth(n).bounding_box()
        assert notes.nth(n).is_visible() and box and box["x"] >= 0
        assert box["x"] + box["width"] <= width
    page.close()


def test_ten_story_email_fits_a_phone(browser, tmp_path: Path, workspace: Workspace) -> None:
    page = open_email(browser, write(tmp_path, workspace, synthetic_issue(10)), 375)
    assert overflow(page) == 0
    assert page.locator("h2.hl").count() == 10
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_keeps_its_contrast_in_light_and_dark_mode(
    browser, tmp_path: Path, workspace: Workspace, seed_issue: Issue, scheme: str
) -> None:
    page = open_email(browser, write(tmp_path, workspace, seed_issue), 375, scheme)
    pairs = page.evaluate(COLOURS, TEXT)
    assert len(pairs) > 30
    low = [(fg, bg) for fg, bg in pairs if contrast(fg, bg) < 4.5]
    assert low == []
    body = page.evaluate(COLOURS, "h1")[0][1]
    # dark mode really switched: the card behind the title is dark, not white
    assert (contrast(body, "#000000") < 2) == (scheme == "dark")
    page.close()
