"""The archive site: its pages, feeds, metadata and links, as visitors and machines see them."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import html5lib
import markdown as md
import pytest
from conftest import REPO, run_cli
from site_fixtures import files, story_file

from newsletter.config import Workspace, load_workspace
from newsletter.editorial import new_issue
from newsletter.render.markdown import _plain_prose
from newsletter.site.build import build
from newsletter.site.linkcheck import check_site
from newsletter.site.pages import group_slug


class Head(HTMLParser):
    """The metadata of a page: meta tags, links by rel, JSON-LD blocks, hrefs."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str | None]] = []
        self.jsonld: list[dict] = []
        self.hrefs: list[str] = []
        self._in_jsonld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.meta[values.get("property") or values.get("name") or ""] = values["content"] or ""
        if tag == "link":
            self.links.append(values)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        self._in_jsonld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self.jsonld.append(json.loads(data))
            self._in_jsonld = False


def head(path: Path) -> Head:
    parser = Head()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def link(page: Head, rel: str) -> list[dict[str, str | None]]:
    return [item for item in page.links if item.get("rel") == rel]


def test_seed_archive_has_every_kind_of_page_and_no_broken_link(archive: Workspace) -> None:
    index = build(archive).index
    out = index.parent
    expected = [
        "index.html",
        "archive/index.html",
        "tags/index.html",
        "tags/ai/index.html",
        "sources/index.html",
        "sources/bangkok-post/index.html",
        "about.html",
        "search.html",
        "404.html",
        "feed.xml",
        "feed.json",
        "sitemap.xml",
        "robots.txt",
        "style.css",
        "pagefind/pagefind-ui.js",
    ]
    assert [p for p in expected if not (out / p).is_file()] == []
    assert len(list(out.glob("issues/*.html"))) == 3
    assert len(list(out.glob("issues/*/*.html"))) == 12  # one permalink page per story
    assert check_site(archive) == []
    for page in out.rglob("*.html"):  # valid HTML5: a strict parser accepts every page
        if "pagefind" not in page.parts:
            html5lib.HTMLParser(strict=True).parse(page.read_text(encoding="utf-8"))


def test_demo_builds_a_site_whose_links_all_resolve(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), str(demo)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"site:  {demo / 'build' / 'site' / 'index.html'}" in done.stdout
    assert check_site(load_workspace(demo)) == []


def test_check_site_reports_a_missing_page_and_exits_1(archive: Workspace) -> None:
    out = build(archive).index.parent
    story = next(out.glob("issues/*/penang-chip-plant.html"))
    story.unlink()
    result = run_cli("-w", str(archive.root), "check", "--site")
    assert result.returncode == 1
    assert "penang-chip-plant.html' does not resolve" in result.stdout
    assert result.stdout.strip().endswith("broken links")
    # the issue page, its neighbour stories, the tag, source and home pages, the sitemap, the feeds
    assert result.stdout.count("penang-chip-plant.html") >= 5


def test_story_permalink_page(archive: Workspace) -> None:
    out = build(archive).index.parent
    page = next(out.glob("issues/2025-06-20-*/spacex-explores-*.html"))
    html = page.read_text(encoding="utf-8")
    assert "<h1>SpaceX Explores Healthcare Collaboration" in html
    assert html.count('<aside class="note"') == 1 and "Editor’s Note" in html
    assert 'href="https://' in html and "Read the original" in html
    assert ">Issue 1: AI Factories" in html or ">Issue 1: " in html
    hrefs = head(page).hrefs
    assert any(h.endswith("fpt-ai-factories-ranked-among-worlds-fastest-supercomputers.html")
               and "Previous" in html for h in hrefs)  # fmt: skip
    assert any(h.endswith("vietnam-enacts-world-first-stand-alone-digital-technology.html")
               for h in hrefs)  # fmt: skip
    assert "../../tags/space/index.html" in hrefs and "../../tags/vietnam/index.html" in hrefs


def test_tag_and_source_pages_list_their_stories_newest_first(archive: Workspace) -> None:
    out = build(archive).index.parent
    ai = (out / "tags/ai/index.html").read_text(encoding="utf-8")
    titles = re.findall(r'<a class="title" href="[^"]+">([^<]+)</a>', ai)
    assert titles[:2] == ["Grid strain in Johor", "Penang opens a chip plant"]
    assert titles[2].startswith("Thailand Commits US$5.4 Billion")  # the seed's last "ai" story
    assert len(titles) == 5  # two later stories and three seed stories are tagged "ai"
    bangkok = (out / "sources/bangkok-post/index.html").read_text(encoding="utf-8")
    assert "Stories from Bangkok Post" in bangkok and "3 stories" in bangkok
    search = (out / "search.html").read_text(encoding="utf-8")
    assert "tags/ai/index.html" in search and "sources/bangkok-post/index.html" in search


