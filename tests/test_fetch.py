"""The gather fetcher against a real local HTTP server: what a user of `gather` would notice."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from httpserver import Route, TestServer, gzip_bomb, serve

from newsletter.gather.fetch import Fetcher, FetchError, FetchLimits, Response

UA = "newsletter-test/1.0 (+https://example.org)"
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
QUICK = FetchLimits(connect_timeout=2.0, read_timeout=5.0, deadline=5.0)


@pytest.fixture
def server() -> Iterator[TestServer]:
    with serve() as running:
        yield running


def fetch(url: str, limits: FetchLimits = QUICK, **options: Any) -> Response:
    async def run() -> Response:
        async with Fetcher(user_agent=UA, limits=limits) as fetcher:
            return await fetcher.get(url, **options)

    return asyncio.run(run())


def fetch_error(url: str, limits: FetchLimits = QUICK, **options: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, limits, **options)
    return info.value


def fetch_many(urls: list[str], limits: FetchLimits = QUICK) -> list[Response | BaseException]:
    async def run() -> list[Response | BaseException]:
        async with Fetcher(user_agent=UA, limits=limits) as fetcher:
            return await asyncio.gather(*(fetcher.get(u) for u in urls), return_exceptions=True)

    return asyncio.run(run())


# --------------------------------------------------------------------------- plain answers


def test_ok_returns_body_headers_and_sends_polite_headers(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(
        body=RSS,
        etag='"v1"',
        headers={"Content-Type": "application/rss+xml", "Last-Modified": "Mon, 02 Jun 2025"},
    )
    response = fetch(server.url("/feed.xml"))
    assert (response.status, response.body, response.url) == (200, RSS, server.url("/feed.xml"))
    assert response.headers["content-type"] == "application/rss+xml"
    assert response.headers["etag"] == '"v1"'
    assert response.headers["last-modified"] == "Mon, 02 Jun 2025"
    assert response.permanent_redirect is None
    sent = server.headers("/feed.xml")
    assert sent["user-agent"] == UA
    assert sent["accept"].startswith("application/rss+xml, application/atom+xml")
    assert sent["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in sent


def test_conditional_get_with_etag_gives_304_and_empty_body(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(body=RSS, etag='"v1"')
    first = fetch(server.url("/feed.xml"))
    second = fetch(server.url("/feed.xml"), etag=first.headers["etag"])
    assert (second.status, second.body) == (304, b"")
    assert server.headers("/feed.xml")["if-none-match"] == '"v1"'


def test_if_modified_since_is_sent_when_given(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(body=RSS)
    fetch(server.url("/feed.xml"), last_modified="Mon, 02 Jun 2025 10:00:00 GMT")
    assert server.headers("/feed.xml")["if-modified-since"] == "Mon, 02 Jun 2025 10:00:00 GMT"


def test_server_error_is_an_http_error_with_status(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(status=500, body=b"oops")
    err = fetch_error(server.url("/feed.xml"))
    assert (err.kind, err.status, str(err)) == ("http", 500, "HTTP 500 Internal Server Error")


def test_unknown_path_is_an_http_404(server: TestServer) -> None:
    err = fetch_error(server.url("/missing"))
    assert (err.kind, err.status) == ("http", 404)


def test_410_means_gone(server: TestServer) -> None:
    server.routes["/old"] = Route(status=410)
    err = fetch_error(server.url("/old"))
    assert (err.kind, err.status, str(err)) == ("gone", 410, "HTTP 410 Gone")


def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = fetch_error(f"http://127.0.0.1:{port}/feed.xml")
    assert (err.kind, str(err)) == ("network", "connection refused")


# --------------------------------------------------------------------------- rate limits


def test_short_retry_after_is_waited_out_and_retried_once(server: TestServer) -> None:
    server.routes["/feed.xml"] = [Route(status=429, headers={"Retry-After": "1"}), Route(body=RSS)]
    started = time.monotonic()
    response = fetch(server.url("/feed.xml"))
    assert response.body == RSS
    assert time.monotonic() - started >= 0.9
    assert server.count("/feed.xml") == 2


def test_retry_happens_only_once(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(status=429, headers={"Retry-After": "0"})
    err = fetch_error(server.url("/feed.xml"))
    assert (err.kind, err.status, err.retry_after) == ("rate-limited", 429, 0)
    assert server.count("/feed.xml") == 2


def test_long_retry_after_pauses_the_origin_without_contacting_it(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(status=429, headers={"Retry-After": "3600"})
    server.routes["/other.xml"] = Route(body=RSS)

    async def run() -> tuple[FetchError, FetchError, float | None]:
        async with Fetcher(user_agent=UA, limits=QUICK) as fetcher:
            with pytest.raises(FetchError) as first:
                await fetcher.get(server.url("/feed.xml"))
            started = time.monotonic()
            with pytest.raises(FetchError) as second:
                await fetcher.get(server.url("/other.xml"))
            assert time.monotonic() - started < 0.1
            return first.value, second.value, fetcher.paused_until(server.url("/"))

    first, second, paused_until = asyncio.run(run())
    assert (first.kind, first.retry_after) == ("rate-limited", 3600)
    assert str(first) == "rate limited (HTTP 429), retry after 3600 s"
    assert second.kind == "rate-limited" and second.retry_after is not None
    assert 3590 < second.retry_after <= 3600
    assert paused_until is not None
    assert server.count("/feed.xml") == 1
    assert server.count("/other.xml") == 0


def test_429_without_retry_after_is_rate_limited_with_no_delay(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(status=429)
    err = fetch_error(server.url("/feed.xml"))
    assert (err.kind, err.retry_after) == ("rate-limited", None)
    assert str(err) == "rate limited (HTTP 429)"
    assert server.count("/feed.xml") == 1


def test_503_with_an_http_date_retry_after_is_rate_limited(server: TestServer) -> None:
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 7200))
    server.routes["/feed.xml"] = Route(status=503, headers={"Retry-After": later})
    err = fetch_error(server.url("/feed.xml"))
    assert (err.kind, err.status) == ("rate-limited", 503)
    assert err.retry_after is not None and 7100 < err.retry_after <= 7200


def test_503_without_retry_after_is_a_plain_http_error(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(status=503)
    assert fetch_error(server.url("/feed.xml")).kind == "http"


# --------------------------------------------------------------------------- time and size


def test_dripping_server_is_cut_off_at_the_deadline(server: TestServer) -> None:
    server.routes["/slow"] = Route(body=b"x" * 100, drip=0.2)
    limits = FetchLimits(read_timeout=5.0, deadline=1.0)
    started = time.monotonic()
    err = fetch_error(server.url("/slow"), limits)
    assert (err.kind, str(err)) == ("timeout", "no complete response within 1 s")
    assert time.monotonic() - started < 2.0


def test_waiting_for_a_slot_does_not_count_against_the_deadline(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(body=RSS, delay=0.4)
    limits = FetchLimits(per_host=1, deadline=1.0)
    results = fetch_many([server.url("/feed.xml")] * 3, limits)  # ~1.2 s in all
    assert all(isinstance(result, Response) for result in results), results


def test_declared_length_over_the_cap_is_refused_before_reading(server: TestServer) -> None:
    server.routes["/big"] = Route(body=b"x" * 10, headers={"Content-Length": str(100 << 20)})
    started = time.monotonic()
    err = fetch_error(server.url("/big"))  # reading would wait for 100 MB that never come
    assert (err.kind, str(err)) == ("too-large", "body larger than 5 MB")
    assert time.monotonic() - started < 1.0


def test_undeclared_oversized_body_is_cut_off(server: TestServer) -> None:
    server.routes["/big"] = Route(body=b"x" * (2 << 20), chunked=True)
    limits = FetchLimits(max_bytes=1 << 20)
    err = fetch_error(server.url("/big"), limits)
    assert (err.kind, str(err)) == ("too-large", "body larger than 1 MB")


def test_gzip_bomb_is_stopped_without_inflating_it(server: TestServer) -> None:
    bomb = gzip_bomb(1 << 30)  # ~1 MB on the wire, 1 GB inflated
    server.routes["/bomb"] = Route(raw=bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        started = time.monotonic()
        err = fetch_error(server.url("/bomb"))
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.kind == "too-large"
    assert elapsed < 5.0
    assert peak < 50 << 20


def test_gzip_body_is_decompressed(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(body=RSS * 50, gzip=True)
    assert fetch(server.url("/feed.xml")).body == RSS * 50


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_body_is_decompressed_either_way(server: TestServer, wbits: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    raw = compressor.compress(RSS) + compressor.flush()
    server.routes["/feed.xml"] = Route(raw=raw, headers={"Content-Encoding": "deflate"})
    assert fetch(server.url("/feed.xml")).body == RSS


def test_decompressed_size_is_capped_too(server: TestServer) -> None:
    body = gzip.compress(b"x" * (3 << 20))
    server.routes["/feed.xml"] = Route(raw=body, headers={"Content-Encoding": "gzip"})
    assert fetch_error(server.url("/feed.xml"), FetchLimits(max_bytes=1 << 20)).kind == "too-large"


def test_unknown_content_encoding_is_refused(server: TestServer) -> None:
    server.routes["/feed.xml"] = Route(raw=b"\x00\x01", headers={"Content-Encoding": "br"})
    err = fetch_error(server.url("/feed.xml"))
    assert (err.kind, str(err)) == ("http", "unsupported content encoding br")


# --------------------------------------------------------------------------- redirects


def redirect(status: int, location: str) -> Route:
    return Route(status=status, headers={"Location": location})


def test_redirect_loop_is_detected(server: TestServer) -> None:
    server.routes["/a"] = redirect(302, server.url("/b"))
    server.routes["/b"] = redirect(302, "/a")
    err = fetch_error(server.url("/a"))
    assert err.kind == "redirects" and "loop" in str(err)
    assert server.count("/a") == 1


def test_too_many_redirects(server: TestServer) -> None:
    for hop in range(7):
        server.routes[f"/{hop}"] = redirect(302, f"/{hop + 1}")
    server.routes["/7"] = Route(body=RSS)
    err = fetch_error(server.url("/0"))
    assert (err.kind, str(err)) == ("redirects", "more than 5 redirects")
    assert fetch(server.url("/2")).body == RSS  # exactly five hops are fine


def test_redirect_to_a_file_url_is_refused(server: TestServer) -> None:
    server.routes["/feed.xml"] = redirect(302, "file:///etc/passwd")
    err = fetch_error(server.url("/feed.xml"))
    assert (err.kind, str(err)) == ("refused-scheme", "refusing to fetch a file: URL")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/feed",
        "/etc/passwd",
        "http:///feed",
        "http://h:99999/",
    ],
)
def test_non_http_urls_are_refused(url: str) -> None:
    assert fetch_error(url).kind == "refused-scheme"


def test_permanent_redirect_chain_reports_the_new_url(server: TestServer) -> None:
    server.routes["/old"] = redirect(301, "/older")
    server.routes["/older"] = redirect(308, "/new")
    server.routes["/new"] = Route(body=RSS)
    response = fetch(server.url("/old"))
    assert (response.url, response.body) == (server.url("/new"), RSS)
    assert response.permanent_redirect == server.url("/new")


def test_any_temporary_hop_means_no_permanent_redirect(server: TestServer) -> None:
    server.routes["/old"] = redirect(301, "/moving")
    server.routes["/moving"] = redirect(302, "/new")
    server.routes["/new"] = Route(body=RSS)
    response = fetch(server.url("/old"))
    assert (response.url, response.permanent_redirect) == (server.url("/new"), None)


def test_redirect_can_be_refused_when_probing(server: TestServer) -> None:
    server.routes["/feed"] = redirect(302, "/")
    server.routes["/"] = Route(body=b"<html>home</html>")
    err = fetch_error(server.url("/feed"), follow_redirects=False)
    assert (err.kind, str(err)) == ("redirects", f"redirected to {server.url('/')}")
    assert server.count("/") == 0


def test_relative_location_is_resolved_against_the_current_url(server: TestServer) -> None:
    server.routes["/blog/feed"] = redirect(302, "rss.xml?format=full")
    server.routes["/blog/rss.xml?format=full"] = Route(body=RSS)
    response = fetch(server.url("/blog/feed"))
    assert (response.url, response.body) == (server.url("/blog/rss.xml?format=full"), RSS)


# --------------------------------------------------------------------------- politeness


def test_one_origin_never_sees_more_than_per_host_requests_at_once(server: TestServer) -> None:
    server.routes["/slow"] = Route(body=RSS, delay=0.3)
    results = fetch_many([server.url("/slow")] * 6, FetchLimits(per_host=2))
    assert all(isinstance(result, Response) for result in results), results
    assert server.max_in_flight == 2


def test_different_origins_are_fetched_in_parallel() -> None:
    slow = {"/slow": Route(body=RSS, delay=0.5)}
    with serve(slow) as one, serve(slow) as two:
        started = time.monotonic()
        urls = [one.url("/slow"), one.url("/slow"), two.url("/slow"), two.url("/slow")]
        results = fetch_many(urls, FetchLimits(per_host=2))
        elapsed = time.monotonic() - started
    assert all(isinstance(result, Response) for result in results), results
    assert elapsed < 0.9
    assert (one.max_in_flight, two.max_in_flight) == (2, 2)
