"""`import`: the plain-text digest (seed 000) becomes an issue folder."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SEED_DIGEST, run_cli

from newsletter.config import Workspace
from newsletter.digest import parse_digest
from newsletter.drafting import import_digest
from newsletter.editorial import read_issue
from newsletter.errors import OverwriteError, StoryError
from newsletter.models import Issue

SEED_LINES = SEED_DIGEST.read_text(encoding="utf-8").splitlines()


def test_seed_imports_eight_stories_seven_urls_eight_notes(seed_issue: Issue) -> None:
    stories = seed_issue.stories
    assert len(stories) == 8
    assert sum(1 for story in stories if story.url) == 7
    assert stories[2].url is None  # the third story has no URL line
    assert all(story.note for story in stories)
    assert seed_issue.status == "ready"


def test_paragraphs_and_unicode_survive_byte_for_byte(seed_issue: Issue) -> None:
    first = seed_issue.stories[0]
    assert first.title == SEED_LINES[0]
    assert first.summary.split("\n\n") == [SEED_LINES[1], SEED_LINES[2]]
    assert first.note == SEED_LINES[4].removeprefix("Editor’s Note: ")
    texts = "".join(s.title + s.summary + (s.note or "") for s in seed_issue.stories)
    for char in ("’", "‑", "฿", "–", "“", "—"):
        assert char in texts
    everything = "\n".join(SEED_LINES)
    for story in seed_issue.stories:
        for paragraph in story.summary.split("\n\n"):
            assert paragraph in everything


def test_story_files_have_ascii_slugs_and_front_matter(seed_issue: Issue) -> None:
    assert seed_issue.path is not None
    names = sorted(p.name for p in seed_issue.path.glob("0*.md"))
    assert names[2] == "03-vietnam-enacts-world-first-stand-alone-digital-technology.md"
    assert all(name.isascii() for name in names)
    text = (seed_issue.path / names[0]).read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: FPT AI Factories Ranked Among World’s Fastest")
    assert "url: https://vir.com.vn/fpt-ai-factories" in text
    assert "\n## Editor's Note\n" in text


def test_colliding_headlines_get_distinct_slugs(workspace: Workspace, tmp_path) -> None:
    digest = tmp_path / "twice.txt"
    story = "Hà Nội opens an AI centre\nA paragraph.\nEditor’s Note: A note.\n"
    digest.write_text(story * 2, encoding="utf-8")
    issue = import_digest(workspace, digest, date=dt.date(2025, 1, 1))
    assert issue.path is not None
    names = sorted(p.name for p in issue.path.glob("0*.md"))
    assert names == ["01-ha-noi-opens-an-ai-centre.md", "02-ha-noi-opens-an-ai-centre-2.md"]


def test_second_import_does_not_overwrite_edited_story(
    workspace: Workspace, seed_issue: Issue
) -> None:
    assert seed_issue.path is not None
    story_file = sorted(seed_issue.path.glob("01-*.md"))[0]
    story_file.write_text(story_file.read_text(encoding="utf-8") + "\nMy edit.\n", encoding="utf-8")
    with pytest.raises(OverwriteError):
        import_digest(workspace, SEED_DIGEST, date=dt.date(2025, 6, 20))
    assert story_file.read_text(encoding="utf-8").endswith("My edit.\n")
    import_digest(workspace, SEED_DIGEST, date=dt.date(2025, 6, 20), force=True)
    assert "My edit." not in story_file.read_text(encoding="utf-8")
    assert read_issue(seed_issue.path).number == seed_issue.number


def test_story_without_note_is_located(tmp_path) -> None:
    text = "Headline one\nBody.\nEditor’s Note: fine.\nHeadline two\nBody two.\n"
    with pytest.raises(StoryError) as caught:
        parse_digest(text, source="digest.txt")
    assert (
        str(caught.value) == "digest.txt:4: story 'Headline two' has no 'Editor’s Note:' paragraph"
    )


def test_cli_import_refuses_twice_with_one_line(workspace: Workspace) -> None:
    first = run_cli("-w", str(workspace.root), "import", str(SEED_DIGEST), "--date", "2025-06-20")
    assert first.returncode == 0, first.stderr
    assert "8 stories" in first.stdout
    again = run_cli("-w", str(workspace.root), "import", str(SEED_DIGEST), "--date", "2025-06-20")
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    assert "issue.md: issue exists" in again.stderr
