"""Atomic, no-clobber file writes: the editor's files are never half-written or lost."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from newsletter.errors import NewsletterError, OverwriteError

__all__ = ["atomic_write", "read_text"]

# mkstemp makes 0600 files; published output must get the usual 0644.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(
    path: Path, data: str | bytes, *, force: bool = False, durable: bool = True
) -> None:
    """Write `data` to `path` via a temp file, fsync and `os.replace`.

    An existing file is kept unless `force` is true. `durable=False` skips the fsync,
    for caches that can always be rebuilt (an fsync costs more than the write).
    """
    if path.exists() and not force:
        raise OverwriteError("exists; not overwritten (use --force to replace it)", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: Path, error: type[NewsletterError]) -> str:
    """A UTF-8 text file's content; failures become `error` naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (bad byte at offset {exc.start})", path=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=path) from None
