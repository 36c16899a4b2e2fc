"""The polite HTTP fetcher behind `newsletter gather`.

One `Fetcher` shares a connection pool, a global and a per-origin concurrency limit and the
Retry-After pauses of every origin it has talked to. Redirects are followed by hand so each
hop is checked (http/https only, no loops, a bounded count), and bodies are capped on the
wire and again after decompression, so a small gzip bomb cannot inflate in memory.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import socket
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from newsletter.errors import NewsletterError

__all__ = ["FetchError", "FetchLimits", "Fetcher", "Response"]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


@dataclass(frozen=True)
class FetchLimits:
    """How much one Fetcher may ask of the network and of each origin."""

    concurrency: int = 512  # requests in flight (a hung server holds one until the deadline)
    per_host: int = 2  # requests in flight per origin (scheme, host, port)
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # between two reads; `deadline` bounds the whole request
    deadline: float = 10.0
    max_bytes: int = 5 * 1024 * 1024  # both on the wire and after decompression
    max_redirects: int = 5
    max_wait: float = 10.0  # the longest Retry-After slept through inside one run


@dataclass(frozen=True)
class Response:
    """A successful (2xx) or not-modified (304) answer, after redirects."""

    url: str  # final URL
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decompressed; b"" for 304
    permanent_redirect: str | None = None  # the final URL when every hop was a 301/308


class FetchError(NewsletterError):
    """A URL could not be fetched; `kind` names the reason in one stable word.

    Kinds: timeout, too-large, http, gone, rate-limited, redirects, network, refused-scheme.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.url = url
        self.status = status
        self.retry_after = retry_after


class Fetcher:
    """Fetches URLs within `limits`; use as `async with Fetcher(user_agent=...) as fetcher`."""

    def __init__(self, *, user_agent: str, limits: FetchLimits = FetchLimits()) -> None:
        self.limits = limits
        self._user_agent = user_agent
        # One small client per origin: httpcore scans its whole pool on every request,
        # so a single pool of hundreds of connections costs more CPU than the parsing.
        self._clients: dict[Origin, httpx.AsyncClient] = {}
        self._open = False
        self._tls = httpx.create_ssl_context()  # built once: loading CA certificates is slow
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._host_slots: dict[Origin, asyncio.Semaphore] = {}
        self._paused: dict[Origin, tuple[float, int]] = {}  # origin -> (monotonic end, status)

    async def __aenter__(self) -> Fetcher:
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        clients, self._clients, self._open = list(self._clients.values()), {}, False
        for client in clients:
            await client.aclose()

    def _client(self, origin: Origin) -> httpx.AsyncClient:
        if not self._open:
            raise RuntimeError("use `async with Fetcher(...)` before calling get()")
        client = self._clients.get(origin)
        if client is None:
            lim = self.limits
            client = self._clients[origin] = httpx.AsyncClient(
                follow_redirects=False,  # every hop is checked in `get`
                verify=self._tls,
                timeout=httpx.Timeout(
                    connect=lim.connect_timeout,
                    read=lim.read_timeout,
                    write=lim.read_timeout,
                    pool=lim.deadline,
                ),
                limits=httpx.Limits(
                    max_connections=lim.per_host, max_keepalive_connections=lim.per_host
                ),
            )
        return client

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        follow_redirects: bool = True,
    ) -> Response:
        """GET `url` (conditionally when `etag`/`last_modified` are given); raise FetchError."""
        headers = {"User-Agent": self._user_agent, "Accept": ACCEPT}
        headers["Accept-Encoding"] = "gzip, deflate"  # only what `_Inflater` can bound
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        _check_url(url, url)
        current, visited, retried = url, [url], False
        statuses: list[int] = []
        while True:
            try:
                response = await self._request(current, headers)
            except FetchError as err:
                short = err.retry_after is not None and err.retry_after <= self.limits.max_wait
                if err.kind != "rate-limited" or not short or retried:
                    raise
                retried = True  # `_request` sleeps through the pause it just set
                continue
            if response.status not in REDIRECTS:
                permanent = bool(statuses) and all(s in PERMANENT for s in statuses)
                return replace(response, permanent_redirect=current if permanent else None)
            current = self._next_hop(url, response, visited, follow_redirects)
            statuses.append(response.status)

    def paused_until(self, url: str) -> float | None:
        """When (`time.monotonic()`) a Retry-After pause of `url`'s origin ends, if one is on."""
        try:
            until = self._paused.get(_origin(url), (0.0, 0))[0]
        except ValueError:  # not a valid URL, so never paused
            return None
        return until if until > time.monotonic() else None

    def _next_hop(self, url: str, response: Response, visited: list[str], follow: bool) -> str:
        """The checked target of redirect `response`; `visited` holds the URLs requested so far."""
        location = response.headers.get("location")
        status = response.status
        if not location:
            message = f"HTTP {status} without a Location"
            raise FetchError(message, kind="http", url=url, status=status)
        try:
            target = urljoin(response.url, location.strip())
        except ValueError:  # e.g. a broken IPv6 literal
            target = location.strip()  # `_check_url` below refuses it
        if not follow:
            raise FetchError(f"redirected to {target}", kind="redirects", url=url, status=status)
        _check_url(target, url)
        if target in visited:
            raise FetchError("redirect loop", kind="redirects", url=url, status=status)
        if len(visited) > self.limits.max_redirects:
            message = f"more than {self.limits.max_redirects} redirects"
            raise FetchError(message, kind="redirects", url=url, status=status)
        visited.append(target)
        return target

    async def _request(self, url: str, headers: dict[str, str]) -> Response:
        """One HTTP exchange; waiting for a pause or a slot does not count against the deadline."""
        origin = _origin(url)
        await self._wait_out_pause(origin, url)
        async with self._slot(origin):
            await self._wait_out_pause(origin, url)  # a pause may have begun while queued
            deadline = self.limits.deadline
            try:
                async with asyncio.timeout(deadline):
                    return await self._exchange(url, headers, origin)
            except TimeoutError:
                message = f"no complete response within {deadline:g} s"
                raise FetchError(message, kind="timeout", url=url) from None
            except httpx.TimeoutException as exc:
                message = _timeout_reason(exc, self.limits)
                raise FetchError(message, kind="timeout", url=url) from None
            except httpx.ConnectError as exc:
                raise FetchError(_connect_reason(exc), kind="network", url=url) from None
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                raise FetchError(f"request failed: {exc}", kind="network", url=url) from None

    @asynccontextmanager
    async def _slot(self, origin: Origin) -> AsyncIterator[None]:
        # The origin's slot first, so a request queued behind a busy host holds no global slot.
        host = self._host_slots.setdefault(origin, asyncio.Semaphore(self.limits.per_host))
        async with host, self._slots:
            yield

    async def _wait_out_pause(self, origin: Origin, url: str) -> None:
        until, status = self._paused.get(origin, (0.0, 0))
        wait = until - time.monotonic()
        if wait > self.limits.max_wait:
            raise _rate_limited(status, wait, url)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _exchange(self, url: str, headers: dict[str, str], origin: Origin) -> Response:
        async with self._client(origin).stream("GET", url, headers=headers) as response:
            status = response.status_code
            if 200 <= status < 300:
                body = await self._read_body(response, url)
            elif status == 304 or status in REDIRECTS:
                body = b""
            else:
                raise self._status_error(response, origin, url)
            names = {name.lower(): value for name, value in response.headers.items()}
            return Response(url=url, status=status, headers=names, body=body)

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        limit = self.limits.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit, url)
        inflater = _Inflater(response.headers.get("content-encoding", ""), limit, url)
        parts, raw = [], 0
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > limit:
                raise _too_large(limit, url)
            parts.append(inflater.feed(chunk))
        parts.append(inflater.flush())
        return b"".join(parts)

    def _status_error(self, response: httpx.Response, origin: Origin, url: str) -> FetchError:
        status = response.status_code
        if status == 410:
            return FetchError("HTTP 410 Gone", kind="gone", url=url, status=status)
        retry_after = _parse_retry_after(response.headers.get("retry-after"))
        if status == 429 or (status == 503 and retry_after is not None):
            if retry_after is not None:
                until = max(time.monotonic() + retry_after, self._paused.get(origin, (0.0,))[0])
                self._paused[origin] = (until, status)
            return _rate_limited(status, retry_after, url)
        message = f"HTTP {status} {response.reason_phrase}".strip()
        return FetchError(message, kind="http", url=url, status=status)


