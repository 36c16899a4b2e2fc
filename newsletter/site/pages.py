"""Page phase: the archive's content model -> every page of the site and what it is built from.

A page records its inputs (Lektor style): short tokens naming exactly the
content it shows (a story's digest, an issue's title and number, the title of
the next story). The writer skips a page whose inputs are unchanged.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import Any

from jinja2 import Environment

from newsletter.config import Config
from newsletter.site.content import Archive, IssueDoc, StoryDoc
from newsletter.slugs import slugify

# Pages that are not content: search engines need not list them.
UNLISTED = frozenset({"404.html", "search.html"})

__all__ = [
    "Group",
    "IssueView",
    "Page",
    "Pager",
    "SiteModel",
    "StoryView",
    "group_slug",
    "model",
    "pages",
]


def _adopt(view: object, doc: object) -> None:
    """Give the view its doc's fields as plain attributes, its own fields first (templates
    read them thousands of times; plain attributes are much faster than delegating)."""
    view.__dict__ = {**doc.__dict__, **view.__dict__}


@dataclass(eq=False)
class IssueView:
    """An issue as the site shows it: its doc, its page and its neighbours."""

    doc: IssueDoc
    path: str
    stories: list[StoryView] = field(default_factory=list)
    prev: IssueView | None = None
    next: IssueView | None = None

    def __post_init__(self) -> None:
        _adopt(self, self.doc)

    @cached_property
    def token(self) -> str:
        """What a listing shows of the issue (read once the model is complete)."""
        d = self.doc
        return f"i:{d.slug}|{d.title}|{d.number}|{d.date}|{d.status}|{len(self.stories)}"


@dataclass(eq=False)
class StoryView:
    """A story as the site shows it: its doc, its issue, its permalink and its neighbours."""

    doc: StoryDoc
    issue: IssueView
    anchor: str  # unique in its issue: the id of its section and the name of its page
    language: str | None
    prev: StoryView | None = None
    next: StoryView | None = None

    path: str = field(init=False)  # its page: a plain attribute, as templates read it often

    def __post_init__(self) -> None:
        self.path = f"issues/{self.issue.doc.slug}/{self.anchor}.html"
        _adopt(self, self.doc)

    @property
    def nav_token(self) -> str:
        """What a previous/next link shows of the story."""
        return f"s:{self.path}|{self.doc.title}"

    @property
    def tokens(self) -> tuple[str, str]:
        """What a listing shows: the story (title, excerpt, source, tags) and its issue."""
        return (self.doc.digest, self.issue.token)


@dataclass(eq=False)
class Group:
    """The stories of one tag or one source, newest first."""

    kind: str  # "tag" or "source"
    name: str
    slug: str
    stories: list[StoryView]

    @property
    def path(self) -> str:
        return f"{self.kind}s/{self.slug}/index.html"


@dataclass(frozen=True)
class Pager:
    """Where a page sits in a paginated list."""

    number: int
    count: int
    prev: str | None
    next: str | None


@dataclass(frozen=True)
class Page:
    """One output file: its path, how it is made and what it is made from."""

    path: str
    inputs: tuple[str, ...]
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    # Output not made by a template (feedgen, JSON): called with the Jinja environment.
    produce: Callable[[Environment], str] | None = None


@dataclass
class SiteModel:
    """Everything the pages show: issues newest first, stories in reading order, groups."""

    config: Config
    issues: list[IssueView]
    stories: list[StoryView]
    tags: list[Group]
    sources: list[Group]
    search: bool


def model(archive: Archive, config: Config, *, drafts: bool, search: bool) -> SiteModel:
    """Views over the published issues (drafts too if asked), linked to their neighbours."""
    shown = [doc for doc in archive.issues if drafts or doc.status != "draft"]
    languages = {source.name: source.language for source in config.sources}
    issues = [IssueView(doc, f"issues/{doc.slug}.html") for doc in shown]
    stories: list[StoryView] = []
    for issue in issues:
        taken: set[str] = set()
        for doc in issue.doc.stories:
            # "01-x.md" and "02-x.md" (named by hand) would share "x": the second keeps its number.
            anchor = doc.anchor if doc.anchor not in taken else doc.file.rsplit("/", 1)[-1][:-3]
            taken.add(anchor)
            language = doc.language or languages.get(doc.source or "")
            story = StoryView(doc, issue, anchor, language)
            issue.stories.append(story)
            stories.append(story)
    _link(issues)
    _link(stories)
    newest = list(reversed(stories))
    return SiteModel(
        config=config,
        issues=list(reversed(issues)),
        stories=stories,
        tags=_groups("tag", ((tag, s) for s in newest for tag in s.doc.tags)),
        sources=_groups("source", ((s.doc.source, s) for s in newest if s.doc.source)),
        search=search,
    )


@functools.cache  # templates ask for the slug of every tag of every story
def group_slug(name: str, kind: str) -> str:
    """The URL name of a tag or source: ASCII words, or for a name in another script
    ("ปัญญาประดิษฐ์") a short hash of it, so two such names never share a page."""
    ascii_slug = slugify(name, fallback="")
    if ascii_slug:
        return ascii_slug
    return f"{kind}-{hashlib.blake2b(name.casefold().encode(), digest_size=4).hexdigest()}"


def _link(items: Sequence[IssueView] | Sequence[StoryView]) -> None:
    for before, after in pairwise(items):
        before.next, after.prev = after, before  # type: ignore[assignment]


def _groups(kind: str, pairs: Iterator[tuple[str, StoryView]]) -> list[Group]:
    """Stories grouped by the slug of a tag or source name ("AI" and "ai" are one tag)."""
    groups: dict[str, Group] = {}
    for name, story in pairs:
        slug = group_slug(name, kind)
        group = groups.setdefault(slug, Group(kind, name, slug, []))
        if not group.stories or group.stories[-1] is not story:
            group.stories.append(story)
    return sorted(groups.values(), key=lambda g: (g.name.casefold(), g.slug))


def pages(site: SiteModel, produce: dict[str, Callable[[Environment], str]]) -> list[Page]:
    """Every page of the site, in a stable order; `produce` makes the feeds."""
    made = [
        _home(site),
        *_archive(site),
        *(_issue(issue) for issue in site.issues),
        *(_story(story) for story in site.stories),
        *_group_pages(site, site.tags),
        *_group_pages(site, site.sources),
        _index("tags/index.html", "tag", site.tags),
        _index("sources/index.html", "source", site.sources),
        Page("about.html", (), "site/about.html"),
        Page("search.html", _listing(site), "site/search.html", {"site_model": site}),
        # Hosts show the 404 page at any missing address, so its links cannot be relative.
        Page("404.html", (), "site/404.html", {"root": site.config.newsletter.url}),
        *_feeds(site, produce),
        Page("robots.txt", (), "site/robots.txt"),
        Page("style.css", (), "site/style.css"),
    ]
    return [*made, _sitemap(site, made)]


def _home(site: SiteModel) -> Page:
    latest = site.issues[0] if site.issues else None
    recent = site.issues[1 : 1 + site.config.site.recent_issues]
    inputs = [issue.token for issue in recent]
    if latest is not None:
        inputs += [latest.token, latest.doc.digest, *(s.doc.digest for s in latest.stories)]
    more = len(site.issues) > len(recent) + 1
    context = {"latest": latest, "recent": recent, "more": more}
    return Page("index.html", (*inputs, str(more)), "site/index.html", context)


def _paginate(items: Sequence[Any], per_page: int, base: str) -> Iterator[tuple[str, list, Pager]]:
    """(path, items, pager) for each page: `base/index.html`, `base/page-2.html`, ..."""
    count = max(1, -(-len(items) // per_page))
    paths = [f"{base}/index.html"] + [f"{base}/page-{n}.html" for n in range(2, count + 1)]
    for n, path in enumerate(paths):
        prev = paths[n - 1] if n else None
        after = paths[n + 1] if n + 1 < count else None
        yield path, list(items[n * per_page : (n + 1) * per_page]), Pager(n + 1, count, prev, after)


def _archive(site: SiteModel) -> Iterator[Page]:
    for path, issues, pager in _paginate(site.issues, site.config.site.issues_per_page, "archive"):
        inputs = (*(issue.token for issue in issues), repr(pager))
        yield Page(path, inputs, "site/archive.html", {"issues": issues, "pager": pager})


def _issue(issue: IssueView) -> Page:
    inputs = [issue.doc.digest, *(story.doc.digest for story in issue.stories)]
    inputs += [n.token if n else "-" for n in (issue.prev, issue.next)]
    return Page(issue.path, tuple(inputs), "site/issue.html", {"issue": issue})


def _story(story: StoryView) -> Page:
    inputs = (story.doc.digest, story.issue.token, str(story.language))
    neighbours = tuple(n.nav_token if n else "-" for n in (story.prev, story.next))
    return Page(story.path, inputs + neighbours, "site/story.html", {"story": story})


def _group_pages(site: SiteModel, groups: list[Group]) -> Iterator[Page]:
    per_page = site.config.site.stories_per_page
    for group in groups:
        base = group.path.removesuffix("/index.html")
        for path, stories, pager in _paginate(group.stories, per_page, base):
            inputs = (group.name, repr(pager), *(t for s in stories for t in s.tokens))
            context = {"group": group, "stories": stories, "pager": pager}
            yield Page(path, inputs, "site/group.html", context)


def _listing(site: SiteModel) -> tuple[str, ...]:
    """What a list of every tag and source shows: names and counts."""
    groups = (*site.tags, *site.sources)
    return tuple(f"{g.kind}:{g.name}|{g.slug}|{len(g.stories)}" for g in groups)


def _index(path: str, kind: str, groups: list[Group]) -> Page:
    inputs = tuple(f"{g.name}|{g.slug}|{len(g.stories)}" for g in groups)
    return Page(path, inputs, "site/groups.html", {"groups": groups, "kind": kind})


def _feeds(site: SiteModel, produce: dict[str, Callable[[Environment], str]]) -> Iterator[Page]:
    newest = site.issues[: site.config.site.feed_items]
    inputs = tuple(
        t for i in newest for t in (i.doc.digest, i.token, *(s.doc.digest for s in i.stories))
    )
    for path, make in sorted(produce.items()):
        yield Page(path, inputs, produce=make)


def _sitemap(site: SiteModel, made: list[Page]) -> Page:
    """Every page a search engine should list, with the day of its issue where it has one."""
    days = {issue.path: issue.doc.date for issue in site.issues}
    days.update((story.path, story.issue.doc.date) for story in site.stories)
    listed = [p.path for p in made if p.path.endswith(".html") and p.path not in UNLISTED]
    entries = [(path, days.get(path)) for path in listed]
    inputs = tuple(f"{path}|{day}" for path, day in entries)
    return Page("sitemap.xml", inputs, "site/sitemap.xml", {"entries": entries})
