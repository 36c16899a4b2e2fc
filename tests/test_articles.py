"""newsletter.articles on the real seed articles and against a real local HTTP server."""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from httpserver import running

from newsletter.articles import MAX_BYTES, USER_AGENT, Article, parse_article, read_article
from newsletter.errors import ArticleError

SEEDS = Path(__file__).resolve().parent.parent / "samples"  # copies of ../shared/seeds


def seed(number: str) -> Path:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path


def seed_lines(number: str) -> list[str]:
    """The seed's non-empty lines, whitespace collapsed the way articles.py collapses it."""
    lines = seed(number).read_text(encoding="utf-8").splitlines()
    return [" ".join(line.split()) for line in lines if line.strip()]


def paragraphs(article: Article) -> list[str]:
    return article.text.split("\n\n")


# --------------------------------------------------------------------------- seeds


def test_seed_001_scraped_text_with_dateline_and_repeated_title() -> None:
    article = read_article(str(seed("001")))
    title = "Vietnams Ambition to Become the Asia-Pacific AI Expertise Hub"
    assert article.title == title
    assert article.published == datetime.date(2025, 12, 3)
    assert article.url is None
    assert article.source is None
    assert "Share article" not in article.text
    assert title not in article.text
    assert "Politics & Society" not in article.text
    body = paragraphs(article)
    assert body[0].startswith("The declaration of Nguyen Manh Hung")
    lines = seed_lines("001")
    assert body == lines[lines.index("Share article") + 2 :]  # every real paragraph, in order
    assert body[-1].endswith("realize its vision as a center of AI expertise.")
    assert "\n\n\n" not in article.text


def test_seed_002_navigation_run_dateline_and_captions_dropped() -> None:
    article = read_article(str(seed("002")))
    title = "Vietnam sees int’l cooperation as key to hi-tech development"
    assert article.title == title
    assert article.published == datetime.date(2024, 9, 23)
    assert "WORDS ON THE STREET" not in article.text
    assert "Sep 23, 2024" not in article.text
    assert "Source: VNA" not in article.text
    assert "Overview of the event." not in article.text
    junk = {"Sep 23, 2024 / 14:22", title}
    expected = [
        line
        for line in seed_lines("002")[1:]  # [0] is the navigation run
        if line not in junk and "Source: VNA" not in line and line != "Overview of the event."
    ]
    assert paragraphs(article) == expected
    assert paragraphs(article)[2].startswith("“In this context, Vietnam welcomes US businesses")


def test_seed_003_wordpress_json() -> None:
    article = read_article(str(seed("003")))
    assert article.title == "Vietnam’s Sovereign AI Push: Why Local AI Infrastructure Can't Wait"
    assert article.url == "https://blog.datacore.vn/en/vietnam-sovereign-ai-infrastructure-2026/"
    assert article.published == datetime.date(2026, 6, 12)
    assert article.source == "blog.datacore.vn"
    for junk in ("<", "@context", "&nbsp;", "&#", "\u00a0", "Table Of Contents"):
        assert junk not in article.text
    body = paragraphs(article)
    assert "TL;DR - Key Takeaways" in body
    assert "Frequently Asked Questions" in body
    assert (
        "Together, these three signals - a local media debate, a foreign vendor IPO, and a "
        "$17.5 billion infrastructure bet - define why Vietnam's sovereign AI question is no "
        "longer theoretical." in body
    )
    # entities decoded and inline tags joined without stray spaces
    assert (
        "Published: June 11, 2026 | Last updated: June 11, 2026 | Author: DataCore Research" in body
    )
    # the table of contents only repeats the headings: each heading appears once
    assert body.count("Why Is Vietnam Debating AI Infrastructure Sovereignty in 2026?") == 1


def test_seed_004_no_headline_photo_files_and_captions_dropped() -> None:
    article = read_article(str(seed("004")))
    assert article.title == ""  # no headline line in the text; the caller marks it TODO
    assert article.published is None
    assert ".jpg" not in article.text
    assert ".jpeg" not in article.text
    assert "Photo: VA." not in article.text
    body = paragraphs(article)
    assert "Train 100 PhD researchers" in body
    assert "Progress in national digital transformation" in body
    alliance = next(line for line in seed_lines("004") if "Alliance, developing" in line)
    assert alliance in body
    assert "Âu Lạc AI Alliance" in alliance
    assert body[0].startswith("At the 2025 national conference")
    assert body[-1].endswith("Binh declared.")  # the closing byline "Thai Khang" is dropped
    expected = [
        line
        for line in seed_lines("004")
        if not line.endswith((".jpg", ".jpeg", "Photo: VA.")) and line != "Thai Khang"
    ]
    assert body == expected


