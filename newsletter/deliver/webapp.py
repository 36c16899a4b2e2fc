"""The unsubscribe endpoint: a small WSGI app for RFC 8058 one-click POSTs and a GET page.

A GET never unsubscribes (link scanners and previews fetch links); it shows a page with
a button that POSTs. A POST with a valid token unsubscribes at once. A bad or forged
token changes nothing. No answer redirects. Deploy it behind any web server
(`newsletter unsubscribe-server`, or a WSGI server with `create_app()`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from newsletter.config import Workspace, load_workspace
from newsletter.deliver.subscribers import Subscriber, open_subscribers
from newsletter.deliver.unsubscribe import TOKEN

__all__ = ["create_app", "serve_unsubscribe", "unsubscribe_app"]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
MAX_BODY = 16 * 1024
_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ),
]
_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{heading} · {title}</title>
<style>body{{font:17px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}
button{{font:inherit;padding:.5em 1.2em}}</style></head>
<body><h1>{heading}</h1>{body}</body></html>
"""


def token_parameter(settings_url: str | None) -> str | None:
    """The query parameter that carries the token in `unsubscribe_url`, if it is one."""
    if not settings_url:
        return None
    for name, values in parse_qs(urlsplit(settings_url).query).items():
        if TOKEN in values:
            return name
    return None


def unsubscribe_app(workspace: Workspace) -> WsgiApp:
    """The WSGI app for this workspace's subscribers."""
    settings = workspace.settings
    parameter = token_parameter(settings.unsubscribe_url)

    def page(start: StartResponse, status: str, heading: str, body: str) -> list[bytes]:
        text = _PAGE.format(
            lang=html.escape(settings.language),
            title=html.escape(settings.title),
            heading=html.escape(heading),
            body=body,
        )
        start(status, list(_HEADERS))
        return [text.encode("utf-8")]

    def app(environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST"):
            start("405 Method Not Allowed", [("Allow", "GET, POST"), *_HEADERS])
            return [b""]
        token = _token(environ, parameter)
        if method == "POST":
            _drain(environ)
        with open_subscribers(workspace) as store:
            subscriber = store.by_token(token) if token else None
            if subscriber is None:
                return page(
                    start, "404 Not Found", "This unsubscribe link is not valid", _invalid()
                )
            if method == "POST":
                subscriber = store.unsubscribe(token)
        if subscriber.status != "active":
            return page(start, "200 OK", "You are unsubscribed", _done(subscriber, settings.title))
        return page(start, "200 OK", "Unsubscribe?", _confirm(subscriber, settings.title))

    return app


def _token(environ: dict[str, Any], parameter: str | None) -> str:
    """The token from the query (the parameter `unsubscribe_url` names, or `t`/`token`),
    else the last segment of the path."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    for name in (parameter, "t", "token"):
        if name and query.get(name):
            return query[name][0]
    return environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]


def _drain(environ: dict[str, Any]) -> None:
    """Read (and ignore) a bounded body: RFC 8058's `List-Unsubscribe=One-Click`."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
    except ValueError:
        length = 0
    if length > 0:
        environ["wsgi.input"].read(length)


def _confirm(subscriber: Subscriber, title: str) -> str:
    return (
        f"<p>Stop sending <strong>{html.escape(title)}</strong> to "
        f"{html.escape(subscriber.email)}?</p>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<button type=submit>Unsubscribe</button></form>"
    )


def _done(subscriber: Subscriber, title: str) -> str:
    return (
        f"<p>{html.escape(subscriber.email)} will get no more email from "
        f"<strong>{html.escape(title)}</strong>.</p>"
    )


def _invalid() -> str:
    return (
        "<p>The link may be cut short or mistyped. Use the unsubscribe link in the "
        "email again, or reply to it asking to unsubscribe.</p>"
    )


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck client never holds up Ctrl-C


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_unsubscribe(
    workspace: Workspace, *, host: str = "127.0.0.1", port: int = 8025
) -> WSGIServer:
    """A threaded server on host:port running the app; the caller runs `serve_forever`."""
    return make_server(
        host,
        port,
        unsubscribe_app(workspace),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )


def create_app() -> WsgiApp:
    """For WSGI servers (`gunicorn 'newsletter.deliver.webapp:create_app()'`): the
    workspace is `NEWSLETTER_WORKSPACE`, else the one found from the current folder."""
    root = os.environ.get("NEWSLETTER_WORKSPACE")
    return unsubscribe_app(load_workspace(Path(root) if root else None))
