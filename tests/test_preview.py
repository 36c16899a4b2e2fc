"""`preview` over real HTTP on 127.0.0.1: email views, the site, rebuilds on change."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from httpserver import running

from newsletter.config import Workspace
from newsletter.models import Issue
from newsletter.preview import preview_server


@pytest.fixture
def served(workspace: Workspace, seed_issue: Issue) -> Iterator[str]:
    """The preview of the seed workspace on a free port; yields its base URL."""
    with running(preview_server(workspace, port=0)) as port:
        yield f"http://127.0.0.1:{port}"


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def test_home_lists_issues_with_email_text_and_site_links(served: str, seed_issue: Issue) -> None:
    home = get(served + "/")
    assert home.status_code == 200
    for view in (".html", ".txt", ".eml"):
        assert f'href="/email/{seed_issue.slug}{view}"' in home.text
    html = get(f"{served}/email/{seed_issue.slug}.html")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert all(story.title in html.text for story in seed_issue.stories)
    text = get(f"{served}/email/{seed_issue.slug}.txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text.count("Editor’s Note: ") == len(seed_issue.stories)
    eml = get(f"{served}/email/{seed_issue.slug}.eml")
    assert eml.headers["content-type"] == "message/rfc822" and b"List-Unsubscribe:" in eml.content


def test_site_is_served_with_drafts_outside_build_site(
    served: str, workspace: Workspace, seed_issue: Issue
) -> None:
    index = get(served + "/site/")
    assert index.status_code == 200 and f"issues/{seed_issue.slug}.html" in index.text
    page = get(f"{served}/site/issues/{seed_issue.slug}.html")
    assert seed_issue.stories[0].title in page.text
    assert get(served + "/site/style.css").headers["content-type"].startswith("text/css")
    assert not (workspace.build_dir / "site").exists()  # the deployable folder is untouched


def test_editing_a_story_rebuilds_email_and_site(
    served: str, workspace: Workspace, seed_issue: Issue
) -> None:
    story = seed_issue.stories[1].path
    assert story is not None
    text = story.read_text(encoding="utf-8")
    old = seed_issue.stories[1].title
    story.write_text(text.replace(old, "Rewritten headline for the preview"), encoding="utf-8")
    later = story.stat().st_mtime_ns + 2_000_000_000  # coarse file-system clocks
    os.utime(story, ns=(later, later))
    html = get(f"{served}/email/{seed_issue.slug}.html").text
    assert "Rewritten headline for the preview" in html and old not in html
    page = get(f"{served}/site/issues/{seed_issue.slug}.html").text
    assert "Rewritten headline for the preview" in page


def test_a_broken_story_shows_the_error_and_the_server_stays_up(
    served: str, seed_issue: Issue
) -> None:
    story = seed_issue.stories[0].path
    assert story is not None
    story.write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    home = get(served + "/")
    assert home.status_code == 200 and 'role="alert"' in home.text
    assert story.name in home.text


def test_unknown_paths_and_escapes_are_not_found(served: str) -> None:
    for path in ("/email/nope.html", "/site/../../sources.yaml", "/site/%2e%2e/sources.yaml", "/x"):
        assert get(served + path).status_code == 404, path


def test_cli_preview_serves_on_localhost(workspace: Workspace, seed_issue: Issue) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "newsletter",
            "-w",
            str(workspace.root),
            "preview",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Preview: http://127.0.0.1:"), line
        url = line.split()[1]
        assert seed_issue.title in get(url).text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_port_in_use_is_one_line_error(workspace: Workspace) -> None:
    server = preview_server(workspace, port=0)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "newsletter", "-w", str(workspace.root), "preview",
             "--port", str(server.server_port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        server.server_close()
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot serve on 127.0.0.1:{server.server_port}: ")
    assert result.stderr.count("\n") == 1
