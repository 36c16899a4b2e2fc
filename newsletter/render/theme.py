"""The Jinja environment over the workspace's templates and the default theme."""

from __future__ import annotations

import datetime as dt
import functools

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from newsletter.config import Workspace
from newsletter.models import Issue
from newsletter.render.colours import mix
from newsletter.render.markdown import to_html

__all__ = ["environment", "issue_path", "long_date"]


def issue_path(issue: Issue) -> str:
    """The issue page's path inside the site, also its path under the archive URL."""
    return f"issues/{issue.slug}.html"


@functools.cache  # a site shows each day on many pages
def long_date(day: dt.date) -> str:
    """`20 June 2025`: unambiguous in every locale."""
    return f"{day.day} {day:%B %Y}"


def environment(workspace: Workspace) -> Environment:
    """Templates looked up in the workspace's `templates/` first, then the default theme."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in workspace.template_dirs]),
        autoescape=select_autoescape(["html", "mjml", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    env.filters["mix"] = mix
    # MRML keeps a newline inside an attribute value as a literal "\n"
    env.filters["oneline"] = lambda text: " ".join(str(text).split())
    env.filters["markdown"] = lambda text: Markup(to_html(text or ""))
    env.globals["issue_path"] = issue_path
    return env
