"""Source readers on bytes: RSS, Atom, RDF, JSON Feed, WordPress REST, web pages, dispatch."""

from __future__ import annotations

import datetime as dt
import html
import json
import time
import tracemalloc
from pathlib import Path

import pytest

from newsletter.gather.entries import FeedError, html_to_text, sanitize_html, text_to_html
from newsletter.gather.feeds import parse_feed
from newsletter.gather.jsonfeed import parse_jsonfeed
from newsletter.gather.pages import discover_feeds, extract_article, parse_page
from newsletter.gather.parse import detect_kind, parse_response
from newsletter.gather.wordpress import MAX_PAGES, parse_wordpress, wordpress_posts_url

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FEED_URL = "https://example.org/feed.xml"
UTC = dt.UTC

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel xml:base="https://example.org/blog/">
  <title>Blog &amp; Co</title>
  <link>/blog/</link>
  <item>
    <title>  First
      post </title>
    <link>posts/1</link>
    <guid isPermaLink="false">post-1</guid>
    <description>&lt;p&gt;Read &lt;a href="/about"&gt;about&lt;/a&gt;
      &lt;img src="img/a.png"&gt;&lt;/p&gt;&lt;p&gt;Second paragraph.&lt;/p&gt;</description>
    <pubDate>Tue, 03 Jun 2025 10:00:00 +0200</pubDate>
    <author>jane@example.org (Jane Doe)</author>
    <category>AI</category>
    <category>Vietnam</category>
    <category>AI</category>
    <media:content url="https://cdn.example.org/1.jpg" medium="image"/>
  </item>
  <item>
    <title>Second post</title>
    <link>https://example.org/blog/posts/2</link>
    <description>No guid here.</description>
  </item>
</channel>
</rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example.org/">
  <title type="html">Atom &lt;em&gt;News&lt;/em&gt;</title>
  <link rel="alternate" href="https://atom.example.org/"/>
  <id>urn:uuid:feed</id>
  <updated>2025-06-04T12:00:00Z</updated>
  <entry>
    <title type="html">Chips &amp;amp; &lt;b&gt;AI&lt;/b&gt;</title>
    <link rel="alternate" href="/2025/chips"/>
    <id>tag:atom.example.org,2025:chips</id>
    <published>2025-06-04T09:30:00+07:00</published>
    <updated>2025-06-05T00:00:00Z</updated>
    <author><name>Le Van</name></author>
    <category term="semiconductors"/>
    <summary>Short teaser.</summary>
    <content type="html">&lt;h2&gt;Fabs&lt;/h2&gt;
      &lt;p&gt;Full &lt;a href="more"&gt;text&lt;/a&gt;.&lt;/p&gt;</content>
  </entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.org/">
    <title>RDF Site</title>
    <link>https://rdf.example.org/</link>
    <items><rdf:Seq><rdf:li rdf:resource="https://rdf.example.org/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://rdf.example.org/a">
    <title>RDF item</title>
    <link>https://rdf.example.org/a</link>
    <description>Plain description.</description>
    <dc:date>2025-06-01T08:00:00+00:00</dc:date>
    <dc:creator>Tran Thi</dc:creator>
  </item>
</rdf:RDF>"""

UNSAFE_RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Unsafe</title>
  <item>
    <title>File link</title>
    <link>file:///etc/passwd</link>
    <guid isPermaLink="false">same</guid>
    <description>&lt;p onclick="steal()"&gt;Hi &lt;a href="file:///etc/passwd"&gt;pw&lt;/a&gt;
      &lt;a href="javascript:alert(1)"&gt;js&lt;/a&gt;&lt;/p&gt;
      &lt;script&gt;alert(1)&lt;/script&gt;
    </description>
  </item>
  <item>
    <title>Script link</title>
    <link>javascript:alert(1)</link>
    <guid isPermaLink="false">same</guid>
    <description>&lt;img src="data:image/png;base64,AAAA" onerror="x()"&gt;Text</description>
  </item>
</channel></rss>"""


