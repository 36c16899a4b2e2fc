"""`gather` end to end: real feeds and real faults served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import run_cli
from httpserver import Route, TestServer, gzip_bomb, serve

from newsletter.config import Workspace, load_workspace
from newsletter.gather.fetch import FetchLimits
from newsletter.gather.run import SourceReport, gather
from newsletter.inbox import Candidate, open_inbox

FAST = FetchLimits(deadline=1.5, read_timeout=1.0, connect_timeout=1.0, max_bytes=256 * 1024)
RSS = "application/rss+xml"


def rss(items: str, *, encoding: str = "utf-8", extra: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>{extra}<rss version="2.0"><channel>'
        f"<title>Feed</title><link>https://site.example/</link><description>d</description>"
        f"{items}</channel></rss>"
    )


def item(n: int, *, link: str | None = None, guid: str | None = "auto", text: str = "") -> str:
    link = link if link is not None else f"https://site.example/story/{n}"
    guid_xml = "" if guid is None else f"<guid>{link if guid == 'auto' else guid}</guid>"
    return (
        f"<item><title>Story {n} {text}</title><link>{link}</link>{guid_xml}"
        f"<description>Summary of story {n}.</description>"
        f"<pubDate>Mon, 01 Jun 2026 0{n % 10}:00:00 GMT</pubDate></item>"
    )


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><id>urn:atom</id>
<updated>2026-06-01T00:00:00Z</updated><link href="https://atom.example/"/>
<entry><title>Atom one</title><id>urn:atom:1</id><link href="https://atom.example/1"/>
<updated>2026-06-01T00:00:00Z</updated><summary>First</summary></entry>
<entry><title>Atom two</title><id>urn:atom:2</id><link href="https://atom.example/2"/>
<updated>2026-06-02T00:00:00Z</updated><content type="html">&lt;p&gt;Second
&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</content></entry>
</feed>"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://rdf.example/"><title>RDF</title><link>https://rdf.example/</link>
<description>d</description></channel>
<item rdf:about="https://rdf.example/1"><title>RDF one</title><link>https://rdf.example/1</link>
<description>One</description></item>
<item rdf:about="https://rdf.example/2"><title>RDF two</title><link>https://rdf.example/2</link>
<description>Two</description></item>
</rdf:RDF>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON",
        "items": [
            {"id": "1", "url": "https://json.example/1", "title": "JSON one", "content_text": "a"},
            {"id": "2", "url": "/2", "title": "JSON two", "content_html": "<p>b</p>"},
            {"url": "https://json.example/no-id", "title": "No id: dropped per the spec"},
        ],
    }
)


def wp_post(n: int) -> dict:
    return {
        "id": n,
        "date_gmt": f"2026-06-0{n}T04:30:56",
        "guid": {"rendered": f"https://wp.example/?p={n}"},
        "link": f"https://wp.example/post-{n}/",
        "title": {"rendered": f"WordPress post {n}"},
        "content": {"rendered": f"<p>Body of post {n}.</p>"},
        "excerpt": {"rendered": "<p>Excerpt</p>"},
    }


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>A news page | Site</title><link rel="canonical" href="https://page.example/news/1">
<meta property="og:title" content="A news page">
<meta property="article:published_time" content="2026-06-03T07:00:00+07:00"></head>
<body><nav><a href="/">Home</a></nav><article><h1>A news page</h1>
<p>The first paragraph of a real article, long enough to count as body text for the
extractor, which favours precision over recall and so wants real sentences.</p>
<p>A second paragraph carries on with more detail about the story and what it means for
readers across the region, with enough words to be kept by the extractor.</p>
</article></body></html>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>https://bomb.example/</link>
<description>d</description>
<item><title>Survivor &lol9;</title><link>https://bomb.example/1</link>
<guid>https://bomb.example/1</guid><description>&lol9;</description></item>
</channel></rss>"""

