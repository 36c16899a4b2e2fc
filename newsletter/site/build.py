"""`build`: the archive site in `build/site/`, incremental, parallel and deterministic.

`build()` runs these phases (MkDocs style): read the content (through the
content-hash cache), make the site model and its pages, write the pages whose
inputs changed and delete the ones that are gone (Lektor style), then index
for search when page text changed.
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from newsletter.config import Workspace
from newsletter.render.theme import environment
from newsletter.site import content, meta, search, writer
from newsletter.site.pages import SiteModel, group_slug, model, pages

__all__ = ["BuildReport", "build", "build_site"]

# Bump when the code changes what any page holds: every page is then rebuilt once.
BUILD_VERSION = "1"
MANIFEST_NAME = "manifest.json"
SEARCH_PENDING = "search-pending"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: where the site is and how much work it took."""

    index: Path
    pages: int
    converted: int
    rendered: int
    written: int
    deleted: int
    searched: bool

    def __str__(self) -> str:
        search_note = ", search index rebuilt" if self.searched else ""
        return (
            f"{self.pages} pages: {self.written} written, {self.deleted} deleted, "
            f"{self.pages - self.rendered} unchanged; {self.converted} files converted{search_note}"
        )


def build_site(workspace: Workspace, *, drafts: bool = False, clean: bool = False) -> Path:
    """Build the archive and return the path of its `index.html`."""
    return build(workspace, drafts=drafts, clean=clean).index


def build(
    workspace: Workspace,
    *,
    drafts: bool = False,
    clean: bool = False,
    search_index: bool | None = None,
) -> BuildReport:
    """Bring `build/site/` up to date; `search_index` overrides the `site.search` setting."""
    with _cycle_collector_paused():
        return _build(workspace, drafts=drafts, clean=clean, search_index=search_index)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """A build makes some 150,000 objects that live until it ends and little cyclic garbage:
    the cycle collector would scan them hundreds of times and free next to nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(
    workspace: Workspace, *, drafts: bool, clean: bool, search_index: bool | None
) -> BuildReport:
    out = workspace.build_dir / "site"
    if clean:
        _clean(workspace, out)
    searching = workspace.config.site.search if search_index is None else search_index
    archive = content.read_archive(workspace)
    site = model(archive, workspace.config, drafts=drafts, search=searching)
    env = _environment(workspace, site)
    all_pages = pages(site, meta.feeds(site))
    manifest = writer.Manifest.load(_record(workspace, out, MANIFEST_NAME))
    salt = _salt(workspace, drafts=drafts, search=searching)
    report = writer.write_pages(env, all_pages, out, manifest, salt, archive.save_cache)
    searched = _search(workspace, out, report, searching)
    return BuildReport(
        index=out / "index.html",
        pages=len(all_pages),
        converted=archive.converted,
        rendered=len(report.rendered),
        written=len(report.written),
        deleted=len(report.deleted),
        searched=searched,
    )


def _state(workspace: Workspace) -> Path:
    return workspace.root / ".newsletter"


def _record(workspace: Workspace, out: Path, name: str) -> Path:
    """A state file of one output folder, `.newsletter/build-site.NAME`: `build/site/` and
    the preview's `build/preview/site/` keep their own, else a preview would make the next
    build forget which pages to delete or to index."""
    folder = out.relative_to(workspace.root).as_posix().replace("/", "-")
    return _state(workspace) / f"{folder}.{name}"


def _clean(workspace: Workspace, out: Path) -> None:
    """Forget every cache and output: the next build starts from nothing."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(content.cache_dir(workspace), ignore_errors=True)
    _record(workspace, out, MANIFEST_NAME).unlink(missing_ok=True)


def _environment(workspace: Workspace, site: SiteModel) -> Environment:
    """The theme's environment plus what the site templates use."""
    env = environment(workspace)
    # A build is over before a template could change: no stat of three templates per page.
    env.auto_reload = False
    config = workspace.config
    env.globals.update(
        config=config,
        settings=config.newsletter,
        site_settings=config.site,
        absolute=lambda path: meta.absolute(config, path),
        issue_jsonld=lambda issue: meta.issue_jsonld(config, issue),
        story_jsonld=lambda story: meta.story_jsonld(config, story),
        slug=group_slug,
    )
    return env


def _salt(workspace: Workspace, *, drafts: bool, search: bool) -> str:
    """What every page depends on: the code, the settings, the theme, the build options."""
    theme = []
    for folder in workspace.template_dirs:
        for path in sorted((folder / "site").glob("**/*")):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                theme += [path.relative_to(folder).as_posix(), text]
    settings = workspace.config.model_dump_json()
    return writer.fingerprint(BUILD_VERSION, settings, str(drafts), str(search), *theme)


def _search(workspace: Workspace, out: Path, report: writer.WriteReport, enabled: bool) -> bool:
    """Index for search when page text changed since the last index; True when Pagefind ran."""
    # The mark outlives a failed or interrupted Pagefind run, so the next build retries it.
    pending = _record(workspace, out, SEARCH_PENDING)
    if report.pages_changed:
        pending.touch()
    if not enabled:
        search.remove_index(out)
        return False
    if not pending.exists() and search.is_indexed(out):
        return False
    search.index_site(out)
    pending.unlink(missing_ok=True)
    return True
