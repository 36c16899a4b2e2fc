"""`make demo`: the editor's whole job, end to end, on the bundled offline samples.

Copies this repository's workspace (settings and the shipped seed issue) to a
scratch folder, drafts a new issue from the raw sample articles, renders the
seed issue's email, builds the archive and prints where everything is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "samples").glob("00[1-4]_*.txt"))


def newsletter(workspace: Path, *args: str, check: bool = True) -> str:
    """Run one CLI command as an editor would, echoing it and its output."""
    command = [sys.executable, "-m", "newsletter", "--workspace", str(workspace), *args]
    print("$ newsletter " + " ".join(args), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    print(result.stdout + result.stderr, end="", flush=True)
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.stdout.strip()


def main() -> None:
    workspace = Path(sys.argv[1] if len(sys.argv) > 1 else "build/demo").resolve()
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    shutil.copy2(REPO / "sources.yaml", workspace / "sources.yaml")
    shutil.copytree(REPO / "issues", workspace / "issues")
    seed_issue = sorted((workspace / "issues").iterdir())[0].name

    draft = newsletter(workspace, "new", "--title", "Draft from the raw samples")
    for sample in SAMPLES:
        newsletter(workspace, "add", str(sample), "--issue", Path(draft).name)
    newsletter(workspace, "check", Path(draft).name, check=False)  # lists the TODOs left
    newsletter(workspace, "check", seed_issue)
    rendered = newsletter(workspace, "render", seed_issue).splitlines()
    index = newsletter(workspace, "build")

    print("\nDone. Open these in a browser or mail client:")
    print(f"  email: {next(p for p in rendered if p.endswith('email.html'))}")
    print(f"  eml:   {next(p for p in rendered if p.endswith('email.eml'))}")
    print(f"  site:  {index}")
    print(f"  draft: {draft} (stories to write; article texts beside them)")


if __name__ == "__main__":
    main()