HOSTILE = rss(
    item(1, link="file:///etc/passwd", guid="h1")
    + item(2, link="javascript:alert(document.cookie)", guid="h2")
    + "<item><title>Relative to a file base</title><link>passwd</link><guid>h3</guid>"
    "<description>&lt;a href='file:///etc/shadow'&gt;x&lt;/a&gt;&lt;a href='javascript:evil()'"
    "&gt;y&lt;/a&gt;&lt;img src=x onerror=alert(1)&gt;</description></item>",
    extra="",
).replace('<rss version="2.0">', '<rss version="2.0" xml:base="file:///etc/">')


def routes() -> dict[str, Route | list[Route]]:
    xml = {"Content-Type": RSS}
    return {
        "/rss.xml": Route(rss(item(1) + item(2) + item(3)).encode(), headers=xml),
        "/relative.xml": Route(
            rss(item(1, link="/rel/1") + item(2, link="rel/2")).encode(), headers=xml
        ),
        "/atom.xml": Route(ATOM.encode(), headers={"Content-Type": "application/atom+xml"}),
        "/rdf.xml": Route(RDF.encode(), headers={"Content-Type": "application/rdf+xml"}),
        "/feed.json": Route(JSON_FEED.encode(), headers={"Content-Type": "application/feed+json"}),
        "/wp-json/wp/v2/posts?per_page=20&_embed=1": Route(
            json.dumps([wp_post(1), wp_post(2)]).encode(),
            headers={"Content-Type": "application/json", "X-WP-TotalPages": "2"},
        ),
        "/wp-json/wp/v2/posts?per_page=20&_embed=1&page=2": Route(
            json.dumps([wp_post(3)]).encode(),
            headers={"Content-Type": "application/json", "X-WP-TotalPages": "2"},
        ),
        "/page.html": Route(PAGE.encode(), headers={"Content-Type": "text/html; charset=utf-8"}),
        "/no-guids.xml": Route(rss(item(1, guid=None) + item(2, guid=None)).encode(), headers=xml),
        "/same-guids.xml": Route(
            rss(item(1, guid="same") + item(2, guid="same") + item(3, guid="same")).encode(),
            headers=xml,
        ),
        # Declared UTF-8, really Windows-1252: still read, with a warning.
        "/encoding.xml": Route(
            rss(item(9, text="café", link="https://site.example/café"), encoding="utf-8").encode(
                "cp1252"
            ),
            headers=xml,
        ),
        "/etag.xml": Route(rss(item(1) + item(2)).encode(), headers=xml, etag='"v1"'),
        "/error.xml": Route(b"oops", status=500),
        "/drip.xml": Route(rss(item(1)).encode(), headers=xml, drip=0.2),
        "/big.xml": Route(b"<rss>" + b" " * (1024 * 1024) + b"</rss>", headers=xml),
        "/bomb.xml": Route(
            raw=gzip_bomb(1024**3), headers={"Content-Type": RSS, "Content-Encoding": "gzip"}
        ),
        "/loop-a.xml": Route(status=301, headers={"Location": "/loop-b.xml"}),
        "/loop-b.xml": Route(status=301, headers={"Location": "/loop-a.xml"}),
        "/laughs.xml": Route(BILLION_LAUGHS.encode(), headers=xml),
        "/hostile.xml": Route(HOSTILE.encode(), headers=xml),
    }


# source name -> (path, kind, good entries it must store)
SOURCES = {
    "rss": ("/rss.xml", "auto", 3),
    "relative": ("/relative.xml", "rss", 2),
    "atom": ("/atom.xml", "auto", 2),
    "rdf": ("/rdf.xml", "rdf", 2),
    "jsonfeed": ("/feed.json", "auto", 2),
    "wordpress": ("/", "wordpress", 3),
    "page": ("/page.html", "page", 1),
    "no-guids": ("/no-guids.xml", "auto", 2),
    "same-guids": ("/same-guids.xml", "auto", 3),
    "encoding": ("/encoding.xml", "auto", 1),
    "etag": ("/etag.xml", "auto", 2),
    "laughs": ("/laughs.xml", "auto", 1),
    "hostile": ("/hostile.xml", "auto", 3),
}
FAULTY = {
    "error": ("/error.xml", "HTTP 500"),
    "drip": ("/drip.xml", "within"),
    "big": ("/big.xml", "larger"),
    "bomb": ("/bomb.xml", "larger"),
    "loop": ("/loop-a.xml", "loop"),
}


