"""Data for machines: the Atom and JSON feeds of issues, and JSON-LD for pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from newsletter.config import Config
from newsletter.site.pages import IssueView, SiteModel, StoryView

__all__ = ["absolute", "feeds", "issue_jsonld", "story_jsonld"]

ATOM = "feed.xml"
JSON_FEED = "feed.json"


def absolute(config: Config, path: str) -> str:
    """The public URL of a page: the archive URL plus its path, without `index.html`."""
    return config.newsletter.url + path.removesuffix("index.html")


def _midnight(day: dt.date) -> dt.datetime:
    """Issues carry a day; feeds want an instant. Midnight UTC keeps builds reproducible."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def feeds(site: SiteModel) -> dict[str, Callable[[Environment], str]]:
    """The feed files by path, each made with the Jinja environment (for entry content)."""
    return {
        ATOM: lambda env: _atom(site, env),
        JSON_FEED: lambda env: _json_feed(site, env),
    }


def _entry_html(env: Environment, issue: IssueView) -> str:
    """An issue's content for feed readers: absolute links, as no page surrounds it."""
    config = env.globals["config"]
    return env.get_template("site/feed_item.html").render(issue=issue, root=config.newsletter.url)


def _newest(site: SiteModel) -> list[IssueView]:
    return site.issues[: site.config.site.feed_items]


def _atom(site: SiteModel, env: Environment) -> str:
    from feedgen.feed import FeedGenerator  # with lxml, only when the feed is written

    settings = site.config.newsletter
    feed = FeedGenerator()
    feed.id(settings.url)
    feed.title(settings.title)
    feed.subtitle(settings.description or settings.title)
    feed.author({"name": settings.title})
    feed.link(href=settings.url, rel="alternate")
    feed.link(href=absolute(site.config, ATOM), rel="self")
    feed.language(settings.language)
    newest = _newest(site)
    feed.updated(_midnight(newest[0].doc.date) if newest else _midnight(dt.date(1970, 1, 1)))
    for issue in newest:
        entry = feed.add_entry(order="append")
        url = absolute(site.config, issue.path)
        entry.id(url)
        entry.title(issue.doc.title)
        entry.link(href=url)
        entry.published(_midnight(issue.doc.date))
        entry.updated(_midnight(issue.doc.date))
        if issue.doc.preheader:
            entry.summary(issue.doc.preheader)
        entry.content(_entry_html(env, issue), type="html")
    return feed.atom_str(pretty=True).decode("utf-8")


def _json_feed(site: SiteModel, env: Environment) -> str:
    settings = site.config.newsletter
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": settings.title,
        "home_page_url": settings.url,
        "feed_url": absolute(site.config, JSON_FEED),
        "description": settings.description,
        "language": settings.language,
        "authors": [{"name": settings.title, "url": settings.url}],
        "items": [_json_item(site, env, issue) for issue in _newest(site)],
    }
    return json.dumps(feed, ensure_ascii=False, indent=2) + "\n"


def _json_item(site: SiteModel, env: Environment, issue: IssueView) -> dict[str, Any]:
    url = absolute(site.config, issue.path)
    tags = sorted({tag for story in issue.stories for tag in story.doc.tags})
    item = {
        "id": url,
        "url": url,
        "title": issue.doc.title,
        "content_html": _entry_html(env, issue),
        "date_published": _midnight(issue.doc.date).isoformat(),
        "tags": tags,
    }
    if issue.doc.preheader:
        item["summary"] = issue.doc.preheader
    return item


def _script(data: dict[str, Any]) -> Markup:
    """JSON-LD safe inside <script>: no `</script>` or `<!--` can close it early."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _periodical(config: Config) -> dict[str, Any]:
    settings = config.newsletter
    return {"@type": "Periodical", "name": settings.title, "url": settings.url}


def _publisher(config: Config) -> dict[str, Any]:
    return {"@type": "Organization", "name": config.newsletter.title, "url": config.newsletter.url}


def issue_jsonld(config: Config, issue: IssueView) -> Markup:
    """The issue as a `PublicationIssue` (a CreativeWork) that is part of the `Periodical`."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "PublicationIssue",
        "name": issue.doc.title,
        "url": absolute(config, issue.path),
        "datePublished": issue.doc.date.isoformat(),
        "inLanguage": config.newsletter.language,
        "isPartOf": _periodical(config),
        "publisher": _publisher(config),
        "hasPart": [
            {"@type": "NewsArticle", "headline": s.doc.title, "url": absolute(config, s.path)}
            for s in issue.stories
        ],
    }
    if issue.doc.number is not None:
        data["issueNumber"] = str(issue.doc.number)
    if issue.doc.preheader:
        data["description"] = issue.doc.preheader
    return _script(data)


def story_jsonld(config: Config, story: StoryView) -> Markup:
    """The story's page as a `NewsArticle`, part of its issue, based on the original article."""
    url = absolute(config, story.path)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.doc.title,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": (story.doc.published or story.issue.doc.date).isoformat(),
        "description": story.doc.excerpt,
        "inLanguage": config.newsletter.language,
        "publisher": _publisher(config),
        "isPartOf": {
            "@type": "PublicationIssue",
            "name": story.issue.doc.title,
            "url": absolute(config, story.issue.path),
            "isPartOf": _periodical(config),
        },
    }
    if story.doc.tags:
        data["keywords"] = list(story.doc.tags)
    if story.doc.url:
        data["isBasedOn"] = story.doc.url
    if story.doc.source:
        data["sourceOrganization"] = {"@type": "Organization", "name": story.doc.source}
    return _script(data)
