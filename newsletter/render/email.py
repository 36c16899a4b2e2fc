"""`render`: an issue -> `email.html` (Jinja2 + MJML), `email.txt` and `email.eml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mjml import mjml2html

from newsletter.config import Workspace
from newsletter.deliver.mime import build_message
from newsletter.errors import RenderError
from newsletter.fileio import atomic_write
from newsletter.models import Issue
from newsletter.render.markdown import to_paragraphs
from newsletter.render.text import issue_text
from newsletter.render.theme import environment

__all__ = ["RenderedEmail", "preheader", "render_email", "write_email"]

TEMPLATE = "email/issue.mjml"


@dataclass(frozen=True)
class RenderedEmail:
    html: str
    text: str
    eml: bytes


def preheader(issue: Issue) -> str:
    """The inbox preview line: the editor's preheader, else the intro, else the headlines."""
    if issue.preheader.strip():
        return issue.preheader.strip()
    intro = to_paragraphs(issue.intro)
    if intro:
        return intro[0][:150]
    return " · ".join(story.title for story in issue.stories)[:150]


def render_email(workspace: Workspace, issue: Issue) -> RenderedEmail:
    """The three forms of the issue's email, in memory."""
    settings = workspace.settings
    mjml = (
        environment(workspace)
        .get_template(TEMPLATE)
        .render(settings=settings, issue=issue, preheader=preheader(issue), unsubscribe_url=None)
    )
    try:
        html = mjml2html(mjml)
    except ValueError as exc:  # mjml-python reports MRML errors as ValueError
        raise RenderError(f"MJML did not compile: {exc}", path=TEMPLATE) from None
    text = issue_text(issue, settings)
    message = build_message(
        settings=settings,
        subject=issue.title,
        text=text,
        html=html,
        message_key=f"{settings.url}{issue.slug}",
    )
    return RenderedEmail(html=html, text=text, eml=message.as_bytes())


def write_email(workspace: Workspace, issue: Issue) -> dict[str, Path]:
    """Render and write `build/email/<issue>/email.{html,txt,eml}`; returns the paths."""
    rendered = render_email(workspace, issue)
    folder = workspace.build_dir / "email" / issue.slug
    outputs = {"html": rendered.html, "txt": rendered.text, "eml": rendered.eml}
    for kind, data in outputs.items():
        atomic_write(folder / f"email.{kind}", data, force=True)
    return {kind: folder / f"email.{kind}" for kind in outputs}
