"""Benchmark of `newsletter build`: a synthetic archive, built cold, again, and after an edit.

    python bench/site_build.py [--issues 1000] [--stories 10] [--words 250] [--keep DIR]

Generates a workspace in a temporary folder (issues of stories of about 250
words, with tags, sources, URLs and dates; a third of them use Markdown
syntax), then times, each in a fresh
process as the CLI would run it:

- a cold full build without the search index, and one with it;
- a rebuild with nothing changed;
- a rebuild after editing one story (without search: Pagefind is not
  incremental, so the one-story edit with search is printed separately);

and prints pages written and the peak RSS of the build process and of its
worker processes. Targets on a 2-core machine: cold build without search
<= 8 s, no-change rebuild <= 1 s, one-story edit <= 1 s, peak RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "cloud",
    "data",
    "centre",
    "chip",
    "startup",
    "funding",
    "regulator",
    "ministry",
    "digital",
    "payment",
    "wallet",
    "broadband",
    "satellite",
    "model",
    "training",
    "sovereign",
    "infrastructure",
    "semiconductor",
    "fintech",
    "investment",
    "capacity",
    "policy",
    "network",
    "mobile",
    "operator",
    "platform",
    "security",
    "privacy",
    "electric",
    "vehicle",
    "battery",
    "grid",
    "solar",
    "partnership",
    "export",
    "talent",
    "university",
    "research",
]
TAGS = [f"topic-{n}" for n in range(40)] + ["ai", "vietnam", "thailand", "indonesia", "cloud"]
SOURCES = [f"Source {n} News" for n in range(60)]

CONFIG = """\
newsletter:
  title: Bench Digest
  url: https://example.org/digest/
  language: en
  from: "Bench Digest <digest@example.org>"
  description: "A synthetic archive for the build benchmark."
"""


def paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def story(rng: random.Random, issue: int, n: int, words: int) -> str:
    tags = ", ".join(sorted(rng.sample(TAGS, rng.randint(1, 3))))
    # A third of the stories use Markdown (a link, emphasis, R&D): they take Python-Markdown's
    # full path; the rest are plain prose, as most summaries are.
    extra = " See *the* [report](https://example.org/r) on R&D." if rng.random() < 0.33 else ""
    return (
        "---\n"
        f"title: {json.dumps(f'Story {n} of issue {issue}: {paragraph(rng, 6)[:-1]}')}\n"
        f"url: https://news.example.com/{issue}/{n}/story\n"
        f"source: {rng.choice(SOURCES)}\n"
        f"published: 2020-01-{1 + n:02d}\n"
        f"tags: [{tags}]\n"
        "---\n"
        f"{paragraph(rng, words // 2 - 40)}\n\n{paragraph(rng, words // 2 - 40)}{extra}\n\n"
        f"## Editor's Note\n\n{paragraph(rng, 80)}\n"
    )


def generate(root: Path, issues: int, stories: int, words: int) -> None:
    """A workspace of `issues` ready issues, one a day from 2000-01-01."""
    rng = random.Random(6)
    (root / "sources.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(1, issues + 1):
        day = time.strftime("%Y-%m-%d", time.gmtime(946684800 + i * 86400))
        folder = root / "issues" / f"{day}-issue-{i}"
        folder.mkdir(parents=True)
        (folder / "issue.md").write_text(
            f"---\ntitle: Issue {i}\ndate: {day}\nnumber: {i}\nstatus: sent\n---\n"
            f"{paragraph(rng, 40)}\n",
            encoding="utf-8",
        )
        for n in range(1, stories + 1):
            text = story(rng, i, n, words)
            (folder / f"{n:02d}-story-{n}.md").write_text(text, encoding="utf-8")


def child(root: Path, search: bool, clean: bool) -> None:
    """One build in this process; prints its numbers as JSON."""
    from newsletter.config import load_workspace
    from newsletter.site.build import build

    started = time.perf_counter()
    report = build(load_workspace(root), clean=clean, search_index=search)
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "pages": report.pages,
                "written": report.written,
                "converted": report.converted,
                "searched": report.searched,
                "rss_mb": own / 1024,
                "child_rss_mb": workers / 1024,
            }
        )
    )


def run(root: Path, *, search: bool, clean: bool = False) -> dict:
    """A build in a fresh interpreter, as `newsletter build` runs: its numbers and wall time."""
    args = [sys.executable, __file__, "--child", str(root)]
    args += ["--search"] if search else []
    args += ["--clean"] if clean else []
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(done.stderr)
    result = json.loads(done.stdout)
    result["wall"] = time.perf_counter() - started
    return result


def edit_one_story(root: Path, round_: int) -> None:
    path = sorted((root / "issues").glob("*/05-*.md"))[len(list(root.glob("issues/*"))) // 2]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n\n## Editor", f" Edited {round_}.\n\n## Editor"), "utf-8")


def show(label: str, r: dict) -> None:
    print(
        f"{label:<34} {r['seconds']:6.2f} s in build ({r['wall']:5.2f} s wall)  "
        f"pages {r['pages']:>6}  written {r['written']:>6}  converted {r['converted']:>6}  "
        f"search {'yes' if r['searched'] else 'no ':<3}  peak RSS {r['rss_mb']:5.0f} MB "
        f"(workers {r['child_rss_mb']:5.0f} MB)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=10)
    parser.add_argument("--words", type=int, default=250)
    parser.add_argument("--keep", type=Path, help="generate here and keep it")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--search", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clean", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.search, args.clean)
        return
    with tempfile.TemporaryDirectory(prefix="site-bench-") as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        generate(root, args.issues, args.stories, args.words)
        print(f"{args.issues} issues x {args.stories} stories, ~{args.words} words, in {root}")
        show("cold build, no search", run(root, search=False, clean=True))
        show("no-change rebuild, no search", run(root, search=False))
        edit_one_story(root, 1)
        show("one-story edit, no search", run(root, search=False))
        show("cold build with search", run(root, search=True, clean=True))
        show("no-change rebuild with search", run(root, search=True))
        edit_one_story(root, 2)
        show("one-story edit with search", run(root, search=True))


if __name__ == "__main__":
    main()