def test_parse_article_accepts_bytes_and_wordpress_list() -> None:
    data = seed("003").read_bytes()
    assert parse_article(data) == read_article(str(seed("003")))
    as_list = json.dumps([json.loads(data)]).encode()
    assert parse_article(as_list).title == read_article(str(seed("003"))).title


# --------------------------------------------------------------------------- parsing errors


def test_json_that_is_not_a_wordpress_post_is_refused() -> None:
    with pytest.raises(ArticleError, match="not a WordPress post"):
        parse_article('{"items": []}', url="https://example.com/feed.json")


def test_text_without_body_is_refused() -> None:
    with pytest.raises(ArticleError, match="no body text"):
        parse_article("Share article\n\n   \n")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(ArticleError, match="file not found") as caught:
        read_article(str(missing))
    assert str(missing) in str(caught.value)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Headline here\n\nCafé au lait in Hà Nội.\n".encode("cp1252", "replace"))
    with pytest.raises(ArticleError, match="not UTF-8") as caught:
        read_article(str(path))
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("scheme", ["file://", "FILE://"])
def test_file_url_is_never_read(scheme: str) -> None:
    with pytest.raises(ArticleError, match="unsupported URL scheme"):
        read_article(scheme + str(seed("001")))  # a readable article: refused all the same


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/article.txt"])
def test_other_schemes_are_refused(location: str) -> None:
    with pytest.raises(ArticleError, match="unsupported URL scheme") as caught:
        read_article(location)
    assert location in str(caught.value)


# --------------------------------------------------------------------------- HTTP

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hanoi opens AI research hub | Example Tech News</title>
<link rel="canonical" href="https://news.example.com/2025/11/hanoi-ai-hub">
<meta property="og:site_name" content="Example Tech News">
<meta property="og:title" content="Hanoi opens AI research hub">
<meta property="article:published_time" content="2025-11-05T08:00:00+07:00">
</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/tech">Technology Desk</a></li>
<li><a href="/biz">Business Briefings</a></li></ul></nav>
<main><article>
<h1>Hanoi opens AI research hub</h1>
<p>Hanoi’s new artificial intelligence research hub opened on Wednesday, bringing together
universities, start-ups and state agencies under one roof to train engineers in machine
learning.</p>
<p>Officials said the centre will host 300 researchers by 2027 and offer shared GPU capacity
to Vietnamese companies that cannot afford their own clusters – a gap highlighted by recent
industry surveys.</p>
</article></main>
<footer><p>Copyright 2025 Example Tech News. All rights reserved. Advertise with us.</p></footer>
</body>
</html>
"""
PARAGRAPH_1 = (
    "Hanoi’s new artificial intelligence research hub opened on Wednesday, bringing together "
    "universities, start-ups and state agencies under one roof to train engineers in machine "
    "learning."
)
PARAGRAPH_2 = (
    "Officials said the centre will host 300 researchers by 2027 and offer shared GPU capacity "
    "to Vietnamese companies that cannot afford their own clusters – a gap highlighted by recent "
    "industry surveys."
)
# No canonical link, site name or date: the final URL after redirects is the article URL.
PLAIN_PAGE = ARTICLE_PAGE
for _tag in (
    '<link rel="canonical" href="https://news.example.com/2025/11/hanoi-ai-hub">',
    '<meta property="og:site_name" content="Example Tech News">',
    '<meta property="article:published_time" content="2025-11-05T08:00:00+07:00">',
):
    PLAIN_PAGE = PLAIN_PAGE.replace(_tag, "")
HUGE_TOTAL = 32 * MAX_BYTES  # far more than the client may read


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    last_user_agent: str | None = None
    huge_bytes_sent: int = 0
    huge_done = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.last_user_agent = self.headers.get("User-Agent")
        routes = {
            "/article": lambda: self._send(200, "text/html; charset=utf-8", ARTICLE_PAGE),
            "/nocanonical": lambda: self._send(200, "text/html; charset=utf-8", PLAIN_PAGE),
            "/moved": lambda: self._redirect("/nocanonical"),
            "/loop": lambda: self._redirect("/loop"),
            "/missing": lambda: self._send(404, "text/html", "<h1>Not here</h1>"),
            "/latin1": lambda: self._send(200, "text/plain; charset=iso-8859-1", LATIN1_TEXT),
            "/image": lambda: self._send(200, "image/png", "\x89PNG not really"),
            "/wp": self._wordpress,
            "/huge": self._huge,
            "/huge-declared": self._huge_declared,
        }
        routes.get(self.path, lambda: self._send(404, "text/plain", "no route"))()

    def _send(self, status: int, content_type: str, body: str) -> None:
        charset = content_type.partition("charset=")[2] or "utf-8"
        data = body.encode(charset)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, target: str) -> None:
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _wordpress(self) -> None:
        self._send(200, "application/json", seed("003").read_text(encoding="utf-8"))

    def _huge(self) -> None:
        """No Content-Length: the client must count while streaming and hang up."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"a" * 65_533
        try:
            while self.server.huge_bytes_sent < HUGE_TOTAL:
                self.wfile.write(chunk)
                self.server.huge_bytes_sent += len(chunk)
        except OSError:
            pass  # the client hung up, as it should
        finally:
            self.server.huge_done.set()

    def _huge_declared(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(MAX_BYTES + 1))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hangs up after the headers
            self.wfile.write(b"<html>")


