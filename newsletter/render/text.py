"""The plain-text part: the issue as a digest that `import` reads back."""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.digest import DigestStory, format_digest
from newsletter.models import Issue
from newsletter.render.markdown import to_paragraphs
from newsletter.render.theme import issue_path, long_date

__all__ = ["issue_text"]


def issue_text(issue: Issue, settings: Settings, *, unsubscribe: str | None = None) -> str:
    """Masthead, stories with their notes, and a footer (web link, unsubscribe, postal
    address), wrapped for plain-text readers."""
    number = f"Issue {issue.number} · " if issue.number else ""
    header = [
        issue.title,
        f"{settings.title} · {number}{long_date(issue.date)}",
        *to_paragraphs(issue.intro),
    ]
    stories = [
        DigestStory(
            title=story.title,
            paragraphs=to_paragraphs(story.summary),
            url=story.url,
            note=" ".join(to_paragraphs(story.note or "")) or None,
        )
        for story in issue.stories
    ]
    footer = [f"Read this issue on the web: {settings.url}{issue_path(issue)}"]
    if unsubscribe:
        footer.append(f"Unsubscribe: {unsubscribe}")
    if settings.address:
        footer.append(settings.address)
    return format_digest(stories, header=header, footer=footer, note_label=settings.note_label)
