"""Outside material into the editor's files: a digest into an issue, an article into a draft."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from newsletter.articles import Article, read_article, site_host
from newsletter.config import Workspace
from newsletter.digest import parse_digest
from newsletter.editorial import (
    ISSUE_FILE,
    list_issues,
    new_issue,
    next_issue_number,
    next_story_path,
    read_issue,
    resolve_issue,
    write_issue,
    write_story,
)
from newsletter.errors import OverwriteError, StoryError
from newsletter.fileio import atomic_write, read_text
from newsletter.gather.entries import html_to_text
from newsletter.inbox import Candidate, Inbox, InboxError
from newsletter.models import Issue, Story, is_web_url
from newsletter.slugs import slugify, strip_controls, unique_slug

__all__ = [
    "ARTICLE_SUFFIX",
    "TODO_NOTE",
    "TODO_SUMMARY",
    "add_article",
    "import_digest",
    "pick_candidates",
]

ARTICLE_SUFFIX = ".article.txt"
TODO_SUMMARY = "TODO: summarise the story in two short paragraphs (the article text is in {name})."
TODO_NOTE = "TODO: write the Editor's Note: why this matters to our readers."


def import_digest(
    workspace: Workspace,
    path: Path,
    *,
    date: dt.date | None = None,
    title: str | None = None,
    force: bool = False,
) -> Issue:
    """A plain-text digest file -> a new issue folder with one file per story."""
    text = read_text(path, StoryError)
    digest = parse_digest(text, note_label=workspace.settings.note_label, source=str(path))
    title = title or (digest.preamble[0] if digest.preamble else digest.stories[0].title)
    date = date or dt.date.today()
    folder = workspace.issues_dir / f"{date.isoformat()}-{slugify(title, fallback='issue')}"
    if (folder / ISSUE_FILE).exists() and not force:
        raise OverwriteError(
            "issue exists; nothing imported (use --force to replace it)", path=folder / ISSUE_FILE
        )
    # A digest is a finished issue: ready to render and publish.
    issue = Issue(
        title=strip_controls(title),
        date=date,
        path=folder,
        status="ready",
        number=_next_number(workspace, folder),
    )
    write_issue(issue, force=force)
    slugs: set[str] = set()
    for number, item in enumerate(digest.stories, start=1):
        slug = unique_slug(slugify(item.title), slugs)
        slugs.add(slug)
        story = Story(
            title=strip_controls(item.title),
            url=item.url,
            source=site_host(item.url),
            summary="\n\n".join(item.paragraphs),
            note=item.note,
        )
        write_story(folder / f"{number:02d}-{slug}.md", story, force=force)
    return read_issue(folder)


def add_article(workspace: Workspace, location: str, *, issue: str | None = None) -> Path:
    """One raw article (URL or file) -> a draft story in an issue; returns the story path.

    The cleaned article text goes to a side file for the editor to read; the
    summary and note are TODO markers that `check` reports until written.
    """
    article = read_article(location)
    return _write_draft(_draft_folder(workspace, issue), article, location)


def pick_candidates(
    workspace: Workspace, inbox: Inbox, ids: list[int], *, issue: str | None = None
) -> list[Path]:
    """Inbox candidates -> draft stories in an issue, as `add` writes them; marks them picked.

    Nothing is written when any id is unknown or already picked.
    """
    candidates = inbox.get(ids)
    for candidate in candidates:
        if candidate.status == "picked":
            raise InboxError(
                f"candidate {candidate.id} was already picked into {candidate.story}; "
                "nothing written",
                path=inbox.path,
            )
    folder = _draft_folder(workspace, issue)
    paths = []
    for candidate in candidates:
        path = _write_draft(
            folder, _candidate_article(candidate), candidate.url or "", candidate.tags
        )
        inbox.set_status([candidate.id], "picked", story=str(path.relative_to(workspace.root)))
        paths.append(path)
    return paths


def _candidate_article(candidate: Candidate) -> Article:
    published = dt.datetime.fromisoformat(candidate.published) if candidate.published else None
    return Article(
        title=candidate.title,
        text=candidate.text or html_to_text(candidate.summary),
        url=candidate.url,
        published=published.date() if published else None,
        source=", ".join(candidate.sources),
    )


def _write_draft(folder: Path, article: Article, location: str, tags: list[str] = ()) -> Path:
    """A new `NN-slug.md` draft plus the article text beside it; never an existing file."""
    path = next_story_path(folder, article.title or "untitled")
    side = path.with_name(path.stem + ARTICLE_SUFFIX)
    story = _draft(article, side.name)
    story.tags = list(tags)
    write_story(path, story)
    atomic_write(side, _article_text(article, location))
    return path


def _draft(article: Article, side_name: str) -> Story:
    return Story(
        title=strip_controls(article.title) or "TODO: headline",
        url=article.url if is_web_url(article.url) else None,
        source=article.source,
        published=article.published,
        summary=TODO_SUMMARY.format(name=side_name),
        note=TODO_NOTE,
    )


def _article_text(article: Article, location: str) -> str:
    header = [article.title, article.url or location]
    if article.published:
        header.append(article.published.isoformat())
    return "\n".join(header) + "\n\n" + article.text.strip() + "\n"


def _draft_folder(workspace: Workspace, ref: str | None) -> Path:
    """The issue named by `ref`, else the newest unsent issue, else a new one."""
    if ref:
        return resolve_issue(workspace, ref)
    unsent = [issue for issue in list_issues(workspace) if issue.status != "sent"]
    folder = unsent[-1].path if unsent else new_issue(workspace).path
    assert folder is not None
    return folder


def _next_number(workspace: Workspace, folder: Path) -> int:
    """The number the issue in `folder` keeps, or the next free one."""
    if (folder / ISSUE_FILE).exists():
        number = read_issue(folder).number
        if number:
            return number
    return next_issue_number(workspace)
