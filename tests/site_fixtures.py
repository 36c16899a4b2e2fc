"""A small archive for the site tests: the seed issue, tagged, and two later issues."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsletter.config import Workspace, load_workspace
from newsletter.editorial import read_story, write_story
from newsletter.models import Issue

__all__ = ["archive", "files", "stamps", "story_file"]

# Tags given to the seed's eight stories, in order.
SEED_TAGS = [["ai", "vietnam"], ["space", "vietnam"], ["law", "vietnam"], ["ai", "law", "thailand"],
             ["cloud", "thailand"], ["ai", "thailand"], ["policy"], ["thailand"]]  # fmt: skip

LATER = {
    "2025-06-27-chips-and-payments": (
        "title: Chips and payments\ndate: 2025-06-27\nnumber: 2\nstatus: sent\n"
        "preheader: Chips in Penang, QR payments everywhere.",
        [
            ("01-penang-chip-plant.md", "Penang opens a chip plant", "Bangkok Post", ["ai"], ""),
            ("02-qr-payments.md", "QR payments cross borders", "Nation Thailand", ["payments"],
             "language: th\n"),
        ],
    ),
    "2025-07-04-data-centres": (
        "title: Data centres\ndate: 2025-07-04\nnumber: 3\nstatus: ready",
        [
            ("01-johor-data-centres.md", "Johor data centres grow", "Bangkok Post", ["cloud"], ""),
            ("02-grid-strain.md", "Grid strain in Johor", "Bangkok Post", ["cloud", "ai"], ""),
        ],
    ),
}  # fmt: skip


def _story_text(title: str, source: str, tags: list[str], extra: str, n: int) -> str:
    return (
        f"---\ntitle: {title}\nurl: https://news.example.com/{n}/{title.split()[0].lower()}\n"
        f"source: {source}\npublished: 2025-06-2{n % 10}\ntags: [{', '.join(tags)}]\n{extra}---\n"
        f"{title} is the first paragraph of this summary, about regional technology.\n\n"
        f"A second paragraph with more detail about {title.lower()}.\n\n"
        f"## Editor's Note\n\nWhy {title.lower()} matters to our readers.\n"
    )


@pytest.fixture
def archive(workspace: Workspace, seed_issue: Issue) -> Workspace:
    """Three issues with tags and sources; one story is in Thai."""
    for story, tags in zip(seed_issue.stories, SEED_TAGS, strict=True):
        assert story.path is not None
        write_story(story.path, story.model_copy(update={"tags": tags}), force=True)
    for n, (folder, (front, stories)) in enumerate(LATER.items()):
        root = workspace.issues_dir / folder
        root.mkdir()
        (root / "issue.md").write_text(f"---\n{front}\n---\nThe intro of {folder}.\n", "utf-8")
        for name, title, source, tags, extra in stories:
            text = _story_text(title, source, tags, extra, n)
            (root / name).write_text(text, encoding="utf-8")
    return load_workspace(workspace.root)


def story_file(workspace: Workspace, name: str) -> Path:
    """The one story file of the workspace whose name ends with `name`."""
    (found,) = [p for p in workspace.issues_dir.glob("*/*.md") if p.name.endswith(name)]
    read_story(found)  # it is a valid story
    return found


def files(out: Path) -> dict[str, bytes]:
    """Every file of a built site (Pagefind's bundle aside) and its bytes."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.relative_to(out).as_posix().startswith("pagefind/")
    }


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """Inode and modification time of every output: a rewritten file changes both."""
    return {
        path: (st.st_ino, st.st_mtime_ns) for path in files(out) for st in [os.stat(out / path)]
    }
