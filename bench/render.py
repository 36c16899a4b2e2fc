"""Benchmark the email render: time per phase and HTML bytes per story.

    python bench/render.py [--repeat 30]

Renders synthetic issues (tests/synthetic.py: each story a headline, two
90-word paragraphs and a 55-word note) of 1, 10 and 30 stories and prints the
median milliseconds of each phase (Jinja, MJML, CSS inlining, text, MIME) and
of the whole `render_email`, then the HTML size and the bytes each story adds.
Targets: 10 stories in at most 20 ms; HTML at most 4 KB per story plus 15 KB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from synthetic import synthetic_issue

from newsletter.config import Workspace, init_workspace
from newsletter.deliver.mime import build_message
from newsletter.deliver.unsubscribe import unsubscribe
from newsletter.models import Issue
from newsletter.render.email import TEMPLATE, email_mjml, render_email
from newsletter.render.mjml import compile_mjml, inline_css, split_inline_styles
from newsletter.render.text import issue_text

SIZES = (1, 10, 30)


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def phases(workspace: Workspace, issue: Issue) -> dict[str, Callable[[], object]]:
    """Each phase of `render_email` as a call on the previous phase's output."""
    settings, links = workspace.settings, unsubscribe(workspace.settings)
    source = email_mjml(workspace, issue, links)
    bare, css = split_inline_styles(source)
    compiled = compile_mjml(bare, template=TEMPLATE)
    html = inline_css(compiled, css)
    text = issue_text(issue, settings, unsubscribe=links.link)
    return {
        "jinja": lambda: email_mjml(workspace, issue, links),
        "mjml": lambda: compile_mjml(bare, template=TEMPLATE),
        "inline": lambda: inline_css(compiled, css),
        "text": lambda: issue_text(issue, settings, unsubscribe=links.link),
        "mime": lambda: build_message(
            settings=settings,
            subject=issue.title,
            text=text,
            html=html,
            message_key="bench",
            unsubscribe=links,
        ),
        "total": lambda: render_email(workspace, issue),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    repeat = parser.parse_args().repeat
    workspace = init_workspace(Path(tempfile.mkdtemp()) / "ws", title="SEA Tech Digest")
    print(f"{'stories':>7} {'jinja':>7} {'mjml':>7} {'inline':>7} {'text':>7} {'mime':>7}"
          f" {'total':>7} {'html KB':>8}")  # fmt: skip
    sizes = {}
    for count in SIZES:
        issue = synthetic_issue(count)
        work = phases(workspace, issue)
        ms = {name: median_ms(job, repeat) for name, job in work.items()}
        sizes[count] = len(render_email(workspace, issue).html.encode("utf-8"))
        print(f"{count:>7} " + " ".join(f"{v:>7.2f}" for v in ms.values())
              + f" {sizes[count] / 1024:>8.1f}")  # fmt: skip
    per_story = (sizes[SIZES[-1]] - sizes[SIZES[0]]) / (SIZES[-1] - SIZES[0])
    fixed = sizes[SIZES[0]] - per_story
    print(f"HTML: {per_story / 1024:.2f} KB per story + {fixed / 1024:.1f} KB fixed "
          "(target: <= 4 KB per story + <= 15 KB)")  # fmt: skip


if __name__ == "__main__":
    main()
