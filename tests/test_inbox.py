"""The SQLite inbox, triage and pick, on real databases in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from conftest import run_cli

from newsletter.config import Workspace
from newsletter.drafting import ARTICLE_SUFFIX, pick_candidates
from newsletter.editorial import read_issue, read_story
from newsletter.errors import NewsletterError
from newsletter.gather.entries import Entry
from newsletter.inbox import Inbox, open_inbox
from newsletter.models import Issue
from newsletter.triage import dismiss, list_inbox

WHEN = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)


def body(n: int) -> str:
    """Eighty words of article text, different for every story."""
    return " ".join(f"w{n}x{k}" for k in range(80))


def entry(n: int, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "title": f"Story number {n} about regional chip fabs",
        "url": f"https://news.example/story/{n}?utm_source=rss&id={n}",
        "guid": f"tag:news.example,2026:{n}",
        "published": WHEN - dt.timedelta(hours=n),
        "summary": f"<p>Summary {n}</p>",
        "text": f"Text of story {n}. {body(n)}",
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


@pytest.fixture
def inbox(workspace: Workspace) -> Inbox:
    with open_inbox(workspace) as opened:
        yield opened


def test_database_is_wal_with_a_busy_timeout(inbox: Inbox) -> None:
    assert inbox.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert inbox.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_same_content_twice_adds_no_rows_and_an_edit_updates_its_row(inbox: Inbox) -> None:
    first = inbox.store("feed", [entry(1), entry(2)], tags=["chips"])
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    again = inbox.store("feed", [entry(1), entry(2)], tags=["chips"])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    edited = inbox.store("feed", [entry(1, title="Story number 1, corrected"), entry(2)])
    assert (edited.new, edited.updated) == (0, 1)
    assert inbox.count() == 2
    titles = {c.title for c in inbox.candidates()}
    assert "Story number 1, corrected" in titles


def test_tracking_parameters_are_stripped_from_stored_links(inbox: Inbox) -> None:
    inbox.store("feed", [entry(1, url="https://news.example/a?utm_source=x&fbclid=y&gclid=z&p=2")])
    (candidate,) = inbox.candidates()
    assert candidate.url == "https://news.example/a?p=2"


def test_missing_guids_fall_back_to_links(inbox: Inbox) -> None:
    entries = [entry(1, guid=None), entry(2)]  # one missing GUID: none of them is trusted
    assert inbox.store("feed", entries).new == 2
    # Next fetch the GUIDs are all there: the links still find the same rows.
    assert inbox.store("feed", [entry(1), entry(2)]).new == 0
    assert inbox.count() == 2


def test_repeated_guids_do_not_collapse_different_stories(inbox: Inbox) -> None:
    entries = [entry(n, guid="https://news.example/") for n in range(3)]
    assert inbox.store("feed", entries).new == 3
    assert inbox.store("feed", entries).new == 0


def test_no_guid_and_no_link_is_keyed_by_content(inbox: Inbox) -> None:
    entries = [entry(n, guid=None, url=None) for n in range(3)]
    assert inbox.store("feed", entries).new == 3
    assert inbox.store("feed", entries).unchanged == 3


def test_same_story_from_two_sources_is_one_candidate_with_both(inbox: Inbox) -> None:
    inbox.store("Wire", [entry(1)])
    # Same title with other punctuation and case, other link: grouped by title.
    inbox.store("Daily", [entry(1, title="STORY NUMBER 1 — about regional chip fabs!", url=None)])
    # Different title, same text: grouped by shingles.
    reworded = entry(1, title="Chip fabs: the regional story", url="https://other.example/x")
    inbox.store("Weekly", [reworded])
    inbox.store("Other", [entry(2, url="https://other.example/2")])
    listed = inbox.candidates()
    assert len(listed) == 2
    grouped = next(c for c in listed if c.source == "Wire")
    assert grouped.sources == ["Wire", "Daily", "Weekly"]
    assert len(inbox.candidates(source="Weekly")) == 1


def test_filters_by_status_tag_query_and_date(inbox: Inbox) -> None:
    inbox.store("feed", [entry(1), entry(30, published=WHEN - dt.timedelta(days=30))], tags=["ai"])
    inbox.store("other", [entry(2, title="Rice prices climb again this month")], tags=["food"])
    assert [c.title for c in inbox.candidates(tag="AI")] == [
        "Story number 1 about regional chip fabs",
        "Story number 30 about regional chip fabs",
    ]
    assert [c.title for c in inbox.candidates(query="rice")] == [
        "Rice prices climb again this month"
    ]
    since = (WHEN - dt.timedelta(days=2)).date()
    assert len(inbox.candidates(since=since)) == 2
    assert len(inbox.candidates(limit=1)) == 1


def test_pick_writes_draft_stories_and_marks_them(workspace: Workspace, inbox: Inbox) -> None:
    inbox.store("Wire", [entry(1)], tags=["chips"])
    inbox.store("Daily", [entry(1, url=None)])  # grouped: picked with it
    (candidate,) = inbox.candidates()
    (path,) = pick_candidates(workspace, inbox, [candidate.id])
    story = read_story(path)
    assert story.title == "Story number 1 about regional chip fabs"
    assert story.url == "https://news.example/story/1?id=1"
    assert story.source == "Wire, Daily"
    assert story.published == dt.date(2026, 6, 1)
    assert story.tags == ["chips"]
    side = path.with_name(path.stem + ARTICLE_SUFFIX).read_text(encoding="utf-8")
    assert body(1) in side  # the extracted text is kept for the editor ...
    assert body(1) not in path.read_text(encoding="utf-8")  # ... never in the story itself
    assert inbox.candidates(status="new") == []
    (picked,) = inbox.candidates(status="picked")
    assert picked.story and picked.story.endswith(path.name)
    with pytest.raises(NewsletterError, match="already picked"):
        pick_candidates(workspace, inbox, [candidate.id])


def test_pick_of_an_unknown_id_writes_nothing(workspace: Workspace, inbox: Inbox) -> None:
    inbox.store("Wire", [entry(1)])
    with pytest.raises(NewsletterError, match="no candidate with id 99"):
        pick_candidates(workspace, inbox, [1, 99])
    assert not any(workspace.issues_dir.iterdir())


def test_dismissed_candidates_stay_gone_after_another_gather(
    workspace: Workspace, inbox: Inbox
) -> None:
    inbox.store("Wire", [entry(1), entry(2)])
    first = inbox.candidates()[0]
    dismiss(workspace, [first.id])
    inbox.store("Wire", [entry(1), entry(2)])
    assert [c.id for c in list_inbox(workspace)] != [first.id]
    assert len(list_inbox(workspace)) == 1
    assert len(list_inbox(workspace, status="dismissed")) == 1


def test_a_story_that_ran_is_marked_with_its_issue(
    workspace: Workspace, inbox: Inbox, seed_issue: Issue
) -> None:
    ran = seed_issue.stories[0]
    inbox.store("VIR", [entry(1, url=ran.url + "?utm_medium=email", title=ran.title)])
    inbox.store("Other", [entry(2)])
    marked = {c.title: c.ran_in for c in list_inbox(workspace)}
    assert marked[ran.title] == seed_issue.slug
    assert marked["Story number 2 about regional chip fabs"] is None


def test_inbox_json_for_scripts(workspace: Workspace, inbox: Inbox) -> None:
    inbox.store("Wire", [entry(1)])
    result = run_cli("--workspace", str(workspace.root), "inbox", "--json")
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)
    assert {"id", "source", "title", "url", "published", "text", "status"} <= item.keys()
    assert item["text"].startswith("Text of story 1.")


def test_cli_pick_and_dismiss(workspace: Workspace, inbox: Inbox) -> None:
    inbox.store("Wire", [entry(1), entry(2)])
    ids = [c.id for c in inbox.candidates()]
    picked = run_cli("-w", str(workspace.root), "pick", str(ids[0]))
    assert picked.returncode == 0, picked.stderr
    path = Path(picked.stdout.strip())
    assert read_issue(path.parent).stories[0].title.startswith("Story number")
    assert run_cli("-w", str(workspace.root), "dismiss", str(ids[1])).returncode == 0
    listed = run_cli("-w", str(workspace.root), "inbox")
    assert "0 candidates" in listed.stdout
    bad = run_cli("-w", str(workspace.root), "dismiss", "12345")
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "12345" in bad.stderr


def test_a_second_writer_waits_instead_of_failing(workspace: Workspace, inbox: Inbox) -> None:
    other = sqlite3.connect(inbox.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE candidates SET status = 'new'")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    assert inbox.store("Wire", [entry(1)]).new == 1  # waited for the lock, then wrote
    release.join()
    other.close()