RELATIVE_RSS = b"""<rss version="2.0"><channel><title>T</title><item><title>A</title>
  <link>/p/2</link><description>&lt;a href="x"&gt;x&lt;/a&gt;</description>
</item></channel></rss>"""


def rss_with(title: str, *, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>{title}</title><link>https://e.org/1</link></item>"
        "<item><title>Two</title><link>https://e.org/2</link></item></channel></rss>"
    )


def billion_laughs(encoding: str = "utf-8") -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE rss [{entities}]>\n'
        '<rss version="2.0"><channel><title>Bomb</title><item><title>&lol9;</title>'
        "<link>https://e.org/bomb</link></item></channel></rss>"
    ).encode(encoding)


# --------------------------------------------------------------------------- helpers


def test_sanitize_html_resolves_against_base_and_drops_unsafe_links() -> None:
    markup = (
        '<a href="/x">x</a><img src="i.png"><blockquote cite="../q">q</blockquote>'
        '<a href="javascript:alert(1)">j</a><a href="mailto:ed@example.org">m</a>'
    )
    clean = sanitize_html(markup, base="https://e.org/a/b")
    assert 'href="https://e.org/x"' in clean
    assert 'src="https://e.org/a/i.png"' in clean
    assert 'cite="https://e.org/q"' in clean
    assert "javascript" not in clean
    assert 'href="mailto:ed@example.org"' in clean
    # Without a web base a relative link cannot be trusted: it is dropped, never kept relative.
    assert "href" not in sanitize_html('<a href="/x">x</a>')
    assert "src" not in sanitize_html('<img src="i.png">', base="/local/file.xml")


def test_html_to_text_and_back() -> None:
    text = html_to_text("<h2>Head</h2><p>One &amp;\n two<br>three</p><ul><li>a</li><li>b</li></ul>")
    assert text == "Head\n\nOne & two three\n\na\n\nb"
    assert text_to_html("a < b\n\nsecond\nline") == "<p>a &lt; b</p><p>second line</p>"


# --------------------------------------------------------------------------- RSS, Atom, RDF


def test_rss_relative_links_resolve_against_xml_base() -> None:
    feed = parse_feed(RSS, url=FEED_URL, content_type="application/rss+xml; charset=utf-8")
    assert feed.title == "Blog & Co"
    assert feed.link == "https://example.org/blog/"
    assert feed.warnings == []
    first, second = feed.entries
    assert first.title == "First post"
    assert first.url == "https://example.org/blog/posts/1"
    assert first.guid == "post-1"
    assert first.published == dt.datetime(2025, 6, 3, 8, 0, tzinfo=UTC)
    assert first.updated is None  # no fallback to the publication date
    assert first.author == "Jane Doe"
    assert first.tags == ["AI", "Vietnam"]
    assert first.image == "https://cdn.example.org/1.jpg"
    assert 'href="https://example.org/about"' in first.summary
    assert 'src="https://example.org/blog/img/a.png"' in first.summary
    assert first.text == "Read about\n\nSecond paragraph."
    assert second.guid is None  # missing GUID: None, never invented here
    assert second.summary == "No guid here."


def test_rss_relative_links_resolve_against_the_final_url() -> None:
    body = RELATIVE_RSS
    entry = parse_feed(body, url="https://news.example.org/rss/all", content_type=None).entries[0]
    assert entry.url == "https://news.example.org/p/2"
    assert 'href="https://news.example.org/rss/x"' in entry.summary


def test_local_feed_file_drops_relative_links() -> None:
    body = RELATIVE_RSS
    entry = parse_feed(body, url="/home/ed/feeds/saved.xml", content_type=None).entries[0]
    assert entry.url is None
    assert "href" not in entry.summary


