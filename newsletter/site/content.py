"""Read phase: issue and story files -> `Archive`, with a content-hash cache.

Each Markdown file is parsed and converted to HTML once per content: the
result is kept in `.newsletter/site-cache/` under the hash of the file's
path and bytes, so a rebuild reads and hashes files but converts only the ones
that changed. A cold read converts in several processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from newsletter.config import Workspace
from newsletter.editorial import ISSUE_FILE, read_issue_file, read_story, story_names
from newsletter.errors import NewsletterError, StoryError
from newsletter.fileio import atomic_write
from newsletter.render.markdown import to_html

__all__ = ["Archive", "IssueDoc", "StoryDoc", "cache_dir", "read_archive"]

# Bump when what a parsed file turns into changes: the old cache is then ignored.
CACHE_VERSION = 3
CACHE_NAME = "site-cache"
SHARDS = "0123456789abcdef"
STAMPS = "stamps.pickle"
# Below this many files to convert, starting processes costs more than it saves.
PARALLEL_FROM = 200
EXCERPT_WORDS = 40
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class StoryDoc:
    """One story file as the site shows it: metadata and ready, sanitised HTML."""

    file: str  # path relative to the workspace
    digest: str  # hash of the path and bytes: the story's identity for incremental builds
    number: int
    anchor: str
    title: str
    url: str | None
    source: str | None
    published: dt.date | None
    tags: tuple[str, ...]
    language: str | None
    summary_html: str
    note_html: str
    excerpt: str  # plain text, the first words of the summary


@dataclass(frozen=True)
class IssueDoc:
    """One issue folder: `issue.md` as the site shows it, and its stories in order."""

    slug: str
    digest: str
    title: str
    date: dt.date
    number: int | None
    status: str
    preheader: str
    intro_html: str
    stories: tuple[StoryDoc, ...]


Doc = StoryDoc | IssueDoc


@dataclass(frozen=True)
class Archive:
    """Every issue of the workspace, oldest first, and how many files were converted.

    `save_cache` keeps the converted files for the next build; the builder calls it
    while pages render in other processes.
    """

    issues: tuple[IssueDoc, ...]
    converted: int
    save_cache: Callable[[], None]


@dataclass(frozen=True)
class _Failure:
    """A parse error carried back from a worker process (exceptions lose their fields)."""

    message: str
    path: str | None
    line: int | None
    field: str | None

    def raise_(self) -> None:
        raise StoryError(self.message, path=self.path, line=self.line, field=self.field)


def read_archive(workspace: Workspace, *, use_cache: bool = True) -> Archive:
    """Read every issue and story file, converting only files not in the cache."""
    root = workspace.root
    files = _content_files(workspace)
    cache = _load_cache(workspace) if use_cache else {}
    stamps = {rel: _stamp(root, rel) for rel in files}
    known = _load(cache_dir(workspace) / STAMPS, {}) if use_cache else {}
    # A file whose size, mtime and inode are as recorded still has the recorded digest
    # (as git assumes): a no-change rebuild reads no file.
    digests = {rel: known[rel][1] for rel in files if known.get(rel, (None,))[0] == stamps[rel]}
    unknown = [rel for rel in files if digests.get(rel) not in cache]

    def jobs() -> Iterator[Job]:
        """Read and hash the unknown files; those not in the cache are jobs. A generator, so
        the workers start converting while later files are still being read."""
        for rel in unknown:
            data = _read_bytes(root, rel)
            digests[rel] = _digest(rel, data)
            if digests[rel] not in cache:
                yield (str(root), rel, data, digests[rel])

    parsed = _parse_all(jobs(), len(unknown))
    docs = {digests[rel]: cache.get(digests[rel]) or parsed[digests[rel]] for rel in files}
    issues = _assemble(files, digests, docs)
    recorded = {rel: (stamps[rel], digests[rel]) for rel in files}

    def save() -> None:
        _save_cache(workspace, docs, cache)
        if recorded != known:
            _dump(cache_dir(workspace) / STAMPS, recorded)

    return Archive(issues, len(parsed), save)


def _stamp(root: Path, rel: str) -> tuple[int, int, int]:
    try:
        st = os.stat(os.path.join(root, rel))
    except OSError as exc:
        raise StoryError(f"cannot read: {exc.strerror or exc}", path=root / rel) from None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _content_files(workspace: Workspace) -> list[str]:
    """`issue.md` then the story files of every issue folder, relative to the workspace."""
    out: list[str] = []
    issues = workspace.issues_dir
    folders = sorted(p.name for p in issues.iterdir()) if issues.is_dir() else []
    for name in folders:
        if os.path.isfile(os.path.join(issues, name, ISSUE_FILE)):
            prefix = f"{issues.name}/{name}/"
            out.append(prefix + ISSUE_FILE)
            out.extend(prefix + story for story in story_names(issues / name))
    return out


def _read_bytes(root: Path, rel: str) -> bytes:
    try:
        with open(os.path.join(root, rel), "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise StoryError(f"cannot read: {exc.strerror or exc}", path=root / rel) from None


def _digest(rel: str, data: bytes) -> str:
    return hashlib.blake2b(rel.encode() + b"\0" + data, digest_size=16).hexdigest()


Job = tuple[str, str, bytes, str]  # workspace root, relative path, bytes, digest


def _parse_all(jobs: Iterator[Job], count: int) -> dict[str, Doc]:
    """Parse and convert files (at most `count`); many go to a process pool."""
    if count < PARALLEL_FROM:
        return _collect(map(_parse_job, jobs))
    workers = min(os.cpu_count() or 1, 8)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        try:
            return _collect(pool.map(_parse_job, jobs, chunksize=max(1, count // (workers * 16))))
        except BaseException:
            pool.shutdown(cancel_futures=True)  # a bad file: report it now, not after the rest
            raise


def _collect(results: Iterable[Doc | _Failure]) -> dict[str, Doc]:
    out: dict[str, Doc] = {}
    for doc in results:
        if isinstance(doc, _Failure):
            doc.raise_()
        out[doc.digest] = doc  # type: ignore[union-attr]
    return out


def _parse_job(job: Job) -> Doc | _Failure:
    """One file -> its doc (runs in a worker process)."""
    root, rel, data, digest = job
    path = Path(root) / rel
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _Failure(f"not UTF-8 text (bad byte at offset {exc.start})", str(path), None, None)
    try:
        if path.name == ISSUE_FILE:
            return _issue_doc(path, text, digest)
        return _story_doc(path, text, rel, digest)
    except NewsletterError as exc:
        return _Failure(exc.message, str(exc.path) if exc.path else None, exc.line, exc.field)


def _issue_doc(path: Path, text: str, digest: str) -> IssueDoc:
    issue = read_issue_file(path, text)
    return IssueDoc(
        slug=path.parent.name,
        digest=digest,
        title=issue.title,
        date=issue.date,
        number=issue.number,
        status=issue.status,
        preheader=issue.preheader,
        intro_html=to_html(issue.intro) if issue.intro else "",
        stories=(),
    )


def _story_doc(path: Path, text: str, rel: str, digest: str) -> StoryDoc:
    story = read_story(path, text)
    summary_html = to_html(story.summary)
    language = (story.model_extra or {}).get("language")
    return StoryDoc(
        file=rel,
        digest=digest,
        number=int(path.name.split("-", 1)[0]),
        anchor=story.anchor,
        title=story.title,
        url=story.url,
        source=story.source,
        published=story.published,
        tags=tuple(str(tag) for tag in story.tags),
        language=str(language) if language else None,
        summary_html=summary_html,
        note_html=to_html(story.note) if story.note else "",
        excerpt=_excerpt(summary_html),
    )


def _excerpt(summary_html: str) -> str:
    """The summary's first words as plain text (the HTML is nh3's: tags are well formed)."""
    words = html.unescape(_TAG.sub("", summary_html)).split()
    more = "…" if len(words) > EXCERPT_WORDS else ""
    return " ".join(words[:EXCERPT_WORDS]) + more


def _assemble(
    files: list[str], digests: dict[str, str], docs: dict[str, Doc]
) -> tuple[IssueDoc, ...]:
    """Group story docs under their issue docs."""
    issues: list[IssueDoc] = []
    stories: dict[str, list[StoryDoc]] = {}
    for rel in files:
        doc = docs[digests[rel]]
        if isinstance(doc, IssueDoc):
            issues.append(doc)
        else:
            stories.setdefault(rel.rsplit("/", 2)[-2], []).append(doc)
    whole = [replace(issue, stories=tuple(stories.get(issue.slug, ()))) for issue in issues]
    return tuple(sorted(whole, key=lambda i: (i.date, i.number or 0, i.slug)))


def cache_dir(workspace: Workspace) -> Path:
    """Where parsed docs are kept: 16 shards by the first digit of their digest, so an edit
    rewrites one small shard, not the whole cache."""
    return workspace.root / ".newsletter" / CACHE_NAME


def _load(path: Path, default: Any) -> Any:
    """A pickled cache file of this version; a missing, old or unreadable one is `default`."""
    try:
        with path.open("rb") as handle:
            version, data = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return default
    return data if version == CACHE_VERSION else default


def _dump(path: Path, data: Any) -> None:
    """Write a cache file; no fsync, as a lost cache only means converting again."""
    raw = pickle.dumps((CACHE_VERSION, data), protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write(path, raw, force=True, durable=False)


def _load_cache(workspace: Workspace) -> dict[str, Doc]:
    """The cached docs by digest, from every shard."""
    docs: dict[str, Doc] = {}
    for shard in SHARDS:
        docs.update(_load(cache_dir(workspace) / f"{shard}.pickle", {}))
    return docs


def _save_cache(workspace: Workspace, docs: dict[str, Doc], cached: dict[str, Doc]) -> None:
    """Keep exactly the current files' docs, rewriting only the shards that changed."""
    if docs.keys() == cached.keys():
        return  # no doc is new or gone: the shards on disk hold exactly these
    new, old = _by_shard(docs), _by_shard(cached)
    for shard in SHARDS:
        path = cache_dir(workspace) / f"{shard}.pickle"
        if new[shard].keys() != old[shard].keys() or not path.exists():
            _dump(path, new[shard])


def _by_shard(docs: dict[str, Doc]) -> dict[str, dict[str, Doc]]:
    shards: dict[str, dict[str, Doc]] = {shard: {} for shard in SHARDS}
    for digest, doc in docs.items():
        shards[digest[0]][digest] = doc
    return shards
