"""A real HTTP server on 127.0.0.1 for tests: canned routes, a request log, slow and gzip bodies.

    with serve({"/feed.xml": Route(body=b"<rss/>")}) as server:
        fetch(server.url("/feed.xml"))
        assert server.count("/feed.xml") == 1

A route may also be a list of Routes, answered in turn (the last one repeats), e.g. a 429
followed by a 200. Routes can be changed while the server runs.
"""

from __future__ import annotations

import gzip as gzip_module
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer

__all__ = ["Route", "TestServer", "gzip_bomb", "running", "serve"]


@dataclass
class Route:
    """One canned answer."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # override Content-Length to lie
    etag: str | None = None  # answer 304 to a matching If-None-Match
    drip: float | None = None  # send the body one byte every `drip` seconds
    gzip: bool = False  # gzip the body and say Content-Encoding: gzip
    raw: bytes | None = None  # sent verbatim instead of `body` (Content-Encoding from headers)
    delay: float = 0.0  # seconds to wait before answering
    chunked: bool = False  # no Content-Length: chunked transfer encoding


class TestServer:
    """The running server: its routes, the requests it saw and how many it answered at once."""

    __test__ = False  # not a pytest test class

    def __init__(self, routes: dict[str, Route | list[Route]] | None = None) -> None:
        self.routes: dict[str, Route | list[Route]] = dict(routes or {})
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, lower-cased headers)
        self.in_flight = 0
        self.max_in_flight = 0
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        """How many requests reached `path` (query string included)."""
        return sum(1 for seen, _ in self.requests if seen == path)

    def headers(self, path: str) -> dict[str, str]:
        """The lower-cased request headers of the last request to `path`."""
        return next(headers for seen, headers in reversed(self.requests) if seen == path)

    def _route(self, path: str) -> Route | None:
        with self._lock:
            route = self.routes.get(path)
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
            return route

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


@contextmanager
def running(server: BaseServer, poll: float = 0.05) -> Iterator[int]:
    """Run any stdlib server (HTTP, WSGI, the preview) in a daemon thread for the block;
    yields its port. `poll`: how long shutdown() may wait for the serving loop to notice."""
    thread = threading.Thread(target=server.serve_forever, args=(poll,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve(routes: dict[str, Route | list[Route]] | None = None) -> Iterator[TestServer]:
    """Run a TestServer in a daemon thread for the duration of the block."""
    server = TestServer(routes)
    with running(server._httpd):
        try:
            yield server
        finally:
            server.closing.set()  # ends drips still in flight, before the shutdown


def gzip_bomb(size: int) -> bytes:
    """A valid gzip stream that inflates to `size` zero bytes, built in about a megabyte.

    After a full flush the compressor starts afresh, so every full chunk of zeros compresses
    to the same bytes and the stream is one block repeated.
    """
    chunk = 1 << 20
    full, rest = divmod(size, chunk)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(bytes(rest)) + compressor.flush()
    crc = zlib.crc32(bytes(rest), _zeros_crc(full, chunk))
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * full + tail + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _zeros_crc(count: int, chunk: int) -> int:
    crc, zeros = 0, bytes(chunk)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    return crc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler stuck on a slow client must not hold up the test
    owner: TestServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-response are expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        owner._enter()
        try:
            self._answer(owner, owner._route(self.path))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            owner._leave()

    def _answer(self, owner: TestServer, route: Route | None) -> None:
        if route is None:
            self._send(404, {}, b"not found")
            return
        if route.delay:
            owner.closing.wait(route.delay)
        if route.etag is not None and self.headers.get("If-None-Match") == route.etag:
            self._send(304, {"ETag": route.etag}, b"")
            return
        headers = dict(route.headers)
        body = route.body
        if route.raw is not None:
            body = route.raw
        elif route.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        if route.etag is not None:
            headers["ETag"] = route.etag
        self._send(route.status, headers, body, drip=route.drip, chunked=route.chunked)

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        drip: float | None = None,
        chunked: bool = False,
    ) -> None:
        self.send_response(status)
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        elif not any(name.lower() == "content-length" for name in headers):
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if chunked:
            self._send_chunked(body)
        elif drip is not None:
            self._drip(body, drip)
        else:
            self.wfile.write(body)

    def _send_chunked(self, body: bytes, size: int = 64 * 1024) -> None:
        for start in range(0, len(body), size):
            piece = body[start : start + size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if self.server.owner.closing.is_set():
                self.close_connection = True
                return
        self.wfile.write(b"0\r\n\r\n")

    def _drip(self, body: bytes, every: float) -> None:
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.server.owner.closing.wait(every):
                self.close_connection = True
                return

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean
