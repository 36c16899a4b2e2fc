"""The editor's view of the inbox: candidates listed with what already ran, dismissed."""

from __future__ import annotations

import datetime as dt

from newsletter.config import Workspace
from newsletter.editorial import list_issues
from newsletter.errors import ConfigError
from newsletter.inbox import STATUSES, Candidate, open_inbox
from newsletter.urls import url_key

__all__ = ["dismiss", "list_inbox", "published_urls"]


def published_urls(workspace: Workspace) -> dict[str, str]:
    """The link key of every story in a ready or sent issue -> that issue's folder name."""
    ran: dict[str, str] = {}
    for issue in list_issues(workspace):  # oldest first: the first issue that ran it wins
        if issue.status == "draft":
            continue
        for story in issue.stories:
            if story.url:
                ran.setdefault(url_key(story.url), issue.slug)
    return ran


def list_inbox(
    workspace: Workspace,
    *,
    status: str = "new",
    source: str | None = None,
    tag: str | None = None,
    query: str | None = None,
    since: dt.date | None = None,
    limit: int | None = None,
) -> list[Candidate]:
    """Candidates matching the filters, newest first, each marked with the issue it ran in."""
    if status != "all" and status not in STATUSES:
        raise ConfigError(
            f"unknown status {status!r} (new, picked, dismissed or all)", field="status"
        )
    with open_inbox(workspace) as inbox:
        inbox.mark_ran(published_urls(workspace))
        return inbox.candidates(
            status=None if status == "all" else status,  # type: ignore[arg-type]
            source=source,
            tag=tag,
            query=query,
            since=since,
            limit=limit,
        )


def dismiss(workspace: Workspace, ids: list[int]) -> None:
    """Hide candidates; they stay stored, so gathering again never brings them back."""
    with open_inbox(workspace) as inbox:
        inbox.get(ids)  # an unknown id is an error before anything changes
        inbox.set_status(ids, "dismissed")
