"""`check`'s email checks: render the issue and look at what subscribers' clients receive."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

from newsletter.check import Problem
from newsletter.config import CONFIG_NAME, Settings, Workspace
from newsletter.deliver.unsubscribe import TOKEN
from newsletter.errors import RenderError
from newsletter.models import Issue
from newsletter.render.colours import contrast
from newsletter.render.email import RenderedEmail, render_email

__all__ = [
    "HTML_ERROR_BYTES",
    "HTML_WARNING_BYTES",
    "STYLE_MAX_BYTES",
    "check_email",
    "email_problems",
]

KB = 1024
HTML_ERROR_BYTES = (
    90 * KB
)  # Gmail clips the message near 102 KB; keep a margin for the ESP's additions
HTML_WARNING_BYTES = 60 * KB
STYLE_MAX_BYTES = 16 * KB  # Gmail drops <style> blocks larger than this
# What MRML leaves in an attribute whose value had a newline, a quote or a Unicode escape.
_LEAKED_ESCAPE = re.compile(r'\\n|\\"|\\u\{')


class _Scan(HTMLParser):
    """What the checks look at in the HTML: lang, images, attributes, styles, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.images_without_alt: list[str] = []
        self.leaks: list[str] = []
        self.hrefs: set[str] = set()
        self.style_bytes = 0
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "img" and "alt" not in values:
            self.images_without_alt.append(values.get("src", "?"))
        if tag == "a" and values.get("href"):
            self.hrefs.add(values["href"])
        self._in_style = tag == "style"
        self.leaks.extend(
            f"<{tag} {name}>" for name, value in values.items() if _LEAKED_ESCAPE.search(value)
        )

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style_bytes += len(data.encode("utf-8"))


def check_email(workspace: Workspace, issue: Issue) -> list[Problem]:
    """Render the issue's email and check it; a render failure is itself an error."""
    path = issue.path / "issue.md" if issue.path else None
    try:
        rendered = render_email(workspace, issue)
    except RenderError as exc:
        return [Problem("error", path, "email", f"does not render: {exc}")]
    config = workspace.root / CONFIG_NAME
    return list(email_problems(rendered, workspace.settings, path, config=config))


def email_problems(
    rendered: RenderedEmail, settings: Settings, path: Path | None, *, config: Path | None = None
) -> Iterator[Problem]:
    """Every problem of a rendered email: size, styles, images, lang, escapes, unsubscribe, text."""
    scan = _Scan()
    scan.feed(rendered.html)
    yield from _size(rendered.html, path)
    yield from _html_problems(scan, path)
    yield from _unsubscribe_problems(rendered, scan, path)
    yield from _settings_problems(settings, config)
    if not rendered.text.strip():
        yield Problem("error", path, "email.txt", "the plain-text part is empty")


def _settings_problems(settings: Settings, config: Path | None) -> Iterator[Problem]:
    if contrast(settings.brand_color, "#ffffff") < 4.5:
        yield Problem(
            "warning",
            config,
            "newsletter.brand_color",
            f"{settings.brand_color} on white is hard to read (contrast below 4.5:1)",
        )
    if not settings.unsubscribe_url:
        yield Problem(
            "warning",
            config,
            "newsletter.unsubscribe_url",
            "not set: mailto unsubscribe only; Gmail and Yahoo want one-click https for bulk mail",
        )
    elif TOKEN not in settings.unsubscribe_url:
        yield Problem(
            "warning",
            config,
            "newsletter.unsubscribe_url",
            f"has no {TOKEN} slot: a one-click unsubscribe cannot tell who asked",
        )


def _size(html: str, path: Path | None) -> Iterator[Problem]:
    size = len(html.encode("utf-8"))
    if size > HTML_ERROR_BYTES:
        yield Problem(
            "error",
            path,
            "email.html",
            f"{size / KB:.0f} KB: Gmail clips messages near 102 KB; keep it under 90 KB",
        )
    elif size > HTML_WARNING_BYTES:
        yield Problem(
            "warning",
            path,
            "email.html",
            f"{size / KB:.0f} KB: over 60 KB, getting close to Gmail's clipping at 102 KB",
        )


def _html_problems(scan: _Scan, path: Path | None) -> Iterator[Problem]:
    if scan.style_bytes > STYLE_MAX_BYTES:
        yield Problem(
            "error",
            path,
            "email.html",
            f"<style> holds {scan.style_bytes / KB:.1f} KB: Gmail drops styles over 16 KB",
        )
    for src in scan.images_without_alt:
        yield Problem("error", path, "email.html", f"image {src} has no alt text")
    if not scan.lang or scan.lang == "und":
        yield Problem(
            "error", path, "email.html", "no lang on <html>: screen readers guess the language"
        )
    for where in scan.leaks:
        yield Problem(
            "error",
            path,
            "email.html",
            f'literal escape (\\n, \\" or \\u{{) in {where}: keep template attributes on one line',
        )


def _unsubscribe_problems(
    rendered: RenderedEmail, scan: _Scan, path: Path | None
) -> Iterator[Problem]:
    if rendered.unsubscribe.link not in scan.hrefs:
        yield Problem("error", path, "email.html", "no unsubscribe link in the footer")
    message = message_from_bytes(rendered.eml, policy=default)
    for header in ("List-Unsubscribe", "List-Id"):
        if not message[header]:
            yield Problem("error", path, "email.eml", f"no {header} header")
    if (
        rendered.unsubscribe.url
        and message["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click"
    ):
        yield Problem(
            "error", path, "email.eml", "no List-Unsubscribe-Post header (RFC 8058 one-click)"
        )
    if not message.get_body(("plain",)):
        yield Problem("error", path, "email.eml", "no text/plain part")