def test_feeds_parse_back_with_one_entry_per_issue_and_absolute_links(archive: Workspace) -> None:
    out = build(archive).index.parent
    base = archive.settings.url
    atom = feedparser.parse((out / "feed.xml").read_bytes())
    assert not atom.bozo, atom.get("bozo_exception")
    assert [e.title for e in atom.entries] == ["Data centres", "Chips and payments",
                                               atom.entries[2].title]  # fmt: skip
    assert len(atom.entries) == 3
    for entry in atom.entries:
        assert entry.link.startswith(base) and entry.id.startswith(base)
        assert "Editor’s Note" in entry.content[0].value
        assert not re.search(r'href="(?!https?://)', entry.content[0].value)  # no relative links
    assert atom.feed.updated.startswith("2025-07-04")  # the newest issue, not the build time
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert [item["title"] for item in feed["items"]][:2] == ["Data centres", "Chips and payments"]
    assert len(feed["items"]) == 3
    for item in feed["items"]:
        assert item["url"].startswith(base) and item["id"] == item["url"]
        assert item["date_published"].startswith(item["url"].split("issues/")[1][:10])
    assert feed["feed_url"] == base + "feed.json"


def test_pages_carry_canonical_social_and_structured_data(archive: Workspace) -> None:
    out = build(archive).index.parent
    base = archive.settings.url
    story_path = next(out.glob("issues/2025-06-27-*/qr-payments.html"))
    story = head(story_path)
    url = base + story_path.relative_to(out).as_posix()
    assert link(story, "canonical")[0]["href"] == url
    assert story.meta["og:url"] == url and story.meta["og:type"] == "article"
    assert story.meta["og:title"] == "QR payments cross borders"
    assert story.meta["twitter:card"] == "summary" and story.meta["description"]
    (article,) = story.jsonld
    assert article["@type"] == "NewsArticle" and article["url"] == url
    assert article["isPartOf"]["@type"] == "PublicationIssue"
    assert article["isPartOf"]["isPartOf"] == {"@type": "Periodical", "name": "SEA Tech Digest",
                                               "url": base}  # fmt: skip
    # The story's original is in Thai, the site in English: hreflang says so.
    assert link(story, "alternate")[-1]["hreflang"] == "th"
    other = head(next(out.glob("issues/2025-06-27-*/penang-chip-plant.html")))
    assert not [item for item in other.links if item.get("hreflang")]
    issue = head(next(out.glob("issues/2025-06-27-*.html")))
    (work,) = issue.jsonld
    assert work["@type"] == "PublicationIssue" and work["issueNumber"] == "2"
    assert work["isPartOf"]["@type"] == "Periodical" and len(work["hasPart"]) == 2
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert url in sitemap and base + "search.html" not in sitemap
    assert f"Sitemap: {base}sitemap.xml" in (out / "robots.txt").read_text(encoding="utf-8")


def test_sub_path_and_disk_use_relative_links_only(archive: Workspace) -> None:
    config = archive.root / "sources.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("https://example.org/newsletter/", "https://example.org/a/b/"))
    workspace = load_workspace(archive.root)
    out = build(workspace).index.parent
    for page in out.rglob("*.html"):
        if "pagefind" in page.parts or page.name == "404.html":
            continue
        hrefs = [h for h in head(page).hrefs if not h.startswith(("https://", "http://", "#"))]
        assert not [h for h in hrefs if h.startswith("/")], page
    story = head(next(out.glob("issues/2025-07-04-*/grid-strain.html")))
    assert link(story, "canonical")[0]["href"].startswith("https://example.org/a/b/issues/")
    # A host shows 404.html at any address: its links are absolute, under the sub-path.
    assert 'href="https://example.org/a/b/style.css"' in (out / "404.html").read_text("utf-8")
    assert check_site(workspace) == []


def test_drafts_appear_only_with_drafts_and_are_not_indexed(archive: Workspace) -> None:
    draft = new_issue(archive, title="Unfinished")
    assert draft.path is not None
    (draft.path / "01-a-draft-story.md").write_text(
        "---\ntitle: A draft story\n---\nNot yet.\n\n## Editor's Note\n\nLater.\n", "utf-8"
    )
    out = build(archive).index.parent
    assert not list(out.glob(f"issues/{draft.slug}*"))
    build(archive, drafts=True)
    page = out / f"issues/{draft.slug}.html"
    assert head(page).meta["robots"] == "noindex"
    build(archive)
    assert not page.exists() and not (out / f"issues/{draft.slug}").exists()