def write_sources(workspace: Workspace, sources: list[dict]) -> Workspace:
    path = workspace.root / "sources.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["sources"] = sources
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return load_workspace(workspace.root)


@pytest.fixture
def server() -> Iterator[TestServer]:
    with serve(routes()) as running:
        yield running


@pytest.fixture
def everything(workspace: Workspace, server: TestServer) -> Workspace:
    sources = [
        {"name": name, "url": server.url(path), "kind": kind}
        for name, (path, kind, _) in SOURCES.items()
    ]
    sources += [{"name": name, "url": server.url(path)} for name, (path, _) in FAULTY.items()]
    return write_sources(workspace, sources)


def by_name(reports: list[SourceReport]) -> dict[str, SourceReport]:
    return {report.name: report for report in reports}


def stored(workspace: Workspace) -> dict[str, list[Candidate]]:
    """Every inbox row, grouped by source (group members included)."""
    with open_inbox(workspace) as inbox:
        rows = inbox.db.execute("SELECT id FROM candidates").fetchall()
        found: dict[str, list[Candidate]] = {}
        for (row_id,) in rows:
            source = inbox.db.execute(
                "SELECT source FROM candidates WHERE id = ?", (row_id,)
            ).fetchone()[0]
            found.setdefault(source, []).append(inbox.get([row_id])[0])
        return found


def test_every_source_gathered_and_every_fault_reported_on_its_own_source(
    everything: Workspace, server: TestServer
) -> None:
    started = time.monotonic()
    reports = by_name(gather(everything, limits=FAST))
    assert time.monotonic() - started < 20  # the drip and the bomb did not hold it up

    for name, (_, _, count) in SOURCES.items():
        assert reports[name].status == "ok", (name, reports[name].reason)
        assert reports[name].new == count, name
    for name, (_, reason) in FAULTY.items():
        assert reports[name].status == "failed", name
        assert reason in reports[name].reason, (name, reports[name].reason)
        assert reports[name].errors == 1

    rows = stored(everything)
    assert {name: len(rows.get(name, [])) for name in SOURCES} == {
        name: count for name, (_, _, count) in SOURCES.items()
    }
    assert not any(name in rows for name in FAULTY)

    # Relative links were resolved against the feed's real URL.
    assert sorted(c.url for c in rows["relative"]) == [
        server.url("/rel/1"),
        server.url("/rel/2"),
    ]
    assert {c.url for c in rows["jsonfeed"]} == {"https://json.example/1", server.url("/2")}
    assert any("encoding" in note.lower() for note in reports["encoding"].notes)
    assert any("café" in c.title for c in rows["encoding"])
    (laughs,) = rows["laughs"]
    assert "lol" * 100 not in laughs.title + laughs.summary + laughs.text
    # WordPress: both pages read.
    assert sorted(c.title for c in rows["wordpress"]) == [f"WordPress post {n}" for n in (1, 2, 3)]


def test_hostile_links_never_become_clickable(everything: Workspace) -> None:
    gather(everything, limits=FAST)
    hostile = stored(everything)["hostile"]
    assert [c.url for c in hostile] == [None, None, None]
    for candidate in hostile:
        for bad in ("file:", "javascript:", "onerror", "<script"):
            assert bad not in candidate.summary
    # And the inbox JSON scripts read carries none of them either.
    result = run_cli("-w", str(everything.root), "inbox", "--json", "--source", "hostile")
    assert "file:" not in result.stdout and "javascript:" not in result.stdout


