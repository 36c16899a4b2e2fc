"""`newsletter gather`: every enabled source, fetched concurrently, into the inbox.

Per source: skip it while it backs off, fetch it (conditional GET), skip parsing
when the body did not change, parse, optionally fetch each entry's article, store.
A failing source is recorded and reported; it never stops the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from newsletter import __version__
from newsletter.config import Workspace
from newsletter.errors import ConfigError, NewsletterError
from newsletter.gather.entries import Entry, Feed, FeedError
from newsletter.gather.fetch import Fetcher, FetchError, FetchLimits, Response
from newsletter.gather.pages import COMMON_FEED_PATHS, discover_feeds, extract_article
from newsletter.gather.parse import parse_response
from newsletter.gather.wordpress import wordpress_posts_url
from newsletter.inbox import Inbox, SourceState, open_inbox
from newsletter.models import Source
from newsletter.urls import canonical_url

__all__ = ["SourceReport", "gather"]

BACKOFF_START = dt.timedelta(minutes=30)
BACKOFF_MAX = dt.timedelta(hours=24)
REDIRECT_CONFIRMATIONS = 3  # gathers in a row that must see the same permanent redirect
MAX_PAGES = 10  # WordPress REST pages read per gather

Progress = Callable[["SourceReport"], None]


@dataclass
class SourceReport:
    """What one gather did with one source, for the closing table."""

    name: str
    status: str = "ok"  # ok | not modified | unchanged | failed | skipped | gone
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    reason: str = ""
    errors: int = 0  # consecutive failures so far
    notes: list[str] = field(default_factory=list)


def gather(
    workspace: Workspace,
    *,
    only: str | None = None,
    progress: Progress | None = None,
    limits: FetchLimits | None = None,
) -> list[SourceReport]:
    """Gather every enabled source (or only the one named) into the inbox."""
    sources = _chosen(workspace.config.sources, only)
    with open_inbox(workspace) as inbox:
        return asyncio.run(_gather_all(workspace, inbox, sources, only, progress, limits))


def _chosen(sources: list[Source], only: str | None) -> list[Source]:
    if only is None:
        return [source for source in sources if source.enabled]
    chosen = [source for source in sources if source.name == only]
    if not chosen:
        names = ", ".join(source.name for source in sources) or "none configured"
        raise ConfigError(f"no source named {only!r} (sources: {names})", field="sources")
    return chosen


async def _gather_all(
    workspace: Workspace,
    inbox: Inbox,
    sources: list[Source],
    only: str | None,
    progress: Progress | None,
    limits: FetchLimits | None,
) -> list[SourceReport]:
    agent = f"newsletter/{__version__} (+{workspace.settings.url})"
    async with Fetcher(user_agent=agent, limits=limits or FetchLimits()) as fetcher:
        gatherer = _SourceGatherer(workspace.root, inbox, fetcher, forced=only is not None)

        async def one(source: Source) -> SourceReport:
            report = await gatherer.run(source)
            if progress:
                progress(report)
            return report

        return list(await asyncio.gather(*(one(source) for source in sources)))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _SourceGatherer:
    root: Path
    inbox: Inbox
    fetcher: Fetcher
    forced: bool  # the editor named this source: ignore its backoff

    async def run(self, source: Source) -> SourceReport:
        state = self._state(source)
        report = SourceReport(source.name, errors=state.errors)
        if state.gone:
            return self._report_gone(report, state)
        if (
            state.retry_at
            and not self.forced
            and dt.datetime.fromisoformat(state.retry_at) > _now()
        ):
            report.status = "skipped"
            report.reason = f"backing off after {state.last_error} until {state.retry_at[:16]}"
            return report
        try:
            await self._gather(source, state, report)
        except (NewsletterError, OSError) as exc:
            self._failed(state, report, exc)
        self.inbox.save_source_state(state)
        return report

    def _state(self, source: Source) -> SourceState:
        state = self.inbox.source_state(source.name)
        if state.configured_url != source.url:  # a new or edited source starts afresh
            state = SourceState(source.name, configured_url=source.url)
        return state

    async def _gather(self, source: Source, state: SourceState, report: SourceReport) -> None:
        response = await self._fetch_source(source, state, report)
        state.fetched_at = _now().isoformat(timespec="seconds")
        state.errors, state.last_error, state.retry_at = 0, None, None
        report.errors = 0
        if response.status == 304:
            report.status = "not modified"
            return
        state.etag = response.headers.get("etag")
        state.last_modified = response.headers.get("last-modified")
        digest = hashlib.sha256(response.body).hexdigest()
        if digest == state.body_hash:
            report.status = "unchanged"
            return
        feed = await self._parse(source, state, response, report)
        if source.full_text:
            await self._add_full_text(source, feed, report)
        counts = self.inbox.store(source.name, feed.entries, tags=source.tags)
        report.new, report.updated, report.unchanged = counts.new, counts.updated, counts.unchanged
        report.notes += feed.warnings
        state.body_hash = digest  # only once stored: a crash before this parses again

    # ------------------------------------------------------------------ fetching

    async def _fetch_source(
        self, source: Source, state: SourceState, report: SourceReport
    ) -> Response:
        if source.is_path:
            return self._read_file(source)
        url = state.url or self._first_url(source)
        response = await self.fetcher.get(url, etag=state.etag, last_modified=state.last_modified)
        self._note_redirect(state, response, report)
        return response

    @staticmethod
    def _first_url(source: Source) -> str:
        return wordpress_posts_url(source.url) if source.kind == "wordpress" else source.url

    def _read_file(self, source: Source) -> Response:
        """A source configured as a path: the only way the tool reads a local feed."""
        path = (self.root / source.url).resolve()
        limit = self.fetcher.limits.max_bytes
        with path.open("rb") as file:
            body = file.read(limit + 1)
        if len(body) > limit:
            raise FetchError(f"file larger than {limit // 2**20} MB", kind="too-large")
        return Response(url=str(path), status=200, headers={}, body=body, permanent_redirect=None)

    @staticmethod
    def _note_redirect(state: SourceState, response: Response, report: SourceReport) -> None:
        """Follow a permanent redirect for good once it is seen REDIRECT_CONFIRMATIONS times."""
        target = response.permanent_redirect
        if target is None:
            state.redirect_to, state.redirect_seen = None, 0
            return
        state.redirect_seen = state.redirect_seen + 1 if state.redirect_to == target else 1
        state.redirect_to = target
        if state.redirect_seen < REDIRECT_CONFIRMATIONS:
            report.notes.append(f"moved permanently to {target} (seen {state.redirect_seen}x)")
            return
        state.url, state.redirect_to, state.redirect_seen = target, None, 0
        report.notes.append(f"moved permanently: now reading {target}; update sources.yaml")

    # ------------------------------------------------------------------ parsing

    async def _parse(
        self, source: Source, state: SourceState, response: Response, report: SourceReport
    ) -> Feed:
        if source.kind == "auto" and not source.is_path and _is_html(response):
            found = await self._discover(response)
            if found is not None:
                state.url = found.url
                report.notes.append(f"found the feed {found.url}")
                response = found
        feed = await _read(response, source)
        pages = 1
        while feed.next_url and pages < MAX_PAGES:  # WordPress REST pagination
            page = await _read(await self.fetcher.get(feed.next_url), source)
            feed.entries += page.entries
            feed.warnings += page.warnings
            feed.next_url, pages = page.next_url, pages + 1
        return feed

    async def _discover(self, page: Response) -> Response | None:
        """The site's feed: advertised <link rel=alternate> first, then common paths."""
        advertised = discover_feeds(page.body, url=page.url)
        guesses = [urljoin(page.url, path) for path in COMMON_FEED_PATHS]
        for url in [*advertised, *(g for g in guesses if g not in advertised)]:
            try:
                # A guessed path that redirects is usually the home page: not a feed.
                response = await self.fetcher.get(url, follow_redirects=url in advertised)
                if not _is_html(response) and (await _read(response, kind="auto")).entries:
                    return response
            except (FetchError, FeedError):
                continue
        return None

    async def _add_full_text(self, source: Source, feed: Feed, report: SourceReport) -> None:
        """Fetch the article behind each teaser entry; articles already stored are reused."""
        stored = self.inbox.stored_texts(source.name)

        async def fill(entry: Entry) -> None:
            assert entry.url is not None
            if canonical_url(entry.url) in stored:
                entry.text = stored[canonical_url(entry.url)]
                return
            try:
                response = await self.fetcher.get(entry.url)
                text = extract_article(response.body, url=response.url, prune=source.prune)
            except (FetchError, FeedError) as exc:
                report.notes.append(f"article {entry.url}: {exc}")
                return
            entry.text = text or entry.text

        await asyncio.gather(*(fill(entry) for entry in feed.entries if entry.url))

    # ------------------------------------------------------------------ failure

    def _failed(self, state: SourceState, report: SourceReport, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, NewsletterError) else (exc.strerror or str(exc))
        state.errors += 1
        state.last_error = reason
        wait = min(BACKOFF_START * 2 ** (state.errors - 1), BACKOFF_MAX)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            wait = max(wait, dt.timedelta(seconds=retry_after))
        state.retry_at = (_now() + wait).isoformat(timespec="seconds")
        if isinstance(exc, FetchError) and exc.kind == "gone":
            state.gone = True
        report.status, report.reason, report.errors = "failed", reason, state.errors

    @staticmethod
    def _report_gone(report: SourceReport, state: SourceState) -> SourceReport:
        report.status = "gone"
        report.reason = (
            f"{state.url or state.configured_url} answered 410 Gone; "
            "disabled until its url changes in sources.yaml"
        )
        return report


async def _read(response: Response, source: Source | None = None, *, kind: str = "auto") -> Feed:
    """Parse a response as the source's kind (an HTML body of an `auto` source is a page)."""
    return parse_response(
        response.body,
        url=response.url,
        content_type=response.headers.get("content-type"),
        kind=source.kind if source else kind,
        headers=response.headers,
        prune=source.prune if source else (),
    )


def _is_html(response: Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type:
        return True
    start = response.body[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))
