"""Write phase: render the pages whose inputs changed, write the ones whose bytes changed,
delete the ones that are gone.

`.newsletter/build-site.manifest.json` records, for every output, the hash of what it was
built from and the hash of what was written. Many pages render in forked
worker processes, which share the site model with the parent.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from jinja2 import Environment, TemplateError, TemplateSyntaxError

from newsletter.errors import RenderError
from newsletter.fileio import atomic_write
from newsletter.site.pages import Page

__all__ = ["Manifest", "WriteReport", "fingerprint", "write_pages"]

MANIFEST_VERSION = 1
# Below this many pages to render, forking workers costs more than it saves.
PARALLEL_FROM = 400


@dataclass
class Manifest:
    """What each output was built from (`key`) and what it holds (`sha`)."""

    path: Path
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The recorded build; missing or unreadable means "nothing is known"."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return cls(path)
        return cls(path, {k: (v[0], v[1]) for k, v in data["outputs"].items()})

    def forget(self) -> None:
        """Drop the record on disk while outputs change, so a crash means a full rebuild."""
        self.path.unlink(missing_ok=True)

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "outputs": dict(sorted(self.outputs.items()))}
        text = json.dumps(data, separators=(",", ":"))
        atomic_write(self.path, text, force=True, durable=False)  # lost: a full rebuild


@dataclass
class WriteReport:
    """What a build did to `build/site/`."""

    rendered: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def pages_changed(self) -> bool:
        """True when an HTML page was written or deleted: the search index is out of date."""
        return any(p.endswith(".html") for p in (*self.written, *self.deleted))


def fingerprint(*parts: str) -> str:
    """A short stable hash of strings."""
    return _hash("\0".join(parts).encode("utf-8"))


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def write_pages(
    env: Environment,
    pages: list[Page],
    out: Path,
    manifest: Manifest,
    salt: str,
    meanwhile: Callable[[], None] = lambda: None,
) -> WriteReport:
    """Bring `out` up to date with `pages`; `salt` stands for everything every page depends on
    (theme, settings, code version). `meanwhile` runs while the pages render."""
    report = WriteReport()
    keys = {page.path: fingerprint(salt, *page.inputs) for page in pages}
    todo = [p for p in pages if not _current(manifest, out, p.path, keys[p.path])]
    report.unchanged = len(pages) - len(todo)
    if todo or _stale(manifest, keys):
        manifest.forget()
    for path, sha, written in _render_all(env, todo, out, manifest, meanwhile):
        manifest.outputs[path] = (keys[path], sha)
        report.rendered.append(path)
        if written:
            report.written.append(path)
    report.deleted = _delete(out, manifest, _stale(manifest, keys))
    manifest.save()
    return report


def _current(manifest: Manifest, out: Path, path: str, key: str) -> bool:
    recorded = manifest.outputs.get(path)
    return recorded is not None and recorded[0] == key and os.path.isfile(os.path.join(out, path))


def _stale(manifest: Manifest, keys: dict[str, str]) -> list[str]:
    return sorted(set(manifest.outputs) - set(keys))


# The forked workers read these instead of receiving them pickled.
_JOBS: tuple[Environment, list[Page], Path, dict[str, tuple[str, str]]] | None = None


def _render_all(
    env: Environment,
    todo: list[Page],
    out: Path,
    manifest: Manifest,
    meanwhile: Callable[[], None],
) -> Iterable[tuple[str, str, bool]]:
    global _JOBS
    _JOBS = (env, todo, out, manifest.outputs)
    try:
        if len(todo) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
            meanwhile()
            return _render_range((0, len(todo)))
        return _render_forked(todo, meanwhile)
    finally:
        _JOBS = None


def _render_forked(todo: list[Page], meanwhile: Callable[[], None]) -> list[tuple[str, str, bool]]:
    """Render in forked workers that share the site model with this process."""
    workers = min(os.cpu_count() or 1, 8)
    step = -(-len(todo) // (workers * 16))  # small slices: no worker is left with the tail
    ranges = [(start, min(start + step, len(todo))) for start in range(0, len(todo), step)]
    # Frozen objects are never scanned by the workers' garbage collector, so the pages of
    # memory they share with this process are not copied just to be looked at.
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = pool.map(_render_range, ranges)  # the workers are forked by now
            meanwhile()
            return [row for rows in results for row in rows]
    finally:
        gc.unfreeze()


def _render_range(bounds: tuple[int, int]) -> list[tuple[str, str, bool]]:
    """Render and write pages `start` to `end` of the jobs: (path, sha, written)."""
    assert _JOBS is not None
    env, todo, out, recorded = _JOBS
    rows = []
    for page in todo[bounds[0] : bounds[1]]:
        data = render(env, page).encode("utf-8")
        sha = _hash(data)
        target = out / page.path
        old = recorded.get(page.path)
        fresh = old is None or old[1] != sha or not os.path.isfile(target)
        if fresh:
            _write(target, data, new=old is None)
        rows.append((page.path, sha, fresh))
    return rows


def render(env: Environment, page: Page) -> str:
    """One page's text; template errors name the template and line."""
    try:
        if page.produce is not None:
            return page.produce(env)
        context = {"root": "../" * page.path.count("/"), **page.context}
        return env.get_template(page.template).render(page=page, **context)
    except TemplateSyntaxError as exc:
        raise RenderError(exc.message or "syntax error", path=exc.name, line=exc.lineno) from None
    except TemplateError as exc:
        raise RenderError(f"{page.path}: {exc.message or exc}", path=page.template) from None


def _write(path: Path, data: bytes, *, new: bool) -> None:
    """A page no build has written yet is created in place; an existing one is replaced
    atomically, so a server never sends half of it. No fsync: outputs can be built again."""
    if new:
        try:
            with _create(path, "xb") as handle:
                handle.write(data)
            return
        except FileExistsError:
            pass  # a file no build recorded: replace it like any other
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # workers never share one
    try:
        with _create(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create(path: Path, mode: str) -> BinaryIO:
    try:
        return path.open(mode)  # type: ignore[return-value]
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open(mode)  # type: ignore[return-value]


def _delete(out: Path, manifest: Manifest, stale: list[str]) -> list[str]:
    """Remove outputs no page makes any more, and folders they leave empty."""
    for path in stale:
        (out / path).unlink(missing_ok=True)
        del manifest.outputs[path]
        for parent in (out / path).parents:
            if parent == out or any(parent.iterdir()):
                break
            parent.rmdir()
    return stale
