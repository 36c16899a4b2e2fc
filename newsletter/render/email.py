"""`render`: an issue -> `email.html` (Jinja2 + MJML), `email.txt` and `email.eml`.

The phases are separate functions (`email_mjml`, `compile_mjml`, `issue_text`,
`build_message`) so that `bench/render.py` can time each, and `render_email`
takes the recipient's unsubscribe token so that `send` can personalise a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, TemplateError, TemplateSyntaxError

from newsletter.config import Workspace
from newsletter.deliver.mime import build_message
from newsletter.deliver.unsubscribe import Unsubscribe, unsubscribe
from newsletter.errors import RenderError
from newsletter.fileio import atomic_write
from newsletter.models import Issue
from newsletter.render.links import tag_links, utm_params
from newsletter.render.markdown import to_paragraphs
from newsletter.render.mjml import compile_mjml
from newsletter.render.text import issue_text
from newsletter.render.theme import environment

__all__ = [
    "PREHEADER_PADDING",
    "TEMPLATE",
    "RenderedEmail",
    "email_html",
    "email_mjml",
    "message_key",
    "preheader",
    "render_email",
    "write_email",
]

TEMPLATE = "email/issue.mjml"
# Invisible characters after the preheader fill the inbox preview, so clients
# do not pull the masthead and body text in after it.
PREHEADER_PADDING = "\u034f\u200c\u00a0" * 90
_ENVIRONMENTS: dict[tuple[Path, ...], Environment] = {}


@dataclass(frozen=True)
class RenderedEmail:
    html: str
    text: str
    eml: bytes
    unsubscribe: Unsubscribe


def preheader(issue: Issue) -> str:
    """The inbox preview line: the editor's preheader, else the intro, else the headlines."""
    if issue.preheader.strip():
        return issue.preheader.strip()
    intro = to_paragraphs(issue.intro)
    if intro:
        return intro[0][:150]
    return " · ".join(story.title for story in issue.stories)[:150]


def render_email(workspace: Workspace, issue: Issue, *, token: str | None = None) -> RenderedEmail:
    """The three forms of the issue's email, in memory; `token` fills the unsubscribe
    URL's `{token}` slot for one recipient (without it: the issue-wide message)."""
    settings = workspace.settings
    links = unsubscribe(settings, token)
    html = email_html(workspace, issue, links)
    text = issue_text(issue, settings, unsubscribe=links.link)
    eml = build_message(
        settings=settings,
        subject=issue.title,
        text=text,
        html=html,
        message_key=message_key(workspace, issue, token),
        unsubscribe=links,
    )
    return RenderedEmail(html=html, text=text, eml=eml, unsubscribe=links)


def message_key(workspace: Workspace, issue: Issue, token: str | None) -> str:
    """What the Message-ID derives from: stable for an issue and a recipient's token."""
    return f"{workspace.settings.url}{issue.slug}/{token or ''}"


def email_html(workspace: Workspace, issue: Issue, links: Unsubscribe) -> str:
    """The HTML part: the theme rendered, compiled by MRML, its styles inlined."""
    return compile_mjml(email_mjml(workspace, issue, links), template=TEMPLATE)


def email_mjml(workspace: Workspace, issue: Issue, links: Unsubscribe) -> str:
    """The theme's MJML for the issue, links tagged with UTM parameters when configured."""
    settings = workspace.settings
    try:
        source = (
            _environment(workspace)
            .get_template(TEMPLATE)
            .render(
                settings=settings,
                issue=issue,
                preheader=preheader(issue),
                preheader_padding=PREHEADER_PADDING,
                unsubscribe=links.link,
            )
        )
    except TemplateSyntaxError as exc:
        raise RenderError(
            exc.message or str(exc), path=exc.name or TEMPLATE, line=exc.lineno
        ) from None
    except TemplateError as exc:
        raise RenderError(f"template error: {exc}", path=TEMPLATE) from None
    # Never on the unsubscribe link: it must work exactly as the headers give it.
    return tag_links(source, utm_params(settings.utm, issue), skip={links.link})


def _environment(workspace: Workspace) -> Environment:
    """One Jinja environment per set of template folders: templates compile once and
    are recompiled only when their files change (Jinja's auto_reload)."""
    key = tuple(workspace.template_dirs)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = environment(workspace)
    return _ENVIRONMENTS[key]


def write_email(workspace: Workspace, issue: Issue) -> dict[str, Path]:
    """Render and write `build/email/<issue>/email.{html,txt,eml}`; returns the paths."""
    rendered = render_email(workspace, issue)
    folder = workspace.build_dir / "email" / issue.slug
    outputs = {"html": rendered.html, "txt": rendered.text, "eml": rendered.eml}
    for kind, data in outputs.items():
        atomic_write(folder / f"email.{kind}", data, force=True)
    return {kind: folder / f"email.{kind}" for kind in outputs}