def test_atom_feed() -> None:
    feed = parse_feed(
        ATOM, url="https://atom.example.org/feed", content_type="application/atom+xml"
    )
    assert feed.title == "Atom News"
    (entry,) = feed.entries
    assert entry.title == "Chips & AI"
    assert entry.url == "https://atom.example.org/2025/chips"
    assert entry.guid == "tag:atom.example.org,2025:chips"
    assert entry.published == dt.datetime(2025, 6, 4, 2, 30, tzinfo=UTC)
    assert entry.updated == dt.datetime(2025, 6, 5, tzinfo=UTC)
    assert entry.author == "Le Van"
    assert entry.tags == ["semiconductors"]
    assert entry.text == "Fabs\n\nFull text."  # the content, not the shorter summary
    assert 'href="https://atom.example.org/more"' in entry.summary


def test_rdf_feed() -> None:
    feed = parse_feed(
        RDF, url="https://rdf.example.org/index.rdf", content_type="application/rdf+xml"
    )
    assert feed.title == "RDF Site"
    (entry,) = feed.entries
    assert (entry.title, entry.url, entry.author) == (
        "RDF item",
        "https://rdf.example.org/a",
        "Tran Thi",
    )
    assert entry.published == dt.datetime(2025, 6, 1, 8, tzinfo=UTC)
    assert entry.text == "Plain description."


def test_unsafe_links_and_scripts_are_dropped() -> None:
    feed = parse_feed(UNSAFE_RSS, url=FEED_URL, content_type="application/rss+xml")
    first, second = feed.entries
    assert first.url is None and second.url is None
    summaries = first.summary + second.summary
    for bad in ("file:", "javascript:", "data:", "<script", "onclick", "onerror", "alert"):
        assert bad not in summaries
    assert first.text == "Hi pw js"
    # Repeated GUIDs: both entries are returned; the inbox decides what is a duplicate.
    assert [first.guid, second.guid] == ["same", "same"]


def test_hostile_xml_base_yields_no_file_links_or_ids() -> None:
    body = b"""<rss version="2.0" xml:base="file:///etc/"><channel><title>T</title><item>
      <title>A</title><link>passwd</link><guid>h3</guid>
      <description>&lt;img src="shadow"&gt;&lt;a href="group"&gt;g&lt;/a&gt;</description>
    </item></channel></rss>"""
    (entry,) = parse_feed(body, url=FEED_URL, content_type=None).entries
    assert (entry.url, entry.guid) == (None, None)
    assert "file:" not in entry.summary and "src" not in entry.summary


def test_billion_laughs_is_not_expanded() -> None:
    for encoding in ("utf-8", "utf-16"):
        tracemalloc.start()
        started = time.perf_counter()
        try:
            feed = parse_feed(billion_laughs(encoding), url=FEED_URL, content_type=None)
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert elapsed < 2, encoding
        assert peak < 50 * 2**20, encoding
        (entry,) = feed.entries
        assert "lollol" not in entry.title
        assert entry.url == "https://e.org/bomb"


def test_declared_utf8_but_windows_1252_bytes() -> None:
    body = rss_with("Café – “quoted”").encode("cp1252")
    feed = parse_feed(body, url=FEED_URL, content_type="application/rss+xml")
    assert [e.title for e in feed.entries] == ["Café – “quoted”", "Two"]
    assert any("windows-1252" in w for w in feed.warnings)


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/xml"])
def test_header_says_latin1_but_body_is_utf8(content_type: str) -> None:
    body = rss_with("Tiếng Việt – “AI”").encode("utf-8")
    feed = parse_feed(body, url=FEED_URL, content_type=f"{content_type}; charset=iso-8859-1")
    assert [e.title for e in feed.entries] == ["Tiếng Việt – “AI”", "Two"]
    assert any("iso-8859-1" in w and "UTF-8" in w for w in feed.warnings)


def test_malformed_xml_without_entries_is_an_error() -> None:
    body = b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel><title>T</title></chan'
    with pytest.raises(FeedError, match=r"^malformed XML: .+ \(line \d+\)$"):
        parse_feed(body, url=FEED_URL, content_type="application/rss+xml")