def test_hostile_markdown_never_reaches_a_page_or_feed(archive: Workspace) -> None:
    path = story_file(archive, "grid-strain.md")
    text = path.read_text(encoding="utf-8").replace(
        "A second paragraph", "<script>alert(1)</script> [x](javascript:alert(2)) A second"
    )
    path.write_text(text, encoding="utf-8")
    out = build(archive).index.parent
    for name, data in files(out).items():
        assert b"<script>alert" not in data and b"javascript:alert" not in data, name


def test_two_builds_of_the_same_input_are_byte_identical(
    archive: Workspace, tmp_path: Path
) -> None:
    first = files(build(archive).index.parent)
    copy = tmp_path / "elsewhere"
    shutil.copytree(archive.root, copy, ignore=shutil.ignore_patterns("build", ".newsletter"))
    second = files(build(load_workspace(copy)).index.parent)
    assert second == first
    assert files(build(archive, clean=True).index.parent) == first


@pytest.mark.parametrize("bad", ["---\ntitle: [unclosed\n---\nText\n", "no front matter\n"])
def test_a_broken_story_is_one_line_naming_the_file(archive: Workspace, bad: str) -> None:
    story_file(archive, "grid-strain.md").write_text(bad, encoding="utf-8")
    result = run_cli("-w", str(archive.root), "build")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "02-grid-strain.md" in result.stderr


def test_plain_prose_shortcut_gives_python_markdowns_bytes(seed_issue) -> None:
    """Summaries without Markdown syntax skip Python-Markdown; the HTML must be the same."""
    rng = random.Random(6)
    alphabet = "ab c-d.1 2\n\n\n’\"'()$%:;,?é漢 \u00a0"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(5000)]
    texts += [text for story in seed_issue.stories for text in (story.summary, story.note or "")]
    texts += ["1. a list", "- a list", "a  \nbreak", "# heading", "Title\n===", "    code",
              "x & y", "snake_case", "[a](https://example.org)", "<b>bold</b>", "a\tb"]  # fmt: skip
    shortcut = [text for text in texts if _plain_prose(text) is not None]
    assert len(shortcut) > 1000
    for text in texts:
        reference = md.markdown(text, extensions=["sane_lists"], output_format="html")
        assert _plain_prose(text) in (None, reference), repr(text)
    for text in texts[-11:]:  # Markdown syntax always goes through Python-Markdown
        assert _plain_prose(text) is None


def test_tags_in_other_scripts_and_hand_renamed_files_keep_their_own_pages(
    archive: Workspace,
) -> None:
    johor = story_file(archive, "01-johor-data-centres.md")
    text = johor.read_text(encoding="utf-8").replace(
        "tags: [cloud]", "tags: [ปัญญาประดิษฐ์, 人工智能]"
    )
    johor.write_text(text, encoding="utf-8")
    grid = story_file(archive, "02-grid-strain.md")
    grid.rename(grid.with_name("02-johor-data-centres.md"))  # the same slug as story 01
    out = build(archive).index.parent
    thai, chinese = (f"tags/{group_slug(t, 'tag')}/index.html" for t in ("ปัญญาประดิษฐ์", "人工智能"))
    assert thai != chinese
    assert "ปัญญาประดิษฐ์" in (out / thai).read_text(encoding="utf-8")
    assert "人工智能" in (out / chinese).read_text(encoding="utf-8")
    folder = out / "issues" / "2025-07-04-data-centres"
    assert sorted(p.name for p in folder.iterdir()) == [
        "02-johor-data-centres.html",
        "johor-data-centres.html",
    ]
    assert check_site(archive) == []


class Outline(HTMLParser):
    """Heading levels and landmarks, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))


def test_every_page_has_landmarks_one_h1_and_headings_in_order(archive: Workspace) -> None:
    text = (archive.root / "sources.yaml").read_text(encoding="utf-8")
    about = "site:\n  about: |\n    We read *everything* so you do not have to.\n"
    (archive.root / "sources.yaml").write_text(text + about, encoding="utf-8")
    out = build(load_workspace(archive.root)).index.parent
    for page in out.rglob("*.html"):
        if "pagefind" in page.parts:
            continue
        outline = Outline()
        outline.feed(page.read_text(encoding="utf-8"))
        name = page.relative_to(out).as_posix()
        assert {"header", "nav", "main", "footer"} <= outline.tags, name
        assert outline.levels.count(1) == 1 and outline.levels[0] == 1, name
        jumps = [b - a for a, b in zip(outline.levels, outline.levels[1:], strict=False)]
        assert max(jumps, default=0) <= 1, f"{name}: heading levels skip ({outline.levels})"
    assert "<em>everything</em>" in (out / "about.html").read_text(encoding="utf-8")
