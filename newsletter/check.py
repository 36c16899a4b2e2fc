"""`check`: what must be fixed (errors) or looked at (warnings) before an issue goes out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from newsletter.config import Settings
from newsletter.models import Issue, Story
from newsletter.urls import url_key

__all__ = ["Problem", "check_issue", "has_errors"]

_TODO = re.compile(r"\bTODO\b")


@dataclass(frozen=True)
class Problem:
    """One finding, located by file and field."""

    level: Literal["error", "warning"]
    path: Path | None
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {_shown(self.path)}: {self.field}: {self.message}"


def _shown(path: Path | None) -> str:
    """The path relative to the current folder when it is inside it: shorter to read."""
    if path is None:
        return "-"
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_issue(issue: Issue, settings: Settings) -> list[Problem]:
    """Every problem of the issue and its stories, errors first."""
    problems = list(_issue_problems(issue))
    for story in issue.stories:
        problems.extend(_story_problems(story, settings))
    problems.extend(_duplicate_urls(issue.stories))
    return sorted(problems, key=lambda problem: problem.level != "error")


def has_errors(problems: list[Problem]) -> bool:
    return any(problem.level == "error" for problem in problems)


def _issue_problems(issue: Issue) -> Iterator[Problem]:
    path = issue.path / "issue.md" if issue.path else None
    if not issue.title.strip():
        yield Problem("error", path, "title", "missing title")
    for field in ("title", "preheader", "intro"):
        if _TODO.search(getattr(issue, field)):
            yield Problem("error", path, field, "TODO marker left")
    if not issue.stories:
        yield Problem("error", issue.path, "stories", "the issue has no stories")


def _story_problems(story: Story, settings: Settings) -> Iterator[Problem]:
    path = story.path
    if not story.title.strip():
        yield Problem("error", path, "title", "missing title")
    if not story.summary.strip():
        yield Problem("error", path, "summary", "empty summary")
    if story.note is None or not story.note.strip():
        yield Problem("error", path, "note", "missing Editor's Note (a '## Editor's Note' section)")
    for field in ("title", "summary", "note"):
        if _TODO.search(getattr(story, field) or ""):
            yield Problem("error", path, field, "TODO marker left")
    if not story.url:
        yield Problem("warning", path, "url", "no URL: readers cannot go to the story")
    words = len(story.summary.split())
    if words > settings.summary_max_words:
        yield Problem(
            "warning",
            path,
            "summary",
            f"{words} words, over the {settings.summary_max_words}-word limit",
        )


def _duplicate_urls(stories: list[Story]) -> Iterator[Problem]:
    seen: dict[str, Story] = {}
    for story in stories:
        if not story.url:
            continue
        key = url_key(story.url)
        if key in seen:
            first = seen[key].path.name if seen[key].path else seen[key].title
            yield Problem("error", story.path, "url", f"same URL as {first}")
        seen.setdefault(key, story)