def test_malformed_xml_with_entries_is_a_warning() -> None:
    feed = parse_feed(rss_with("Caf&eacute;").encode(), url=FEED_URL, content_type=None)
    assert len(feed.entries) == 2
    assert any(w.startswith("malformed XML, read leniently: ") for w in feed.warnings)


def test_xml_that_is_not_a_feed() -> None:
    with pytest.raises(FeedError, match="no entries and not a feed"):
        parse_feed(
            b"<?xml version='1.0'?><note><to>Ed</to></note>", url=FEED_URL, content_type=None
        )


def test_empty_feed_is_not_an_error() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, url=FEED_URL, content_type=None)
    assert (feed.entries, feed.title) == ([], "Quiet")


# --------------------------------------------------------------------------- JSON Feed


def test_jsonfeed_1_0() -> None:
    body = {
        "version": "https://jsonfeed.org/version/1",
        "title": "JSON 1.0",
        "home_page_url": "https://j.example.org/",
        "author": {"name": "Feed Author"},
        "items": [
            {
                "id": "1",
                "url": "/posts/1",
                "title": "Plain",
                "content_text": "First paragraph.\n\nSecond <para>.",
                "date_published": "2025-06-01T10:00:00+07:00",
                "image": "/img/1.png",
                "tags": ["ai", "ai", 3],
            }
        ],
    }
    feed = parse_jsonfeed(json.dumps(body).encode(), url="https://j.example.org/feed.json")
    (entry,) = feed.entries
    assert (feed.title, feed.link) == ("JSON 1.0", "https://j.example.org/")
    assert entry.url == "https://j.example.org/posts/1"
    assert entry.image == "https://j.example.org/img/1.png"
    assert entry.author == "Feed Author"  # an item without an author inherits the feed's
    assert entry.published == dt.datetime(2025, 6, 1, 3, tzinfo=UTC)
    assert entry.text == "First paragraph.\n\nSecond <para>."
    assert "&lt;para&gt;" in entry.summary
    assert entry.tags == ["ai"]


def test_jsonfeed_1_1_ids_authors_dates_and_next_url() -> None:
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON 1.1",
        "next_url": "https://j.example.org/feed.json?page=2",
        "items": [
            {
                "id": 42,
                "external_url": "https://elsewhere.example.com/story",
                "title": "Numbered",
                "content_html": '<p onclick="x()">Hi <a href="javascript:alert(1)">js</a></p>'
                "<script>alert(1)</script>",
                "date_published": "yesterday",
                "date_modified": "2025-06-02T00:00:00Z",
                "authors": [{"url": "https://a.example"}, {"name": "Second Author"}],
                "banner_image": "https://j.example.org/banner.png",
            },
            {"title": "No id", "url": "https://j.example.org/x", "content_text": "dropped"},
            {"id": "", "title": "Empty id", "content_text": "dropped"},
            {"id": "file", "url": "file:///etc/passwd", "content_text": "kept, without link"},
        ],
    }
    feed = parse_jsonfeed(json.dumps(body).encode(), url="https://j.example.org/feed.json")
    numbered, local = feed.entries
    assert numbered.guid == "42"
    assert numbered.url == "https://elsewhere.example.com/story"
    assert numbered.published is None  # a bad date is dropped, not guessed
    assert numbered.updated == dt.datetime(2025, 6, 2, tzinfo=UTC)
    assert numbered.author == "Second Author"
    assert numbered.image == "https://j.example.org/banner.png"
    assert numbered.summary == '<p>Hi <a rel="noopener noreferrer nofollow">js</a></p>'
    assert local.url is None
    assert feed.warnings == ["2 item(s) without an id dropped (JSON Feed requires one)"]
    assert feed.next_url == "https://j.example.org/feed.json?page=2"


def test_jsonfeed_unsafe_next_url_and_invalid_json() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "next_url": "file:///x", "items": []}'
    assert parse_jsonfeed(body, url="https://j.example.org/f.json").next_url is None
    with pytest.raises(FeedError, match=r"^invalid JSON: .+ \(line 2\)$"):
        parse_jsonfeed(b'{"version": \n oops}', url="https://j.example.org/f.json")
    with pytest.raises(FeedError, match="not a feed: JSON without a JSON Feed version"):
        parse_jsonfeed(b'{"items": []}', url="https://j.example.org/f.json")


