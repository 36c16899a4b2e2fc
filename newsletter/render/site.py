"""`build`: the archive site in `build/site/` (an index and a page per issue)."""

from __future__ import annotations

from pathlib import Path

from newsletter.config import Workspace
from newsletter.editorial import list_issues
from newsletter.fileio import atomic_write
from newsletter.models import Issue
from newsletter.render.theme import environment, issue_path

__all__ = ["build_site"]

STATIC = ("site/style.css",)


def build_site(workspace: Workspace, *, drafts: bool = False) -> Path:
    """Write the whole archive of ready and sent issues (and drafts if asked);
    returns the path of `index.html`."""
    published = [i for i in list_issues(workspace) if drafts or i.status != "draft"]
    issues = list(reversed(published))  # newest first
    out = workspace.build_dir / "site"
    pages = {"index.html": ("site/index.html", {"issues": issues})}
    for issue in issues:
        pages[issue_path(issue)] = ("site/issue.html", {"issue": issue})
    env = environment(workspace)
    settings = workspace.settings
    for path, (template, context) in pages.items():
        root = "../" * path.count("/")
        html = env.get_template(template).render(
            settings=settings,
            root=root,
            canonical=settings.url + path.removesuffix("index.html"),
            description=_description(context.get("issue")) or settings.description,
            **context,
        )
        atomic_write(out / path, html, force=True)
    for name in STATIC:
        source = env.get_template(name).render(settings=settings)
        atomic_write(out / Path(name).name, source, force=True)
    return out / "index.html"


def _description(issue: Issue | None) -> str:
    if issue is None:
        return ""
    return issue.preheader or "; ".join(story.title for story in issue.stories[:3])
