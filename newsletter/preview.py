"""`preview`: the rendered email (HTML, text, .eml) and the site on 127.0.0.1.

Every request first looks at the modification times of `sources.yaml`,
`issues/` and `templates/`; when one changed, the workspace is read again and
the site rebuilt (with drafts, into `build/preview/`, so `build/site/` never
gets drafts). Pages get a small script that reloads them after a rebuild.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.config import CONFIG_NAME, Workspace, load_workspace
from newsletter.editorial import list_issues
from newsletter.errors import NewsletterError
from newsletter.models import Issue
from newsletter.render.email import RenderedEmail, render_email
from newsletter.render.theme import issue_path
from newsletter.site.build import build_site

__all__ = ["Preview", "preview_server"]

HOST = "127.0.0.1"
_RELOAD = (
    "<script>(()=>{let g=null;setInterval(async()=>{try{const r=await fetch('/_generation');"
    "const n=await r.text();if(g!==null&&n!==g)location.reload();g=n}catch(e){}},1000)})()"
    "</script>"
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


@dataclass(frozen=True)
class _PreviewWorkspace(Workspace):
    """The workspace with its output in `build/preview/`: drafts stay out of `build/site/`."""

    @property
    def build_dir(self) -> Path:
        return self.root / "build" / "preview"


class Preview:
    """The workspace as the preview shows it, rebuilt when its files change."""

    def __init__(self, root: Path, log: Callable[[str], None] = lambda _: None) -> None:
        self.root = root
        self.log = log
        self.generation = 0
        self.error: str | None = None
        self.issues: list[Issue] = []
        self._workspace: Workspace | None = None
        self._emails: dict[str, RenderedEmail] = {}
        self._stamp: tuple[tuple[str, int], ...] = ()
        self._lock = threading.Lock()

    @property
    def site_dir(self) -> Path:
        return self.root / "build" / "preview" / "site"

    def refresh(self) -> None:
        """Rebuild if any watched file changed since the last look."""
        with self._lock:
            stamp = self._watched()
            if stamp != self._stamp:
                self._stamp = stamp
                self._rebuild()

    def email(self, slug: str) -> RenderedEmail:
        """The issue's rendered email (cached until the next rebuild)."""
        with self._lock:
            if slug not in self._emails:
                issue = next((i for i in self.issues if i.slug == slug), None)
                if issue is None or self._workspace is None:
                    raise KeyError(slug)
                self._emails[slug] = render_email(self._workspace, issue)
            return self._emails[slug]

    def _watched(self) -> tuple[tuple[str, int], ...]:
        paths = [self.root / CONFIG_NAME]
        for folder in (self.root / "issues", self.root / "templates"):
            paths.extend(folder.rglob("*"))
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in paths if p.exists()))

    def _rebuild(self) -> None:
        self.generation += 1
        self._emails.clear()
        try:
            workspace = load_workspace(self.root)
            self.issues = list(reversed(list_issues(workspace)))
            build_site(_PreviewWorkspace(workspace.root, workspace.config), drafts=True)
            self._workspace, self.error = workspace, None
            self.log(f"rebuilt: {len(self.issues)} issues")
        except NewsletterError as exc:
            self.error = str(exc)
            self.log(f"error: {exc}")


def preview_server(
    workspace: Workspace, *, port: int = 8000, log: Callable[[str], None] = lambda _: None
) -> ThreadingHTTPServer:
    """A server for the workspace on 127.0.0.1 (`port` 0: any free port); call
    `serve_forever()` on it."""
    preview = Preview(workspace.root, log)
    handler = type("Handler", (_Handler,), {"preview": preview})
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        message = f"cannot serve on {HOST}:{port}: {exc.strerror or exc}; try another --port"
        raise NewsletterError(message) from None
    preview.refresh()
    return server


class _Handler(BaseHTTPRequestHandler):
    preview: Preview

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the preview logs rebuilds, not requests."""

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        # Looking for changes walks issues/ and templates/: do it for pages and the reload
        # poll, not for each of the style sheets and search chunks a page pulls in.
        if Path(path).suffix in ("", ".html", ".txt", ".eml"):
            self.preview.refresh()
        if path == "/_generation":
            self._send(str(self.preview.generation).encode(), "text/plain")
        elif path == "/":
            self._send(self._page(_index(self.preview)), _TYPES[".html"])
        elif path.startswith("/email/"):
            self._email(path.removeprefix("/email/"))
        elif path == "/site" or path.startswith("/site/"):
            self._site(path.removeprefix("/site").lstrip("/") or "index.html")
        else:
            self._not_found()

    def _email(self, name: str) -> None:
        slug, _, kind = name.rpartition(".")
        try:
            rendered = self.preview.email(slug)
        except KeyError:
            return self._not_found()
        except NewsletterError as exc:
            return self._send(self._page(_error_page(str(exc))), _TYPES[".html"], 500)
        if kind == "html":
            self._send(self._page(rendered.html), _TYPES[".html"])
        elif kind == "txt":
            self._send(rendered.text.encode("utf-8"), _TYPES[".txt"])
        elif kind == "eml":
            self._send(rendered.eml, "message/rfc822")
        else:
            self._not_found()

    def _site(self, relative: str) -> None:
        root = self.preview.site_dir.resolve()
        target = (root / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            return self._not_found()
        data = target.read_bytes()
        kind = _TYPES.get(target.suffix, "application/octet-stream")
        self._send(self._page(data.decode("utf-8")) if target.suffix == ".html" else data, kind)

    def _page(self, markup: str) -> bytes:
        """An HTML page with the reload script (only in the preview, never in the outputs)."""
        head, tail = markup.rsplit("</body>", 1) if "</body>" in markup else (markup, "")
        return f"{head}{_RELOAD}</body>{tail}".encode()

    def _not_found(self) -> None:
        self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)

    def _send(self, body: bytes, kind: str, status: int = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def _index(preview: Preview) -> str:
    """The preview's home: every issue (drafts too) with links to its email and page."""
    rows = "".join(
        f"<li><strong>{html.escape(i.title or i.slug)}</strong> ({i.status}, {i.date}) · "
        f'<a href="/email/{i.slug}.html">email</a> · <a href="/email/{i.slug}.txt">text</a> · '
        f'<a href="/email/{i.slug}.eml">.eml</a> · '
        f'<a href="/site/{issue_path(i)}">site page</a></li>'
        for i in preview.issues
    )
    error = f'<p role="alert">{html.escape(preview.error)}</p>' if preview.error else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Preview</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        f'<h1>Preview</h1>{error}<p><a href="/site/">The archive site</a></p><ul>{rows}</ul>'
        "</body></html>"
    )


def _error_page(message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head>'
        f'<body><p role="alert">{html.escape(message)}</p></body></html>'
    )