# --------------------------------------------------------------------------- WordPress


def wordpress_post() -> dict:
    post = json.loads(next(SAMPLES.glob("003_*.txt")).read_text(encoding="utf-8"))
    post["_embedded"] = {
        "author": [{"id": 5, "name": "DataCore Research"}],
        "wp:featuredmedia": [{"source_url": "/wp-content/uploads/2026/06/rack.jpg"}],
        "wp:term": [
            [{"name": "AI &amp; Cloud"}],
            [{"name": "Vietnam"}, {"name": "AI &amp; Cloud"}],
        ],
    }
    return post


API = "https://blog.datacore.vn/wp-json/wp/v2/posts?per_page=20&_embed=1"


def test_wordpress_seed_post() -> None:
    post = wordpress_post()
    feed = parse_wordpress(json.dumps([post]).encode(), url=API)
    (entry,) = feed.entries
    assert entry.guid == "https://blog.datacore.vn/?p=1374"
    assert entry.url == "https://blog.datacore.vn/en/vietnam-sovereign-ai-infrastructure-2026/"
    assert entry.title == html.unescape(post["title"]["rendered"])
    assert entry.published == dt.datetime(2026, 6, 12, 4, 30, 56, tzinfo=UTC)
    assert entry.updated == dt.datetime(2026, 6, 12, 4, 44, 6, tzinfo=UTC)
    assert entry.author == "DataCore Research"
    assert entry.image == "https://blog.datacore.vn/wp-content/uploads/2026/06/rack.jpg"
    assert entry.tags == ["AI & Cloud", "Vietnam"]
    assert "<script" not in entry.summary and "<p>" in entry.summary
    assert "sovereign" in entry.text.lower() and "<" not in entry.text
    assert "\n\n" in entry.text
    assert feed.next_url is None


def test_wordpress_single_post_without_embeds_or_guid() -> None:
    post = json.loads(next(SAMPLES.glob("003_*.txt")).read_text(encoding="utf-8"))
    del post["guid"], post["date_gmt"]
    (entry,) = parse_wordpress(json.dumps(post).encode(), url=API).entries
    assert entry.guid == "1374"
    assert entry.published == dt.datetime(2026, 6, 12, 11, 30, 56, tzinfo=UTC)  # site-local `date`
    assert (entry.author, entry.image, entry.tags) == (None, None, [])


def test_wordpress_excerpt_when_content_is_protected() -> None:
    post = {
        "id": 7,
        "link": "https://wp.example.org/p7",
        "title": {"rendered": "Members only"},
        "content": {"rendered": "", "protected": True},
        "excerpt": {"rendered": "<p>The teaser.</p>"},
    }
    (entry,) = parse_wordpress(json.dumps([post]).encode(), url=API).entries
    assert entry.text == "The teaser."


def test_wordpress_pagination() -> None:
    body = json.dumps([wordpress_post()]).encode()
    feed = parse_wordpress(body, url=API, headers={"X-WP-TotalPages": "3"})
    assert feed.next_url == f"{API}&page=2"
    feed = parse_wordpress(body, url=f"{API}&page=2", headers={"X-WP-TotalPages": "3"})
    assert feed.next_url == f"{API}&page=3"
    assert (
        parse_wordpress(body, url=f"{API}&page=3", headers={"x-wp-totalpages": "3"}).next_url
        is None
    )
    capped = parse_wordpress(body, url=f"{API}&page={MAX_PAGES}", headers={"x-wp-totalpages": "99"})
    assert capped.next_url is None
    link = '<https://blog.datacore.vn/wp-json/wp/v2/posts?page=2>; rel="next"'
    assert parse_wordpress(body, url=API, headers={"Link": link}).next_url == (
        "https://blog.datacore.vn/wp-json/wp/v2/posts?page=2"
    )
    unsafe = '<file:///etc/passwd>; rel="next"'
    assert parse_wordpress(body, url=API, headers={"Link": unsafe}).next_url is None


