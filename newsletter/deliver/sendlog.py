"""The send log: one row per issue and recipient, committed around every SMTP transaction.

`pending → sending → sent | deferred | failed | unknown` (and `skipped` for a subscriber
who left before their turn). `data_sent` is set, and committed, just before the message
body goes out: a row found `sending` after a crash was surely not delivered when it is
unset, and may have been when it is set; that one becomes `unknown`, never resent silently.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from typing import Literal

from newsletter.database import write

__all__ = ["FINAL", "SendEntry", "SendLog", "SendStatus"]

SendStatus = Literal["pending", "sending", "sent", "deferred", "failed", "unknown", "skipped"]
FINAL: tuple[SendStatus, ...] = ("sent", "failed", "unknown", "skipped")
STATUSES: tuple[SendStatus, ...] = ("pending", "sending", "deferred", *FINAL)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    issue TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'sending', 'sent', 'deferred', 'failed', 'unknown', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,  -- SMTP transactions started in this run
    data_sent INTEGER NOT NULL DEFAULT 0, -- the body started going out: no reply is ambiguous
    retry_at REAL,                        -- deferred: not before this Unix time
    reply TEXT NOT NULL DEFAULT '',       -- the relay's last answer, or what went wrong
    updated TEXT NOT NULL,
    UNIQUE (issue, email)
);
CREATE INDEX IF NOT EXISTS sends_status ON sends (issue, status);
"""


@dataclass(frozen=True)
class SendEntry:
    id: int
    email: str
    name: str
    status: SendStatus
    attempts: int
    reply: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SendLog:
    """The log of one issue's send, in the subscriber store's database."""

    def __init__(self, db: sqlite3.Connection, issue: str) -> None:
        self.db = db
        self.issue = issue
        db.executescript(SCHEMA)

    # ------------------------------------------------------------------ reading

    def counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, count(*) FROM sends WHERE issue = ? GROUP BY status", (self.issue,)
        )
        return {status: 0 for status in STATUSES} | dict(rows.fetchall())

    def exists(self) -> bool:
        return sum(self.counts().values()) > 0

    def untouched(self) -> bool:
        """True when no recipient has been tried yet: every row is pending, never attempted."""
        row = self.db.execute(
            "SELECT count(*) FROM sends WHERE issue = ? AND (status != 'pending' OR attempts > 0)",
            (self.issue,),
        ).fetchone()
        return row[0] == 0

    def entries(self, status: SendStatus) -> list[SendEntry]:
        rows = self.db.execute(
            "SELECT * FROM sends WHERE issue = ? AND status = ? ORDER BY id", (self.issue, status)
        )
        return [_entry(row) for row in rows]

    def due(self, max_attempts: int, limit: int = 200) -> list[SendEntry]:
        """The next recipients to try: pending ones, and deferred ones whose wait is over."""
        rows = self.db.execute(
            "SELECT * FROM sends WHERE issue = ? AND (status = 'pending' OR (status = 'deferred'"
            " AND attempts < ? AND retry_at <= ?)) ORDER BY id LIMIT ?",
            (self.issue, max_attempts, time.time(), limit),
        )
        return [_entry(row) for row in rows]

    def next_retry(self, max_attempts: int) -> float | None:
        """When the earliest deferred recipient may be tried again; None when none will be."""
        row = self.db.execute(
            "SELECT min(retry_at) FROM sends WHERE issue = ? AND status = 'deferred'"
            " AND attempts < ?",
            (self.issue, max_attempts),
        ).fetchone()
        return row[0]

    # ------------------------------------------------------------------ a run

    def start(self) -> int:
        """Log every active subscriber as pending; returns how many."""
        with write(self.db) as db:
            return db.execute(
                "INSERT OR IGNORE INTO sends (issue, email, name, updated)"
                " SELECT ?, email, name, ? FROM subscribers WHERE status = 'active' ORDER BY id",
                (self.issue, _now()),
            ).rowcount

    def recover(self) -> int:
        """After a crash: rows left `sending` go back to pending when their body never went
        out, else become `unknown`; deferred rows get their attempts back. Returns how many
        became unknown."""
        with write(self.db) as db:
            unknown = self._set(
                db,
                "status = 'unknown', reply = 'interrupted after the message was sent,"
                " before the relay answered'",
                "status = 'sending' AND data_sent = 1",
            )
            self._set(db, "status = 'pending'", "status = 'sending'")
            self._set(db, "attempts = 0, retry_at = 0", "status = 'deferred'")
        return unknown

    def requeue(self, status: SendStatus) -> int:
        """Make `failed` or `unknown` recipients pending again (an explicit resend)."""
        with write(self.db) as db:
            return self._set(db, "status = 'pending', attempts = 0", "status = ?", status)

    def begin(self, entry: SendEntry) -> bool:
        """Mark the recipient `sending` if still an active subscriber, else `skipped`."""
        with write(self.db) as db:
            started = db.execute(
                "UPDATE sends SET status = 'sending', attempts = attempts + 1, data_sent = 0,"
                " updated = ? WHERE id = ? AND EXISTS (SELECT 1 FROM subscribers"
                " WHERE subscribers.email = sends.email AND subscribers.status = 'active')",
                (_now(), entry.id),
            ).rowcount
            if not started:
                self._finish(db, entry, "skipped", "no longer an active subscriber")
        return bool(started)

    def data_sent(self, entry: SendEntry) -> None:
        with write(self.db) as db:
            db.execute("UPDATE sends SET data_sent = 1 WHERE id = ?", (entry.id,))

    def finish(
        self,
        entry: SendEntry,
        status: SendStatus,
        reply: str,
        *,
        retry_at: float | None = None,
        bounce: bool = False,
    ) -> None:
        """Record the outcome; `bounce` also marks the subscriber bounced, in one commit."""
        with write(self.db) as db:
            self._finish(db, entry, status, reply, retry_at)
            if bounce:
                db.execute(
                    "UPDATE subscribers SET status = 'bounced', changed = ?"
                    " WHERE email = ? AND status = 'active'",
                    (_now(), entry.email),
                )

    def release(self, entry: SendEntry) -> None:
        """Put back a recipient whose transaction never started (the relay is unreachable)."""
        with write(self.db) as db:
            self._set(
                db,
                "status = 'pending', attempts = attempts - 1",
                "id = ? AND data_sent = 0",
                entry.id,
            )

    def _finish(
        self,
        db: sqlite3.Connection,
        entry: SendEntry,
        status: SendStatus,
        reply: str,
        retry_at: float | None = None,
    ) -> None:
        db.execute(
            "UPDATE sends SET status = ?, reply = ?, retry_at = ?, updated = ? WHERE id = ?",
            (status, reply[:500], retry_at, _now(), entry.id),
        )

    def _set(self, db: sqlite3.Connection, assignments: str, where: str, *args: object) -> int:
        return db.execute(
            f"UPDATE sends SET {assignments}, updated = ? WHERE issue = ? AND {where}",
            (_now(), self.issue, *args),
        ).rowcount


def _entry(row: sqlite3.Row) -> SendEntry:
    return SendEntry(**{name: row[name] for name in SendEntry.__dataclass_fields__})
