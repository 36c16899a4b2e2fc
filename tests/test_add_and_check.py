"""`add` turns raw articles into TODO drafts; `check` reports what is left to do."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SAMPLES, run_cli

from newsletter.check import check_issue, has_errors
from newsletter.config import Workspace
from newsletter.drafting import ARTICLE_SUFFIX, add_article
from newsletter.editorial import new_issue, read_issue, read_story, write_story
from newsletter.errors import OverwriteError
from newsletter.models import Issue, Story

EXPECTED = {
    "001": ("Vietnams Ambition to Become the Asia-Pacific AI Expertise Hub", None, "2025-12-03"),
    "002": ("Vietnam sees int’l cooperation as key to hi-tech development", None, "2024-09-23"),
    "003": (
        "Vietnam’s Sovereign AI Push: Why Local AI Infrastructure Can't Wait",
        "https://blog.datacore.vn/en/vietnam-sovereign-ai-infrastructure-2026/",
        "2026-06-12",
    ),
    "004": ("TODO: headline", None, None),
}
JUNK = (
    "Share article",
    "WORDS ON THE STREET",
    ".jpg",
    ".jpeg",
    "Photo: VA.",
    "@context",
    "<script",
)


@pytest.fixture
def draft(workspace: Workspace) -> Issue:
    return new_issue(workspace, date=dt.date(2026, 11, 23), title="Drafts")


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_add_makes_a_draft_from_each_raw_article(
    workspace: Workspace, draft: Issue, number: str
) -> None:
    (sample,) = SAMPLES.glob(f"{number}_*.txt")
    path = add_article(workspace, str(sample), issue=draft.slug)
    story = read_story(path)
    title, url, published = EXPECTED[number]
    assert story.title == title
    assert story.url == url
    assert (story.published.isoformat() if story.published else None) == published
    assert "TODO" in story.summary and story.note is not None and "TODO" in story.note
    article = path.with_name(path.stem + ARTICLE_SUFFIX).read_text(encoding="utf-8")
    assert len(article) > 2000
    for junk in JUNK:
        assert junk not in article
    # the article text stays beside the draft, out of the email
    assert article.split("\n\n")[1][:40] not in story.summary


def test_add_keeps_body_paragraphs_with_their_unicode(workspace: Workspace, draft: Issue) -> None:
    (sample,) = SAMPLES.glob("004_*.txt")
    path = add_article(workspace, str(sample), issue=draft.slug)
    article = path.with_name(path.stem + ARTICLE_SUFFIX).read_text(encoding="utf-8")
    assert "The company has co-founded the Âu Lạc AI Alliance" in article
    assert "Train 100 PhD researchers" in article


def test_add_never_overwrites_an_existing_story(workspace: Workspace, draft: Issue) -> None:
    (sample,) = SAMPLES.glob("001_*.txt")
    first = add_article(workspace, str(sample), issue=draft.slug)
    first.write_text(first.read_text(encoding="utf-8").replace("TODO: summarise", "Mine:"))
    second = add_article(workspace, str(sample), issue=draft.slug)
    assert second != first and second.name.startswith("02-")
    assert "Mine:" in first.read_text(encoding="utf-8")
    with pytest.raises(OverwriteError):
        write_story(first, read_story(second))
    assert "Mine:" in first.read_text(encoding="utf-8")


def test_check_flags_todo_and_passes_the_seed(workspace: Workspace, seed_issue: Issue) -> None:
    problems = check_issue(seed_issue, workspace.settings)
    assert not has_errors(problems)
    assert [(p.level, p.field) for p in problems] == [("warning", "url")]  # story 3 has none
    (sample,) = SAMPLES.glob("002_*.txt")
    assert seed_issue.path is not None
    add_article(workspace, str(sample), issue=seed_issue.slug)
    problems = check_issue(read_issue(seed_issue.path), workspace.settings)
    todo = [p for p in problems if p.message == "TODO marker left"]
    assert {p.field for p in todo} == {"summary", "note"}
    result = run_cli("-w", str(workspace.root), "check", seed_issue.slug)
    assert result.returncode == 1
    assert "error:" in result.stdout and "TODO marker left" in result.stdout


def test_check_errors_and_warnings(workspace: Workspace) -> None:
    issue = new_issue(workspace, date=dt.date(2025, 2, 1), title="Lint me")
    assert issue.path is not None
    url = "https://example.org/a"
    stories = [
        Story(title="", summary="Text.", note="Note.", url=url),
        Story(title="Two", summary="", note=None, url="https://www.example.org/a/#top"),
        Story(title="Three", summary="word " * 301, note="N."),
    ]
    for number, story in enumerate(stories, start=1):
        write_story(issue.path / f"0{number}-s.md", story)
    found = {
        (p.level, p.path.name, p.field)
        for p in check_issue(read_issue(issue.path), workspace.settings)
    }
    assert found == {
        ("error", "01-s.md", "title"),
        ("error", "02-s.md", "summary"),
        ("error", "02-s.md", "note"),
        ("error", "02-s.md", "url"),  # the same URL as 01 in another spelling
        ("warning", "03-s.md", "url"),
        ("warning", "03-s.md", "summary"),
    }


def test_add_without_an_issue_starts_a_draft_issue(workspace: Workspace) -> None:
    (sample,) = SAMPLES.glob("003_*.txt")
    path = add_article(workspace, str(sample))
    issue = read_issue(path.parent)
    assert issue.status == "draft" and issue.number == 1
    assert [story.path for story in issue.stories] == [path]