LATIN1_TEXT = "A café opens in Hanoi\n\nThe café serves coffee from Dalat growers.\n"


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    with running(httpd):
        yield httpd


def base(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def test_html_page_over_http(server: _Server) -> None:
    article = read_article(base(server) + "/article")
    assert article.title == "Hanoi opens AI research hub"
    assert article.url == "https://news.example.com/2025/11/hanoi-ai-hub"  # canonical wins
    assert article.published == datetime.date(2025, 11, 5)
    assert article.source == "Example Tech News"
    assert paragraphs(article) == [PARAGRAPH_1, PARAGRAPH_2]
    for junk in ("Home", "Technology Desk", "Business Briefings", "Copyright", "Advertise"):
        assert junk not in article.text
    assert server.last_user_agent == USER_AGENT


def test_redirect_without_canonical_uses_final_url(server: _Server) -> None:
    article = read_article(base(server) + "/moved")
    assert article.url == base(server) + "/nocanonical"
    assert article.published is None  # never guessed from the footer's copyright year
    assert article.source == "127.0.0.1"  # the host, without the port
    assert paragraphs(article) == [PARAGRAPH_1, PARAGRAPH_2]


def test_wordpress_json_over_http(server: _Server) -> None:
    article = read_article(base(server) + "/wp")
    assert article == read_article(str(seed("003")))


def test_response_charset_is_honoured(server: _Server) -> None:
    article = read_article(base(server) + "/latin1")
    assert article.title == "A café opens in Hanoi"
    assert article.text == "The café serves coffee from Dalat growers."
    assert article.url == base(server) + "/latin1"
    assert article.source == "127.0.0.1"


def test_http_404_is_an_article_error(server: _Server) -> None:
    url = base(server) + "/missing"
    with pytest.raises(ArticleError, match="404") as caught:
        read_article(url)
    assert url in str(caught.value)


def test_redirect_loop_is_cut_short(server: _Server) -> None:
    with pytest.raises(ArticleError, match="redirects"):
        read_article(base(server) + "/loop")


def test_non_text_content_is_refused(server: _Server) -> None:
    with pytest.raises(ArticleError, match="not an article"):
        read_article(base(server) + "/image")


def test_streamed_body_over_the_cap_is_refused(server: _Server) -> None:
    with pytest.raises(ArticleError, match="larger than 5 MB"):
        read_article(base(server) + "/huge")
    assert server.huge_done.wait(timeout=10)
    assert server.huge_bytes_sent < HUGE_TOTAL  # the client stopped reading at the cap


def test_declared_body_over_the_cap_is_refused(server: _Server) -> None:
    with pytest.raises(ArticleError, match="larger than 5 MB"):
        read_article(base(server) + "/huge-declared")


def test_connection_refused_is_an_article_error() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as probe:
        port = probe.server_address[1]  # a port that was free a moment ago, now closed
    with pytest.raises(ArticleError, match="request failed"):
        read_article(f"http://127.0.0.1:{port}/article")
