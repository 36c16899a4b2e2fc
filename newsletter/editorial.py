"""Reading and writing issue folders and story files (python-frontmatter)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, TypeVar

import frontmatter

from newsletter.config import Workspace
from newsletter.errors import StoryError
from newsletter.fileio import atomic_write, read_text
from newsletter.models import BODY_FIELDS, Issue, Story
from newsletter.slugs import slugify, strip_controls, unique_slug
from newsletter.yamlio import load_yaml, validate

__all__ = [
    "ISSUE_FILE",
    "NOTE_HEADING",
    "list_issues",
    "new_issue",
    "next_issue_number",
    "next_story_path",
    "read_issue",
    "read_issue_file",
    "read_story",
    "resolve_issue",
    "story_files",
    "story_names",
    "write_issue",
    "write_story",
]

ISSUE_FILE = "issue.md"
NOTE_HEADING = "## Editor's Note"
# Editors type either apostrophe; both open the note section.
_NOTE_SECTION = re.compile(r"^##\s+Editor['’]s\s+Note\s*$", re.MULTILINE | re.IGNORECASE)
_STORY_FILE = re.compile(r"^(\d+)-.+\.md$")
_HANDLER = frontmatter.YAMLHandler()
M = TypeVar("M", Story, Issue)


def read_story(path: Path, text: str | None = None) -> Story:
    """A story file (or its `text`, already read) -> `Story`; errors name file, line, field."""
    meta, fm, body = _read(path, text)
    summary, note = _split_note(body)
    return _model(Story, meta, fm, path, summary=summary, note=note)


def write_story(path: Path, story: Story, *, force: bool = False) -> None:
    """Write a story file atomically; an existing file needs `force`."""
    body = story.summary.strip() + "\n\n" + NOTE_HEADING + "\n\n" + (story.note or "").strip()
    atomic_write(path, _dump(story, body), force=force)


def read_issue(folder: Path) -> Issue:
    """An issue folder -> `Issue` with its stories in file-name order."""
    stories = [read_story(story) for story in story_files(folder)]
    return read_issue_file(folder / ISSUE_FILE).model_copy(update={"stories": stories})


def read_issue_file(path: Path, text: str | None = None) -> Issue:
    """An `issue.md` (or its already read `text`) -> `Issue` without its stories."""
    meta, fm, intro = _read(path, text)
    return _model(Issue, meta, fm, path, intro=intro, path=path.parent)


def write_issue(issue: Issue, *, force: bool = False) -> None:
    """Write `issue.md` (front matter and intro); the stories are written one by one."""
    if issue.path is None:
        raise StoryError("issue has no folder", field="path")
    atomic_write(issue.path / ISSUE_FILE, _dump(issue, issue.intro.strip()), force=force)


def list_issues(workspace: Workspace) -> list[Issue]:
    """Every issue of the workspace, oldest first (by date, then number)."""
    issues = [read_issue(folder) for folder in _issue_folders(workspace)]
    return sorted(issues, key=lambda issue: (issue.date, issue.number or 0, issue.slug))


def resolve_issue(workspace: Workspace, ref: str | None = None) -> Path:
    """The folder of the issue named by `ref`: a folder path, a folder name,
    a unique prefix of one or an issue number; the newest issue when `ref` is None."""
    if ref is None:
        issues = list_issues(workspace)
        if not issues or issues[-1].path is None:
            raise StoryError(
                "no issues yet; run 'newsletter new' or 'newsletter import'",
                path=workspace.issues_dir,
            )
        return issues[-1].path
    if (Path(ref) / ISSUE_FILE).is_file():
        return Path(ref).resolve()
    folders = _issue_folders(workspace)
    matches = [f for f in folders if f.name == ref] or [
        f for f in folders if f.name.startswith(ref)
    ]
    if ref.isdigit():
        matches = matches or [f for f in folders if read_issue(f).number == int(ref)]
    if len(matches) != 1:
        found = "matches several issues" if matches else "matches no issue"
        raise StoryError(f"'{ref}' {found} in {workspace.issues_dir}")
    return matches[0]


def new_issue(
    workspace: Workspace,
    *,
    date: dt.date | None = None,
    title: str = "",
    preheader: str = "",
    intro: str = "",
) -> Issue:
    """Start an issue folder `issues/<date>-<slug>/` with the next issue number."""
    date = date or dt.date.today()
    title = strip_controls(title)
    number = next_issue_number(workspace)
    slug = f"{date.isoformat()}-{slugify(title or f'issue {number}', fallback='issue')}"
    taken = {p.name for p in workspace.issues_dir.glob("*")}
    folder = workspace.issues_dir / unique_slug(slug, taken)
    issue = Issue(
        title=title or f"Issue {number}",
        date=date,
        number=number,
        preheader=preheader,
        intro=intro,
        path=folder,
    )
    write_issue(issue)
    return issue


def next_issue_number(workspace: Workspace) -> int:
    """One more than the highest issue number so far."""
    return max((issue.number or 0 for issue in list_issues(workspace)), default=0) + 1


def next_story_path(folder: Path, title: str) -> Path:
    """`NN-<slug>.md` after the last story of `folder`, its slug unlike any other there."""
    files = story_files(folder)
    number = max((int(_STORY_FILE.match(p.name)[1]) for p in files), default=0) + 1
    slugs = {p.stem.split("-", 1)[1] for p in files}
    return folder / f"{number:02d}-{unique_slug(slugify(title), slugs)}.md"


def _issue_folders(workspace: Workspace) -> list[Path]:
    return sorted(p.parent for p in workspace.issues_dir.glob(f"*/{ISSUE_FILE}"))


def story_files(folder: Path) -> list[Path]:
    """The story files of an issue folder, in the order of their numbers."""
    return [folder / name for name in story_names(folder)]


def story_names(folder: Path) -> list[str]:
    """The file names of `story_files` (listing without Path objects: the site reads 10,000s)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(name for name in names if _STORY_FILE.match(name))