def test_wordpress_errors() -> None:
    error = b'{"code": "rest_no_route", "message": "No route was found.", "data": {"status": 404}}'
    with pytest.raises(FeedError, match=r"^WordPress API error: rest_no_route: No route"):
        parse_wordpress(error, url=API)
    with pytest.raises(FeedError, match="not a WordPress REST API response"):
        parse_wordpress(b'[{"id": 1}]', url=API)
    assert parse_wordpress(b"[]", url=API).entries == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://x.org/", "https://x.org/wp-json/wp/v2/posts?per_page=20&_embed=1"),
        ("https://x.org", "https://x.org/wp-json/wp/v2/posts?per_page=20&_embed=1"),
        ("https://x.org/wp-json/", "https://x.org/wp-json/wp/v2/posts?per_page=20&_embed=1"),
        ("https://x.org/blog/?p=3", "https://x.org/blog/wp-json/wp/v2/posts?per_page=20&_embed=1"),
        (
            "https://x.org/wp-json/wp/v2/posts?categories=5&per_page=5",
            "https://x.org/wp-json/wp/v2/posts?categories=5&per_page=5&_embed=1",
        ),
    ],
)
def test_wordpress_posts_url(given: str, expected: str) -> None:
    assert wordpress_posts_url(given) == expected


def test_wordpress_posts_url_refuses_non_web_urls() -> None:
    with pytest.raises(FeedError):
        wordpress_posts_url("file:///var/www/wp-json/")


# --------------------------------------------------------------------------- web pages

PAGE_URL = "https://news.example.org/world/ai-hub?utm_source=rss"


def article_page(*, extra: str = "", charset: str = "utf-8") -> str:
    lines = next(SAMPLES.glob("001_*.txt")).read_text(encoding="utf-8").splitlines()
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines[8:] if line.strip())
    return f"""<!doctype html>
<html lang="en"><head>
<meta charset="{charset}">
<title>Vietnam's AI ambition | Example News</title>
<meta property="og:title" content="Vietnams Ambition to Become the Asia-Pacific AI Expertise Hub">
<meta property="og:site_name" content="Example News">
<meta property="og:image" content="/images/ai-hub.jpg">
<meta property="og:description" content="Vietnam wants to be the region's AI centre.">
<meta property="article:published_time" content="2025-12-03T13:42:00+07:00">
<meta name="author" content="Minh Anh">
<link rel="canonical" href="/world/ai-hub">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Vietnams Ambition to Become the Asia-Pacific AI Expertise Hub</h1>
<time datetime="2025-12-03T13:42:00+07:00">03 Dec 2025</time>
{extra}
{paragraphs}
</article>
<footer>Copyright 2019 Example News</footer>
</body></html>"""


def test_page_becomes_one_entry() -> None:
    feed = parse_page(article_page().encode(), url=PAGE_URL)
    (entry,) = feed.entries
    assert entry.title == "Vietnams Ambition to Become the Asia-Pacific AI Expertise Hub"
    assert entry.url == entry.guid == "https://news.example.org/world/ai-hub"
    assert entry.published == dt.datetime(2025, 12, 3, tzinfo=UTC)
    assert entry.author == "Minh Anh"
    assert entry.image == "https://news.example.org/images/ai-hub.jpg"
    assert entry.summary == "<p>Vietnam wants to be the region's AI centre.</p>"
    assert "Resolution 57-NQ/TW" in entry.text
    assert "Home" not in entry.text.split("\n\n")[0]
    assert "\n\n" in entry.text
    assert feed.title == "Example News"


