"""Build the offline demo sources in samples/feeds/ from the seed documents.

Run once after changing the seeds: `python scripts/make_sample_feeds.py`. The output
is committed so `make demo` and the tests need no network. Each file is a real
format as sources publish it:

- vir.rss          RSS 2.0: the Vietnam Investment Review stories of seed 000
- bangkokpost.atom Atom: the Bangkok Post stories of seed 000
- nation.json      JSON Feed 1.1: the Nation Thailand stories, plus the FPT story again
                   (the same story from two sources, grouped in the inbox)
- datacore.json    a WordPress REST API response (/wp-json/wp/v2/posts): seed 003
- pages/*.html     news pages as a browser gets them: seeds 001, 002 and 004
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from newsletter.articles import read_article
from newsletter.digest import DigestStory, parse_digest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
OUT = SAMPLES / "feeds"
PUBLISHED = dt.datetime(2025, 6, 19, 8, 0, tzinfo=dt.UTC)


def seed(number: str) -> Path:
    return next(SAMPLES.glob(f"{number}_*.txt"))


def paragraphs_html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def digest_stories(host: str) -> list[DigestStory]:
    digest = parse_digest(seed("000").read_text(encoding="utf-8"))
    return [s for s in digest.stories if s.url and urlsplit(s.url).hostname.endswith(host)]


def write_feedgen(kind: str, title: str, site: str, stories: list[dict], path: Path) -> None:
    fg = FeedGenerator()
    fg.id(site)
    fg.title(title)
    fg.link(href=site, rel="alternate")
    fg.description(f"Latest news from {title}")
    fg.language("en")
    for number, story in enumerate(reversed(stories)):
        entry = fg.add_entry()
        entry.id(story["url"])
        entry.guid(story["url"], permalink=True)
        entry.title(story["title"])
        entry.link(href=story["url"])
        entry.description(story["html"]) if kind == "rss" else entry.content(
            story["html"], type="html"
        )
        entry.published(story.get("published", PUBLISHED - dt.timedelta(hours=number)))
        entry.updated(story.get("published", PUBLISHED - dt.timedelta(hours=number)))
    (fg.rss_file if kind == "rss" else fg.atom_file)(str(path), pretty=True)


def as_item(story: DigestStory) -> dict:
    return {"title": story.title, "url": story.url, "html": paragraphs_html(story.paragraphs)}


def page(number: str, url: str, site: str, published: dt.date, headline: str = "") -> str:
    article = read_article(str(seed(number)))
    title = html.escape(article.title or headline)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | {site}</title>
<link rel="canonical" href="{url}">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta property="og:url" content="{url}">
<meta property="article:published_time" content="{published.isoformat()}T07:00:00+07:00">
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/politics">Politics</a>
<a href="/business">Business</a></nav></header>
<main><article>
<h1>{title}</h1>
<p class="dateline"><time datetime="{published.isoformat()}">{published:%d %b %Y}</time></p>
{paragraphs_html(article.text.split(chr(10) * 2))}
</article></main>
<footer><p>© {site}. All rights reserved.</p></footer>
</body>
</html>
"""


def main() -> None:
    (OUT / "pages").mkdir(parents=True, exist_ok=True)
    vir = [as_item(s) for s in digest_stories("vir.com.vn")]
    write_feedgen("rss", "Vietnam Investment Review", "https://vir.com.vn/", vir, OUT / "vir.rss")
    bangkok = [as_item(s) for s in digest_stories("bangkokpost.com")]
    write_feedgen(
        "atom", "Bangkok Post", "https://www.bangkokpost.com/", bangkok, OUT / "bangkokpost.atom"
    )

    nation = [*digest_stories("nationthailand.com"), digest_stories("vir.com.vn")[0]]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Nation Thailand: Tech",
        "home_page_url": "https://www.nationthailand.com/business/tech",
        "language": "en",
        "items": [
            {
                "id": story.url,
                "url": story.url,
                "title": story.title,
                "content_html": paragraphs_html(story.paragraphs),
                "date_published": (PUBLISHED - dt.timedelta(hours=n)).isoformat(),
                "tags": ["thailand"] if "nation" in story.url else ["vietnam"],
            }
            for n, story in enumerate(nation)
        ],
    }
    (OUT / "nation.json").write_text(json.dumps(feed, ensure_ascii=False, indent=2) + "\n")
    post = json.loads(seed("003").read_text(encoding="utf-8"))
    (OUT / "datacore.json").write_text(json.dumps([post], ensure_ascii=False) + "\n")

    pages = {
        "001": (
            "https://example.org/samples/vietnam-ai-expertise-hub",
            "Vietnam News Sample",
            dt.date(2025, 12, 3),
        ),
        "002": (
            "https://example.org/samples/vietnam-hi-tech-cooperation",
            "Hanoi News Sample",
            dt.date(2024, 9, 23),
        ),
        "004": (
            "https://example.org/samples/fpt-core-technologies-resolution-57",
            "Vietnam Tech Sample",
            dt.date(2025, 12, 26),
            # Seed 004 opens with its first paragraph: its page needs a headline.
            "FPT: mastering core technologies is the foundation of Resolution 57",
        ),
    }
    for number, args in pages.items():
        (OUT / "pages" / f"{number}.html").write_text(page(number, *args))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
