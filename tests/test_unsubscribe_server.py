"""The unsubscribe endpoint over real HTTP on 127.0.0.1: one-click POST, GET page, forgeries."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from httpserver import running

from newsletter.config import Workspace, load_workspace
from newsletter.deliver.subscribers import open_subscribers
from newsletter.deliver.webapp import serve_unsubscribe


@pytest.fixture
def served(workspace: Workspace) -> Iterator[tuple[str, dict[str, str]]]:
    """The server on a free port, and the tokens of two subscribers."""
    config = workspace.root / "sources.yaml"
    config.write_text(
        config.read_text().replace(
            "  note_label:", '  unsubscribe_url: "https://example.org/u?t={token}"\n  note_label:'
        )
    )
    workspace = load_workspace(workspace.root)
    with open_subscribers(workspace) as store:
        tokens = {a: store.add(a).token for a in ("ana@example.org", "bob@example.org")}
    with running(serve_unsubscribe(workspace, port=0)) as port:
        yield f"http://127.0.0.1:{port}", tokens


def statuses(workspace: Workspace) -> dict[str, str]:
    with open_subscribers(workspace) as store:
        return {s.email: s.status for s in store.list()}


ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_one_click_post_unsubscribes_without_a_redirect(
    served: tuple[str, dict[str, str]], workspace: Workspace
) -> None:
    base, tokens = served
    response = httpx.post(f"{base}/u?t={tokens['ana@example.org']}", data=ONE_CLICK)
    assert response.status_code == 200 and "location" not in response.headers
    assert "You are unsubscribed" in response.text
    assert statuses(workspace) == {"ana@example.org": "unsubscribed", "bob@example.org": "active"}
    again = httpx.post(f"{base}/u?t={tokens['ana@example.org']}", data=ONE_CLICK)
    assert again.status_code == 200  # idempotent: a client may retry


def test_get_shows_a_confirmation_page_and_changes_nothing(
    served: tuple[str, dict[str, str]], workspace: Workspace
) -> None:
    base, tokens = served
    response = httpx.get(f"{base}/u?t={tokens['bob@example.org']}")
    assert response.status_code == 200 and "location" not in response.headers
    assert '<form method="post">' in response.text and "bob@example.org" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert statuses(workspace)["bob@example.org"] == "active"


def test_a_forged_or_missing_token_changes_nothing(
    served: tuple[str, dict[str, str]], workspace: Workspace
) -> None:
    base, tokens = served
    real = tokens["ana@example.org"]
    forged = real[:-4] + ("0000" if real[-4:] != "0000" else "1111")
    for url in (f"{base}/u?t={forged}", f"{base}/u?t=ana@example.org", f"{base}/u", f"{base}/"):
        response = httpx.post(url, data=ONE_CLICK)
        assert response.status_code == 404 and "not valid" in response.text
        assert "ana@example.org" not in response.text
    assert set(statuses(workspace).values()) == {"active"}
    assert httpx.request("DELETE", f"{base}/u?t={real}").status_code == 405


def test_the_token_may_be_the_last_path_segment(
    served: tuple[str, dict[str, str]], workspace: Workspace
) -> None:
    base, tokens = served
    response = httpx.post(f"{base}/unsubscribe/{tokens['bob@example.org']}", data=ONE_CLICK)
    assert response.status_code == 200
    assert statuses(workspace)["bob@example.org"] == "unsubscribed"


def test_the_command_serves_on_the_port_it_prints(workspace: Workspace) -> None:
    with open_subscribers(workspace) as store:
        token = store.add("ana@example.org").token
    command = ["-w", str(workspace.root), "unsubscribe-server", "--port", "0"]
    server = subprocess.Popen(
        [sys.executable, "-m", "newsletter", *command], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = line.split()[2]
        assert url.startswith("http://127.0.0.1:")
        response = httpx.post(f"{url}?token={token}", data=ONE_CLICK)
        assert response.status_code == 200
    finally:
        server.terminate()
        server.wait(10)
    assert statuses(workspace) == {"ana@example.org": "unsubscribed"}
