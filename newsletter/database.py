"""SQLite under `.newsletter/`: WAL, a busy timeout, and writes in BEGIN IMMEDIATE."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsletter.errors import NewsletterError

__all__ = ["open_database", "write"]


def open_database(path: Path, schema: str, error: type[NewsletterError]) -> sqlite3.Connection:
    """A connection to `path` (made on first use) with `schema` applied; failures are `error`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every write happens inside an explicit BEGIN IMMEDIATE.
        db = sqlite3.connect(path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=10000")
        # With WAL, NORMAL keeps the database consistent after a crash of the process;
        # only a power cut can lose the last transactions.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(schema)
    except sqlite3.Error as exc:
        raise error(f"cannot open the database: {exc}", path=path) from None
    return db


@contextmanager
def write(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taking the write lock up front so readers never deadlock it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
