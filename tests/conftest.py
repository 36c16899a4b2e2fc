"""Shared fixtures: the bundled samples and fresh workspaces in tmp_path."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from browser import browser  # noqa: F401  (the headless Chromium fixture)
from site_fixtures import archive  # noqa: F401  (a small archive for the site tests)

from newsletter.config import Workspace, init_workspace
from newsletter.drafting import import_digest
from newsletter.editorial import read_issue
from newsletter.models import Issue

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SEED_DIGEST = SAMPLES / "000_44c332ae2afef554.txt"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace made by `init`."""
    return init_workspace(tmp_path / "ws", title="SEA Tech Digest")


@pytest.fixture
def seed_issue(workspace: Workspace) -> Issue:
    """Seed 000 imported into the fresh workspace."""
    issue = import_digest(workspace, SEED_DIGEST, date=dt.date(2025, 6, 20))
    assert issue.path is not None
    return read_issue(issue.path)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real `newsletter` command in a subprocess, as an editor runs it."""
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
