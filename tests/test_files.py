"""Story and issue files, settings: round trips, atomic no-clobber writes, located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import run_cli

from newsletter.config import Workspace, find_workspace, load_workspace
from newsletter.editorial import new_issue, read_story, resolve_issue, write_story
from newsletter.errors import ConfigError, OverwriteError, StoryError
from newsletter.models import Issue
from newsletter.slugs import slugify, strip_controls


def test_slugs_are_deterministic_ascii() -> None:
    assert slugify("Hà Nội") == "ha-noi"
    assert slugify("Đà Nẵng’s AI‑first plan") == "da-nangs-ai-first-plan"
    assert slugify("ประเทศไทย") == "story"
    assert strip_controls("Subject\r\nBcc: x\x00") == "Subject Bcc: x"


def test_unknown_front_matter_survives_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "01-a.md"
    path.write_text(
        "---\ntitle: A ฿ story\nurl: https://example.org/a\nrating: 5\n"
        "extra:\n  nested: [1, 2]\n---\nSummary ‑ text.\n\n## Editor’s Note\n\nWhy – it matters.\n",
        encoding="utf-8",
    )
    story = read_story(path)
    assert story.note == "Why – it matters."
    out = tmp_path / "02-b.md"
    write_story(out, story)
    again = read_story(out)
    assert again.model_extra == {"rating": 5, "extra": {"nested": [1, 2]}}
    assert (again.title, again.summary, again.note) == (story.title, story.summary, story.note)


def test_existing_story_is_never_overwritten_without_force(tmp_path: Path) -> None:
    path = tmp_path / "01-a.md"
    path.write_text("editor's precious words", encoding="utf-8")
    story = read_story_text("---\ntitle: New\n---\nS\n\n## Editor's Note\n\nN\n", tmp_path)
    with pytest.raises(OverwriteError, match="use --force"):
        write_story(path, story)
    assert path.read_text(encoding="utf-8") == "editor's precious words"
    write_story(path, story, force=True)
    assert read_story(path).title == "New"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def read_story_text(text: str, folder: Path) -> object:
    source = folder / "source.md"
    source.write_text(text, encoding="utf-8")
    return read_story(source)


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ("title: [unclosed\n", ":3: invalid YAML"),
        ("title: Fine\npublished: not-a-date\n", ":3: published: Input should be a valid date"),
        ("title: Fine\nurl: javascript:alert(1)\n", ":3: url: Value error, must be an http://"),
        ("title: Fine\ntags: 5\n", ":3: tags: Input should be a valid list"),
    ],
)
def test_malformed_front_matter_names_file_line_and_field(
    tmp_path: Path, front_matter: str, expected: str
) -> None:
    path = tmp_path / "01-bad.md"
    path.write_text(f"---\n{front_matter}---\nBody\n", encoding="utf-8")
    with pytest.raises(StoryError) as caught:
        read_story(path)
    assert str(caught.value).startswith(str(path) + expected)


def test_malformed_story_gives_one_line_and_exit_1(workspace: Workspace) -> None:
    issue = new_issue(workspace, date=dt.date(2025, 1, 2), title="Broken")
    assert issue.path is not None
    (issue.path / "01-bad.md").write_text("---\ntitle: ok\npublished: 2025-13-45\n---\nx\n")
    result = run_cli("-w", str(workspace.root), "check")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "01-bad.md:3: invalid date" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_sources_yaml_names_line_and_field(workspace: Workspace) -> None:
    config = workspace.root / "sources.yaml"
    config.write_text(
        "newsletter:\n  title: T\n  url: https://e.org/\n  from: T <t@e.org>\n"
        "sources:\n  - name: a\n    url: https://e.org/feed\n    kind: podcast\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_workspace(workspace.root)
    assert str(caught.value).startswith(f"{config}:8: sources.0.kind: Input should be")
    result = run_cli("-w", str(workspace.root), "check")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "sources.yaml:8: sources.0.kind" in result.stderr


def test_workspace_is_found_upwards_and_init_works(workspace: Workspace, tmp_path: Path) -> None:
    deep = workspace.root / "issues" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_workspace(deep) == workspace.root
    with pytest.raises(ConfigError, match="newsletter init"):
        find_workspace(tmp_path)
    made = run_cli("init", str(tmp_path / "fresh"), "--title", "Weekly: AI # news")
    assert made.returncode == 0, made.stderr
    fresh = load_workspace(tmp_path / "fresh")
    assert fresh.settings.title == "Weekly: AI # news"
    assert (tmp_path / "fresh" / "issues").is_dir()
    assert ".newsletter/" in (tmp_path / "fresh" / ".gitignore").read_text()
    config = tmp_path / "fresh" / "sources.yaml"
    before = config.read_bytes()
    again = run_cli("init", str(tmp_path / "fresh"))
    assert again.returncode == 1 and "already a workspace" in again.stderr
    assert config.read_bytes() == before


def test_new_issue_numbers_and_resolution(workspace: Workspace) -> None:
    first = new_issue(workspace, date=dt.date(2025, 1, 1), title="First")
    second = new_issue(workspace, date=dt.date(2025, 1, 8), title="First")
    assert (first.number, second.number) == (1, 2)
    assert isinstance(second, Issue) and second.path is not None
    assert second.path.name == "2025-01-08-first"
    assert resolve_issue(workspace) == second.path
    assert resolve_issue(workspace, "1") == first.path
    assert resolve_issue(workspace, "2025-01-08") == second.path
    with pytest.raises(StoryError, match="matches no issue"):
        resolve_issue(workspace, "1999")
