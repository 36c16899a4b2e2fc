"""Search phase: the Pagefind index in `build/site/pagefind/`.

Pagefind ships as a binary inside the `pagefind[extended]` wheel (no download,
no network). It is not incremental, so the build runs it only when page text changed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from newsletter.errors import RenderError

__all__ = ["BUNDLE", "index_site", "remove_index"]

BUNDLE = "pagefind"
TIMEOUT = 600  # seconds; Pagefind indexes 10,000 pages in about 25 s


def _executable() -> Path:
    from pagefind.service import get_executable

    found = get_executable()
    if found is None:
        raise RenderError("Pagefind's binary is missing: pip install 'pagefind[extended]'")
    return found


def index_site(out: Path) -> None:
    """Index the pages of `out` that carry `data-pagefind-body` (issues and stories)."""
    command = [str(_executable()), "--site", str(out), "--output-subdir", BUNDLE, "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"Pagefind did not run: {exc}", path=out) from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise RenderError(f"Pagefind failed: {lines[-1]}", path=out)


def is_indexed(out: Path) -> bool:
    return (out / BUNDLE / "pagefind-ui.js").is_file()


def remove_index(out: Path) -> None:
    """Search turned off: no stale index stays published."""
    shutil.rmtree(out / BUNDLE, ignore_errors=True)