def test_second_gather_adds_no_rows_and_uses_conditional_get(
    everything: Workspace, server: TestServer
) -> None:
    gather(everything, limits=FAST)
    with open_inbox(everything) as inbox:
        rows = inbox.count()
    reports = by_name(gather(everything, limits=FAST))
    with open_inbox(everything) as inbox:
        assert inbox.count() == rows
    assert reports["etag"].status == "not modified"
    assert server.headers("/etag.xml")["if-none-match"] == '"v1"'
    assert reports["rss"].status == "unchanged"  # same body: not parsed again
    assert all(reports[name].new == 0 for name in SOURCES)
    # Failed sources back off instead of being hammered on every run.
    for name in FAULTY:
        assert reports[name].status == "skipped", name
        assert "backing off" in reports[name].reason


def test_an_updated_entry_updates_its_row(workspace: Workspace, server: TestServer) -> None:
    ws = write_sources(workspace, [{"name": "rss", "url": server.url("/rss.xml")}])
    gather(ws, limits=FAST)
    server.routes["/rss.xml"] = Route(
        rss(item(1, text="(updated)") + item(2) + item(3)).encode(), headers={"Content-Type": RSS}
    )
    (report,) = gather(ws, limits=FAST)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 2)
    titles = {c.title for c in stored(ws)["rss"]}
    assert "Story 1 (updated)" in titles


def test_auto_discovers_the_advertised_feed_and_skips_wp_json(
    workspace: Workspace, server: TestServer
) -> None:
    server.routes["/site/"] = Route(
        b"<!doctype html><html><head><title>Site</title>"
        b'<link rel="alternate" type="application/json" href="/wp-json/">'
        b'<link rel="alternate" type="application/rss+xml" title="Comments Feed" '
        b'href="/comments/feed/">'
        b'<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
        b"<body><p>Home</p></body></html>",
        headers={"Content-Type": "text/html"},
    )
    ws = write_sources(workspace, [{"name": "site", "url": server.url("/site/")}])
    (report,) = gather(ws, limits=FAST)
    assert report.status == "ok" and report.new == 3
    assert any(server.url("/rss.xml") in note for note in report.notes)
    assert server.count("/wp-json/") == 0 and server.count("/comments/feed/") == 0
    # The found feed is remembered: the next gather goes straight to it.
    site_hits = server.count("/site/")
    gather(ws, limits=FAST)
    assert server.count("/site/") == site_hits


def test_auto_tries_common_paths_but_not_a_redirect_home(
    workspace: Workspace, server: TestServer
) -> None:
    home = Route(
        b"<!doctype html><html><body><p>Home</p></body></html>",
        headers={"Content-Type": "text/html"},
    )
    server.routes["/blog/"] = home
    server.routes["/blog/feed/"] = Route(status=302, headers={"Location": "/blog/"})
    server.routes["/blog/rss.xml"] = Route(rss(item(7)).encode(), headers={"Content-Type": RSS})
    ws = write_sources(workspace, [{"name": "blog", "url": server.url("/blog/")}])
    (report,) = gather(ws, limits=FAST)
    assert report.new == 1
    (candidate,) = stored(ws)["blog"]
    assert candidate.title.startswith("Story 7")


def test_permanent_redirect_seen_repeatedly_moves_the_source(
    workspace: Workspace, server: TestServer
) -> None:
    server.routes["/old.xml"] = Route(status=301, headers={"Location": "/rss.xml"})
    ws = write_sources(workspace, [{"name": "moved", "url": server.url("/old.xml")}])
    notes = [gather(ws, limits=FAST)[0].notes for _ in range(3)]
    assert "seen 1x" in notes[0][0]
    assert "update sources.yaml" in notes[2][-1]
    before = server.count("/old.xml")
    gather(ws, limits=FAST)
    assert server.count("/old.xml") == before  # now read from the new address