class _Inflater:
    """Decodes a Content-Encoding stream chunk by chunk, never producing more than `limit`."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self._encoding = encoding.strip().lower()
        self._limit, self._url, self._size = limit, url, 0
        self._head = b""  # deflate: the first bytes, until they tell zlib from raw deflate
        self._obj: Any = None
        if self._encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._encoding not in ("", "identity", "deflate"):
            message = f"unsupported content encoding {encoding.strip()}"
            raise FetchError(message, kind="http", url=url)

    def feed(self, data: bytes) -> bytes:
        if self._encoding in ("", "identity"):
            return data  # already counted as raw bytes
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._obj = zlib.decompressobj(_deflate_wbits(data))
        parts: list[bytes] = []
        while data:
            # Ask for one byte more than the room left: getting it means the cap is passed.
            out = self._obj.decompress(data, self._limit - self._size + 1)
            self._size += len(out)
            if self._size > self._limit:
                raise _too_large(self._limit, self._url)
            parts.append(out)
            data = self._obj.unconsumed_tail
        return b"".join(parts)

    def flush(self) -> bytes:
        out = self._obj.flush() if self._obj is not None else b""
        self._size += len(out)
        if self._size > self._limit:
            raise _too_large(self._limit, self._url)
        return out


def _deflate_wbits(head: bytes) -> int:
    """zlib-wrapped or raw: "deflate" should be the former, but servers send both."""
    zlib_header = head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def _origin(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme, 0)


def _check_url(target: str, url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host and a valid port."""
    try:
        parts = urlsplit(target)
        _ = parts.port  # raises ValueError when not a number in range
    except ValueError:
        raise FetchError(f"invalid URL {target}", kind="refused-scheme", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"a {scheme}: URL" if scheme else f"{target!r} (not an absolute URL)"
        raise FetchError(f"refusing to fetch {shown}", kind="refused-scheme", url=url)
    if not parts.hostname:
        raise FetchError(f"no host in {target}", kind="refused-scheme", url=url)


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date; None when unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _rate_limited(status: int, retry_after: float | None, url: str) -> FetchError:
    message = f"rate limited (HTTP {status})"
    if retry_after is not None:
        message += f", retry after {math.ceil(retry_after)} s"
    return FetchError(message, kind="rate-limited", url=url, status=status, retry_after=retry_after)


def _too_large(limit: int, url: str) -> FetchError:
    mb = limit / (1024 * 1024)
    size = f"{mb:g} MB" if mb >= 1 else f"{limit} bytes"
    return FetchError(f"body larger than {size}", kind="too-large", url=url)


def _timeout_reason(exc: httpx.TimeoutException, limits: FetchLimits) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {limits.connect_timeout:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"nothing received for {limits.read_timeout:g} s"
    return "timed out"


def _connect_reason(exc: httpx.ConnectError) -> str:
    # The useful OSError sits a few causes down (httpx <- httpcore <- anyio's "all attempts").
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect: {exc}" if str(exc) else "cannot connect"