def test_page_prune_and_invalid_xpath() -> None:
    promo = (
        '<p class="promo">Subscribe to our premium briefing for only five dollars a month now.</p>'
    )
    body = article_page(extra=promo).encode()
    assert "premium briefing" in extract_article(body, url=PAGE_URL)
    pruned = extract_article(body, url=PAGE_URL, prune=['//p[@class="promo"]'])
    assert "premium briefing" not in pruned and "Resolution 57-NQ/TW" in pruned
    with pytest.raises(FeedError, match=r"^prune: invalid XPath"):
        parse_page(body, url=PAGE_URL, prune=["//p[@class="])


def test_page_decoded_by_meta_charset() -> None:
    body = article_page(
        extra="<p>Café crème – a long enough paragraph.</p>", charset="windows-1252"
    )
    text = extract_article(body.encode("cp1252", errors="replace"), url=PAGE_URL)
    assert "Café crème – a long" in text


def test_page_without_text_is_an_error() -> None:
    empty = b"<html><head><title>App</title></head><body><script>app()</script></body></html>"
    with pytest.raises(FeedError, match="no article text found on the page"):
        parse_page(empty, url=PAGE_URL)
    assert extract_article(empty, url=PAGE_URL) == ""


def test_discover_feeds() -> None:
    page = b"""<html><head><base href="https://www.example.org/news/">
    <link rel="alternate" type="application/rss+xml" title="Site" href="feed/">
    <link rel="alternate" type="application/rss+xml" title="Site &raquo; Comments Feed"
          href="https://www.example.org/comments/feed/">
    <link rel="alternate" type="application/json" href="https://www.example.org/wp-json/wp/v2/posts/7">
    <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="/atom.xml">
    <link rel="alternate" type="application/feed+json" href="feed.json">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate" type="application/rss+xml" href="https://www.example.org/news/feed/">
    <link rel="alternate" type="text/html" hreflang="vi" href="/vi/">
    <link rel="stylesheet" type="text/css" href="/s.css">
    </head><body></body></html>"""
    assert discover_feeds(page, url="https://example.org/") == [
        "https://www.example.org/news/feed/",
        "https://www.example.org/atom.xml",
        "https://www.example.org/news/feed.json",
    ]
    assert discover_feeds(b"", url="https://example.org/") == []


# --------------------------------------------------------------------------- dispatch


def test_parse_response_sniffs_every_format() -> None:
    jsonfeed = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1"}]}'
    wordpress = json.dumps([wordpress_post()]).encode()
    cases = {
        "rss": b"\xef\xbb\xbf  <!-- generated -->\n" + RSS,
        "atom": ATOM,
        "rdf": RDF,
        "jsonfeed": jsonfeed,
        "wordpress": wordpress,
        "page": article_page().encode(),
    }
    for kind, body in cases.items():
        assert detect_kind(body) in ({"rss"} if kind in ("atom", "rdf") else {kind})
        auto = parse_response(body, url=FEED_URL, content_type=None, kind="auto")
        explicit = parse_response(body, url=FEED_URL, content_type=None, kind=kind)
        assert auto.entries and auto.entries == explicit.entries, kind
    assert detect_kind(billion_laughs("utf-16")) == "rss"


def test_parse_response_errors() -> None:
    with pytest.raises(FeedError, match="not a feed: JSON without a JSON Feed version"):
        parse_response(b'{"items": []}', url=FEED_URL, content_type=None, kind="auto")
    with pytest.raises(FeedError, match=r"^invalid JSON: "):
        parse_response(b"[1, 2", url=FEED_URL, content_type=None, kind="auto")
    with pytest.raises(FeedError, match="no entries and not a feed"):
        parse_response(b"just some words", url=FEED_URL, content_type=None, kind="auto")
    with pytest.raises(FeedError, match="unknown source kind"):
        parse_response(RSS, url=FEED_URL, content_type=None, kind="gopher")


def test_parse_response_passes_wordpress_headers() -> None:
    body = json.dumps([wordpress_post()]).encode()
    feed = parse_response(
        body,
        url=API,
        content_type="application/json",
        kind="auto",
        headers={"X-WP-TotalPages": "2"},
    )
    assert feed.next_url == f"{API}&page=2"
