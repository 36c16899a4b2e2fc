"""The `newsletter` command: a thin layer over the library, one function per command."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from newsletter import __version__
from newsletter.check import check_issue, has_errors
from newsletter.config import Workspace, init_workspace, load_workspace
from newsletter.drafting import add_article, import_digest, pick_candidates
from newsletter.editorial import new_issue, read_issue, resolve_issue
from newsletter.errors import NewsletterError
from newsletter.gather.run import SourceReport
from newsletter.gather.run import gather as run_gather
from newsletter.inbox import open_inbox
from newsletter.render.email import write_email
from newsletter.render.site import build as build_archive
from newsletter.site.linkcheck import check_site
from newsletter.triage import dismiss as dismiss_candidates
from newsletter.triage import list_inbox

app = typer.Typer(
    help="Gather stories, write an issue in Markdown, render the email and the archive.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

IssueRef = Annotated[
    str | None,
    typer.Argument(help="Issue folder, folder name, number or prefix (default: the newest)."),
]
Force = Annotated[bool, typer.Option("--force", help="Replace existing files.")]
DateOption = Annotated[
    dt.datetime | None,
    typer.Option("--date", formats=["%Y-%m-%d"], help="Issue date (YYYY-MM-DD)."),
]


@app.callback(invoke_without_command=True)
def _global(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace", "-w", help="Workspace folder (default: nearest with sources.yaml)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    if version:
        _say(f"newsletter {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        _say(ctx.get_help())
        raise typer.Exit()
    ctx.obj = workspace


def _workspace(ctx: typer.Context) -> Workspace:
    return load_workspace(ctx.obj)


def _say(text: str) -> None:
    out.print(text, markup=False)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to make the workspace in.")] = Path("."),
    title: Annotated[str, typer.Option(help="The newsletter's title.")] = "My Newsletter",
) -> None:
    """Make a fresh workspace: sources.yaml, issues/, templates/."""
    workspace = init_workspace(directory, title=title)
    _say(f"Workspace ready: {workspace.root / 'sources.yaml'}")


@app.command()
def new(
    ctx: typer.Context,
    date: DateOption = None,
    title: Annotated[str, typer.Option(help="Issue title.")] = "",
    preheader: Annotated[str, typer.Option(help="Inbox preview text.")] = "",
) -> None:
    """Start an issue in issues/<date>-<slug>/."""
    issue = new_issue(
        _workspace(ctx), date=date.date() if date else None, title=title, preheader=preheader
    )
    _say(str(issue.path))


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A plain-text digest (the form of email.txt).")],
    date: DateOption = None,
    title: Annotated[str | None, typer.Option(help="Issue title (default: from the file).")] = None,
    force: Force = False,
) -> None:
    """Import a plain-text digest as a new issue."""
    issue = import_digest(
        _workspace(ctx), file, date=date.date() if date else None, title=title, force=force
    )
    _say(f"{issue.path}: {len(issue.stories)} stories")


@app.command()
def add(
    ctx: typer.Context,
    location: Annotated[
        str, typer.Argument(help="Article URL or file (web page, WordPress JSON, text).")
    ],
    issue: Annotated[
        str | None, typer.Option(help="Issue to add to (default: the newest unsent).")
    ] = None,
) -> None:
    """Add one article to an issue as a draft story (always a new file)."""
    path = add_article(_workspace(ctx), location, issue=issue)
    _say(str(path))


@app.command()
def gather(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Only this source (also retries it now if backing off)."),
    ] = None,
) -> None:
    """Fetch every enabled source into the inbox; a failing source never stops the rest."""
    workspace = _workspace(ctx)
    count = 1 if source else sum(s.enabled for s in workspace.config.sources)
    with Progress(
        TextColumn("gather"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=count)
        reports = run_gather(
            workspace,
            only=source,
            progress=lambda report: bar.update(task, advance=1, description=report.name),
        )
    out.print(_gather_table(reports))
    for report in reports:
        for note in report.notes:
            _say(f"{report.name}: {note}")


def _gather_table(reports: list[SourceReport]) -> Table:
    table = Table("source", "status", "new", "updated", "unchanged", "errors", "reason")
    for r in sorted(reports, key=lambda r: r.name):
        style = {"failed": "red", "gone": "red", "skipped": "yellow"}.get(r.status)
        table.add_row(
            Text(r.name),
            Text(r.status, style=style or ""),
            str(r.new),
            str(r.updated),
            str(r.unchanged),
            str(r.errors or ""),
            Text(r.reason),
        )
    return table


@app.command("inbox")
def inbox_(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array for scripts.")
    ] = False,
    source: Annotated[str | None, typer.Option(help="Only candidates from this source.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only candidates with this tag.")] = None,
    query: Annotated[
        str | None, typer.Option(help="Only candidates whose title or text contains this.")
    ] = None,
    since: DateOption = None,
    status: Annotated[str, typer.Option(help="new, picked, dismissed or all.")] = "new",
    limit: Annotated[int, typer.Option(help="At most this many (0: no limit).")] = 50,
) -> None:
    """List gathered candidates, newest first."""
    workspace = _workspace(ctx)
    found = list_inbox(
        workspace,
        status=status,
        source=source,
        tag=tag,
        query=query,
        since=since.date() if since else None,
        limit=limit or None,
    )
    if as_json:
        _say(json.dumps([c.as_json() for c in found], ensure_ascii=False, indent=2))
        return
    table = Table("id", "published", "source", "title", "status")
    for c in found:
        title = Text(c.title or "(untitled)")
        if c.ran_in:  # the issue folder starts with its date: enough to recognise it
            title.append(f"  (ran {c.ran_in[:10]})", style="yellow")
        table.add_row(
            str(c.id), (c.published or "")[:10], Text(", ".join(c.sources)), title, c.status
        )
    out.print(table)
    _say(f"{len(found)} candidates")


Ids = Annotated[list[int], typer.Argument(help="Candidate ids, as `newsletter inbox` shows them.")]


@app.command()
def pick(
    ctx: typer.Context,
    ids: Ids,
    issue: Annotated[
        str | None, typer.Option(help="Issue to add to (default: the newest unsent).")
    ] = None,
) -> None:
    """Turn candidates into draft story files in an issue."""
    workspace = _workspace(ctx)
    with open_inbox(workspace) as inbox:
        for path in pick_candidates(workspace, inbox, ids, issue=issue):
            _say(str(path))


@app.command()
def dismiss(ctx: typer.Context, ids: Ids) -> None:
    """Hide candidates from the inbox (they stay stored, so they never come back)."""
    dismiss_candidates(_workspace(ctx), ids)
    _say(f"dismissed {len(ids)}")


@app.command()
def check(
    ctx: typer.Context,
    issue: IssueRef = None,
    site: Annotated[
        bool, typer.Option("--site", help="Check the links of build/site/ instead.")
    ] = False,
) -> None:
    """Lint an issue (or, with --site, the built archive's links); exit 1 if it has errors."""
    workspace = _workspace(ctx)
    if site:
        _check_site(workspace)
        return
    loaded = read_issue(resolve_issue(workspace, issue))
    problems = check_issue(loaded, workspace.settings)
    for problem in problems:
        _say(str(problem))
    errors = sum(problem.level == "error" for problem in problems)
    _say(
        f"{loaded.slug}: {len(loaded.stories)} stories, {errors} errors, "
        f"{len(problems) - errors} warnings"
    )
    if has_errors(problems):
        raise typer.Exit(1)


def _check_site(workspace: Workspace) -> None:
    problems = check_site(workspace)
    for problem in problems:
        _say(str(problem))
    _say(f"{workspace.build_dir / 'site'}: {len(problems)} broken links")
    if problems:
        raise typer.Exit(1)


@app.command()
def render(ctx: typer.Context, issue: IssueRef = None) -> None:
    """Render an issue's email: email.html, email.txt and email.eml."""
    workspace = _workspace(ctx)
    paths = write_email(workspace, read_issue(resolve_issue(workspace, issue)))
    for path in paths.values():
        _say(str(path))


@app.command()
def build(
    ctx: typer.Context,
    drafts: Annotated[bool, typer.Option("--drafts", help="Include draft issues.")] = False,
    clean: Annotated[
        bool, typer.Option("--clean", help="Forget the caches and rebuild every page.")
    ] = False,
) -> None:
    """Build the archive site in build/site/ from ready and sent issues; prints its index.html."""
    report = build_archive(_workspace(ctx), drafts=drafts, clean=clean)
    err.print(str(report), markup=False)
    _say(str(report.index))


def main() -> None:
    """Entry point: library errors become one line on stderr and exit code 1."""
    try:
        app()
    except NewsletterError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(1)
    except OSError as exc:  # a full disk or a read-only folder: still one line, no traceback
        err.print(f"error: {exc.filename or ''}: {exc.strerror or exc}", markup=False)
        sys.exit(1)
