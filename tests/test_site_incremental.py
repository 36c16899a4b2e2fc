"""Incremental builds: an edit rewrites exactly the pages that show what changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from site_fixtures import files, stamps, story_file

from newsletter.config import Workspace
from newsletter.errors import RenderError
from newsletter.preview import Preview
from newsletter.site import search
from newsletter.site.build import build
from newsletter.site.linkcheck import check_site

ISSUE_2 = "issues/2025-06-27-chips-and-payments"
ISSUE_3 = "issues/2025-07-04-data-centres"
FEEDS = {"feed.xml", "feed.json"}


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {path for path in after if before.get(path) != after[path]}


def edit(workspace: Workspace, name: str, old: str, new: str) -> None:
    path = story_file(workspace, name)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_nothing_changed_means_nothing_converted_written_or_indexed(archive: Workspace) -> None:
    out = build(archive).index.parent
    before = stamps(out)
    os.utime(story_file(archive, "grid-strain.md"))  # touched, same content
    report = build(archive)
    assert (report.converted, report.rendered, report.written, report.deleted) == (0, 0, 0, 0)
    assert not report.searched
    assert stamps(out) == before


def test_editing_one_story_rewrites_its_page_issue_feeds_tag_and_source_pages(
    archive: Workspace,
) -> None:
    out = build(archive).index.parent
    before = stamps(out)
    edit(archive, "01-johor-data-centres.md", "about regional technology", "about the Johor boom")
    report = build(archive)
    assert report.converted == 1  # only the edited file went through Markdown again
    assert report.searched  # page text changed: the search index is rebuilt
    assert changed(before, stamps(out)) == {
        f"{ISSUE_3}/johor-data-centres.html",
        f"{ISSUE_3}.html",
        "tags/cloud/index.html",
        "sources/bangkok-post/index.html",
        *FEEDS,
    }
    assert "about the Johor boom" in (out / f"{ISSUE_3}/johor-data-centres.html").read_text("utf-8")


def test_a_new_title_also_rewrites_the_neighbours_that_link_to_it(archive: Workspace) -> None:
    out = build(archive).index.parent
    before = stamps(out)
    edit(archive, "01-penang-chip-plant.md", "title: Penang opens", "title: Penang unveils")
    build(archive)
    last_seed_story = next(out.glob("issues/2025-06-20-*/world-bank-*.html"))
    assert changed(before, stamps(out)) == {
        f"{ISSUE_2}/penang-chip-plant.html",
        f"{ISSUE_2}.html",
        f"{ISSUE_2}/qr-payments.html",  # its "previous story" link
        last_seed_story.relative_to(out).as_posix(),  # its "next story" link
        "tags/ai/index.html",
        "sources/bangkok-post/index.html",
        *FEEDS,
    }
    assert "Next: Penang unveils" in last_seed_story.read_text(encoding="utf-8")


def test_removing_a_story_removes_its_page_and_the_lists_only_it_was_in(
    archive: Workspace,
) -> None:
    out = build(archive).index.parent
    story_file(archive, "02-qr-payments.md").unlink()
    report = build(archive)
    assert report.deleted == 3
    assert not list(out.rglob(".*.tmp"))  # no temporary file left behind
    for gone in (f"{ISSUE_2}/qr-payments.html", "tags/payments", "sources/nation-thailand"):
        assert not (out / gone).exists(), gone
    assert "QR payments cross borders" not in (out / f"{ISSUE_2}.html").read_text("utf-8")
    assert check_site(archive) == []  # nothing links to the removed pages


def test_a_preview_in_between_leaves_the_next_build_knowing_what_to_delete(
    archive: Workspace,
) -> None:
    out = build(archive).index.parent
    story_file(archive, "02-qr-payments.md").unlink()
    Preview(archive.root).refresh()  # builds build/preview/site/ without the story
    assert build(archive).deleted == 3
    assert not (out / f"{ISSUE_2}/qr-payments.html").exists()


def test_clean_rebuilds_every_page_with_the_same_bytes(archive: Workspace) -> None:
    out = build(archive).index.parent
    before, content = stamps(out), files(out)
    report = build(archive, clean=True)
    assert report.converted == 12 + 3  # every story and issue file
    assert report.written == report.pages
    after = stamps(out)
    assert not [path for path in before if before[path] == after.get(path)]
    assert files(out) == content


def test_a_theme_change_rebuilds_every_page(archive: Workspace) -> None:
    out = build(archive).index.parent
    own = archive.root / "templates" / "site" / "404.html"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(
        '{% extends "site/base.html" %}{% block main %}<h1>Lost?</h1>{% endblock %}\n', "utf-8"
    )
    report = build(archive)
    assert report.rendered == report.pages  # every page depends on the theme
    assert report.written == 1 and "Lost?" in (out / "404.html").read_text(encoding="utf-8")


def test_a_failed_search_index_is_built_by_the_next_build(archive: Workspace, monkeypatch) -> None:
    out = build(archive).index.parent
    edit(archive, "02-grid-strain.md", "about regional technology", "about grid strain")
    monkeypatch.setattr(search, "_executable", lambda: Path("/bin/false"))
    with pytest.raises(RenderError, match="Pagefind failed"):
        build(archive)
    monkeypatch.undo()
    report = build(archive)  # no page changes now, yet the index is out of date
    assert report.written == 0 and report.searched
    assert not build(archive).searched
    assert (out / "pagefind" / "pagefind-ui.js").is_file()
