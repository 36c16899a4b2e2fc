"""`make demo`: the editor's whole job, end to end, on the bundled offline samples.

Copies this repository's workspace (settings, the shipped seed issue and the
offline sample feeds) to a scratch folder, gathers every source into the inbox,
picks the stories that have not run yet into a new draft issue, renders the
seed issue's email, builds the archive and prints where everything is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def newsletter(workspace: Path, *args: str, check: bool = True, quiet: bool = False) -> str:
    """Run one CLI command as an editor would, echoing it and its output."""
    command = [sys.executable, "-m", "newsletter", "--workspace", str(workspace), *args]
    print("$ newsletter " + " ".join(args), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    print(result.stderr if quiet else result.stdout + result.stderr, end="", flush=True)
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.stdout.strip()


def main() -> None:
    workspace = Path(sys.argv[1] if len(sys.argv) > 1 else "build/demo").resolve()
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    shutil.copy2(REPO / "sources.yaml", workspace / "sources.yaml")
    shutil.copytree(REPO / "issues", workspace / "issues")
    shutil.copytree(REPO / "samples" / "feeds", workspace / "samples" / "feeds")
    seed_issue = sorted((workspace / "issues").iterdir())[0].name

    newsletter(workspace, "gather")
    newsletter(workspace, "inbox")
    inbox = json.loads(newsletter(workspace, "inbox", "--json", quiet=True))
    fresh = [str(candidate["id"]) for candidate in inbox if not candidate["ran_in"]]
    draft = newsletter(workspace, "new", "--title", "Draft from the inbox")
    newsletter(workspace, "pick", *fresh, "--issue", Path(draft).name)
    newsletter(workspace, "check", Path(draft).name, check=False)  # lists the TODOs left
    newsletter(workspace, "check", seed_issue)
    rendered = newsletter(workspace, "render", seed_issue).splitlines()
    index = newsletter(workspace, "build")
    newsletter(workspace, "check", "--site")  # every internal link of the archive resolves

    print("\nDone. Open these in a browser or mail client:")
    print(f"  email: {next(p for p in rendered if p.endswith('email.html'))}")
    print(f"  eml:   {next(p for p in rendered if p.endswith('email.eml'))}")
    print(f"  site:  {index}")
    site = Path(index).parent
    print(f"         search needs it served: python3 -m http.server -d {site}, then /search.html")
    print(f"  inbox: {workspace / '.newsletter' / 'inbox.sqlite'}")
    print(f"  draft: {draft} (stories picked from the inbox; article texts beside them)")
    print(f"\nTo see them served and rebuilt as you edit: newsletter -w {workspace} preview")


if __name__ == "__main__":
    main()