def test_410_disables_and_429_backs_off_with_the_hosts_wait(
    workspace: Workspace, server: TestServer
) -> None:
    server.routes["/gone.xml"] = Route(status=410)
    server.routes["/busy.xml"] = Route(status=429, headers={"Retry-After": "7200"})
    ws = write_sources(
        workspace,
        [
            {"name": "gone", "url": server.url("/gone.xml")},
            {"name": "busy", "url": server.url("/busy.xml")},
        ],
    )
    first = by_name(gather(ws, limits=FAST))
    assert first["gone"].status == "failed" and "410" in first["gone"].reason
    assert first["busy"].status == "failed" and "retry after" in first["busy"].reason.lower()
    again = by_name(gather(ws, limits=FAST))
    assert again["gone"].status == "gone" and "sources.yaml" in again["gone"].reason
    assert again["busy"].status == "skipped"
    assert server.count("/gone.xml") == 1 and server.count("/busy.xml") == 1
    # Naming the source retries it at once (the editor knows it is fixed).
    server.routes["/busy.xml"] = Route(rss(item(1)).encode(), headers={"Content-Type": RSS})
    (retried,) = gather(ws, only="busy", limits=FAST)
    assert retried.status == "ok" and retried.new == 1


def test_full_text_fetches_the_article_behind_each_teaser(
    workspace: Workspace, server: TestServer
) -> None:
    server.routes["/teasers.xml"] = Route(
        rss(
            item(1, link=server.url("/page.html")) + item(2, link="file:///etc/passwd", guid="x")
        ).encode(),
        headers={"Content-Type": RSS},
    )
    ws = write_sources(
        workspace, [{"name": "teasers", "url": server.url("/teasers.xml"), "full_text": True}]
    )
    (report,) = gather(ws, limits=FAST)
    assert report.new == 2
    texts = {c.title: c.text for c in stored(ws)["teasers"]}
    assert "favours precision over recall" in texts["Story 1"]
    assert "root:" not in "".join(texts.values())
    assert server.count("/page.html") == 1
    gather(ws, limits=FAST)  # unchanged feed: no second article fetch
    assert server.count("/page.html") == 1


def test_a_local_file_source_is_read_only_when_configured_as_a_path(
    workspace: Workspace, tmp_path: Path
) -> None:
    feed = workspace.root / "feeds" / "local.xml"
    feed.parent.mkdir()
    feed.write_text(rss(item(1) + "<item><title>Rel</title><link>../secret</link></item>"))
    ws = write_sources(workspace, [{"name": "local", "url": "feeds/local.xml"}])
    (report,) = gather(ws)
    assert report.status == "ok" and report.new == 2
    urls = sorted(str(c.url) for c in stored(ws)["local"])
    assert urls == ["None", "https://site.example/story/1"]  # no file path became a link


def test_cli_gather_reports_failures_but_exits_zero(
    workspace: Workspace, server: TestServer
) -> None:
    write_sources(
        workspace,
        [
            {"name": "good", "url": server.url("/rss.xml")},
            {"name": "broken", "url": server.url("/error.xml")},
        ],
    )
    result = run_cli("-w", str(workspace.root), "gather")
    assert result.returncode == 0, result.stderr
    assert "broken" in result.stdout and "HTTP 500" in result.stdout
    assert "good" in result.stdout
    listed = run_cli("-w", str(workspace.root), "inbox")
    assert "Story 1" in listed.stdout and "3 candidates" in listed.stdout


def test_cli_gather_with_an_invalid_source_fails_with_one_line(workspace: Workspace) -> None:
    path = workspace.root / "sources.yaml"
    path.write_text(
        path.read_text().replace(
            "sources: []", "sources:\n  - name: x\n    url: file:///etc/passwd"
        )
    )
    result = run_cli("-w", str(workspace.root), "gather")
    assert result.returncode == 1
    assert "sources.yaml" in result.stderr and "url" in result.stderr
    assert result.stderr.count("\n") == 1


def test_cli_gather_of_an_unknown_source_names_the_known_ones(workspace: Workspace) -> None:
    write_sources(workspace, [{"name": "local", "url": "feed.xml"}])
    result = run_cli("-w", str(workspace.root), "gather", "--source", "nope")
    assert result.returncode == 1
    assert "no source named 'nope'" in result.stderr and "local" in result.stderr