def _read(path: Path, text: str | None = None) -> tuple[dict[str, Any], str, str]:
    """Front matter as data and as text, and the body, of a Markdown file."""
    if text is None:
        text = read_text(path, StoryError)
    if not _HANDLER.detect(text):
        raise StoryError(
            "no front matter: the file must start with a '---' line", path=path, line=1
        )
    try:
        fm, body = _HANDLER.split(text)
    except ValueError:
        raise StoryError("front matter is not closed by a '---' line", path=path, line=1) from None
    meta = load_yaml(fm, path, error=StoryError) or {}
    if not isinstance(meta, dict):
        raise StoryError("front matter must be a mapping of keys to values", path=path, line=2)
    return meta, fm, body.strip()


def _model(model: type[M], meta: dict[str, Any], fm: str, file: Path, **body: Any) -> M:
    """Validate front matter plus body fields; a body field set in front matter is refused."""
    clash = sorted(BODY_FIELDS & meta.keys())
    if clash:
        raise StoryError(
            "belongs in the file's body, not its front matter", path=file, field=clash[0]
        )
    body.setdefault("path", file)
    return validate(model, {**meta, **body}, path=file, text=fm, error=StoryError)


def _dump(model: Story | Issue, body: str) -> str:
    """Front matter (known keys first, unknown keys kept) and body, as file text."""
    meta = model.model_dump(exclude=set(BODY_FIELDS), exclude_none=True)
    # Empty known fields are left out to keep files short; the editor's own keys stay as written.
    known = type(model).model_fields
    meta = {k: v for k, v in meta.items() if k not in known or v not in ("", [])}
    post = frontmatter.Post(body, **meta)
    return frontmatter.dumps(post, sort_keys=False, allow_unicode=True, width=10_000) + "\n"


def _split_note(body: str) -> tuple[str, str | None]:
    """Body -> (summary, Editor's Note or None when the section is missing)."""
    match = _NOTE_SECTION.search(body)
    if match is None:
        return body.strip(), None
    return body[: match.start()].strip(), body[match.end() :].strip()
