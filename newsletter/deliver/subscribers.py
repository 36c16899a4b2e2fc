"""Subscribers in SQLite (`.newsletter/subscribers.sqlite`): who gets the issue, and tokens.

Every subscriber has an unsubscribe token, the HMAC of the lower-cased address with a
secret kept in `.newsletter/secret` (made on first use, never in git), so a token cannot
be guessed from an address and a forged one matches nobody.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from newsletter.config import Workspace
from newsletter.database import open_database, write
from newsletter.deliver.addresses import AddressProblem, clean_name, normalise_address
from newsletter.errors import NewsletterError

__all__ = [
    "STATUSES",
    "ImportReport",
    "Status",
    "Subscriber",
    "SubscriberError",
    "Subscribers",
    "export_csv",
    "import_csv",
    "make_token",
    "open_subscribers",
]

Status = Literal["active", "unsubscribed", "bounced", "complained"]
STATUSES: tuple[Status, ...] = ("active", "unsubscribed", "bounced", "complained")
TOKEN_LENGTH = 32
_TOKEN = re.compile(rf"^[0-9a-f]{{{TOKEN_LENGTH}}}$")
EXPORT_FIELDS = ("email", "name", "status", "source", "added", "changed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained')),
    token TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT '',  -- where the subscriber came from: a file, 'cli', ...
    added TEXT NOT NULL,
    changed TEXT NOT NULL
);
"""


class SubscriberError(NewsletterError):
    """A subscriber cannot be added, found or changed, or a CSV file cannot be read."""


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str
    status: Status
    token: str
    source: str
    added: str
    changed: str


@dataclass
class ImportReport:
    """What an import did: rows added, already known, suppressed, and refused by line."""

    added: int = 0
    existing: int = 0
    suppressed: int = 0  # known addresses the file marks unsubscribed, bounced or complained
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def make_token(secret: bytes, email: str) -> str:
    """The unsubscribe token: stable for the address, unguessable without the secret."""
    digest = hmac.new(secret, email.lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]


def load_secret(path: Path) -> bytes:
    """The workspace's token secret, made (readable by its owner only) on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return load_secret(path)


def open_subscribers(workspace: Workspace) -> Subscribers:
    """The workspace's subscriber store, `.newsletter/subscribers.sqlite`."""
    state = workspace.root / ".newsletter"
    state.mkdir(parents=True, exist_ok=True)
    return Subscribers(state / "subscribers.sqlite", load_secret(state / "secret"))


class Subscribers:
    """The subscriber store; use as a context manager. The send log shares its database."""

    def __init__(self, path: Path, secret: bytes) -> None:
        self.path = path
        self.secret = secret
        self.db = open_database(path, SCHEMA, SubscriberError)

    def __enter__(self) -> Subscribers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def token(self, email: str) -> str:
        return make_token(self.secret, email)

    # ------------------------------------------------------------------ reading

    def get(self, email: str) -> Subscriber | None:
        row = self.db.execute("SELECT * FROM subscribers WHERE email = ?", (email,)).fetchone()
        return _subscriber(row) if row else None

    def by_token(self, token: str) -> Subscriber | None:
        """The subscriber whose token this is; None for a forged or unknown token."""
        token = token.strip().lower()
        if not _TOKEN.match(token):
            return None
        row = self.db.execute("SELECT * FROM subscribers WHERE token = ?", (token,)).fetchone()
        # The stored token is trusted only while it is still the HMAC of the address.
        if row is None or not hmac.compare_digest(self.token(row["email"]), token):
            return None
        return _subscriber(row)

    def find(self, token_or_address: str) -> Subscriber | None:
        if "@" in token_or_address:
            return self.get(token_or_address.strip())
        return self.by_token(token_or_address)

    def list(self, status: Status | None = None) -> list[Subscriber]:
        """Subscribers in the order they were added, all or those with `status`."""
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self.db.execute(f"SELECT * FROM subscribers {where} ORDER BY id", args)
        return [_subscriber(row) for row in rows]

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, count(*) FROM subscribers GROUP BY status")
        return {status: 0 for status in STATUSES} | dict(rows.fetchall())

    # ------------------------------------------------------------------ writing

    def add(
        self, email: str, *, name: str = "", source: str = "cli", resubscribe: bool = False
    ) -> Subscriber:
        """Add an active subscriber; one who left becomes active again only with `resubscribe`."""
        address, name = _checked(email, name)
        existing = self.get(address)
        if existing and (existing.status == "active" or not resubscribe):
            hint = "" if existing.status == "active" else "; --resubscribe makes it active again"
            raise SubscriberError(f"already a subscriber ({existing.status}){hint}", field=address)
        with write(self.db) as db:
            if existing:
                db.execute(
                    "UPDATE subscribers SET status = 'active', changed = ?,"
                    " name = coalesce(nullif(?, ''), name) WHERE email = ?",
                    (_now(), name, address),
                )
            else:
                self._insert(db, address, name, "active", source)
        subscriber = self.get(address)
        assert subscriber is not None
        return subscriber

    def set_status(self, email: str, status: Status) -> Subscriber:
        """Change a subscriber's status (unsubscribed, bounced, ...); the subscriber must exist."""
        with write(self.db) as db:
            db.execute(
                "UPDATE subscribers SET status = ?, changed = ? WHERE email = ? AND status != ?",
                (status, _now(), email, status),
            )
        subscriber = self.get(email)
        if subscriber is None:
            raise SubscriberError("no such subscriber", field=email)
        return subscriber

    def unsubscribe(self, token_or_address: str) -> Subscriber:
        """Unsubscribe by token (a one-click request) or address (a mailto request)."""
        subscriber = self.find(token_or_address)
        if subscriber is None:
            what = "address" if "@" in token_or_address else "token"
            raise SubscriberError(f"no subscriber has this {what}", field=token_or_address.strip())
        if subscriber.status == "active":
            subscriber = self.set_status(subscriber.email, "unsubscribed")
        return subscriber

    def remove(self, email: str) -> None:
        """Forget a subscriber entirely (a later import adds the address again)."""
        with write(self.db) as db:
            gone = db.execute("DELETE FROM subscribers WHERE email = ?", (email.strip(),)).rowcount
        if not gone:
            raise SubscriberError("no such subscriber", field=email.strip())

    def import_rows(
        self, rows: Iterable[tuple[int, Mapping[str, str]]], source: str
    ) -> ImportReport:
        """Rows of `email`, optional `name` and `status`, with their line numbers.

        A bad row is reported and skipped; a known address keeps its status unless the
        row says it left (a suppression list), so an import never resubscribes anyone.
        """
        report = ImportReport()
        with write(self.db) as db:
            for line, row in rows:
                try:
                    self._import_row(db, row, source, report)
                except AddressProblem as exc:
                    report.rejected.append((line, str(exc)))
        return report

    def _import_row(
        self, db: sqlite3.Connection, row: Mapping[str, str], source: str, report: ImportReport
    ) -> None:
        address, name = _checked(row.get("email") or "", row.get("name") or "")
        status = (row.get("status") or "active").strip().lower() or "active"
        if status not in STATUSES:
            raise AddressProblem(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
        existing = db.execute("SELECT status FROM subscribers WHERE email = ?", (address,))
        known = existing.fetchone()
        if known is None:
            self._insert(db, address, name, status, source)
            report.added += 1
        elif status != "active" and known["status"] == "active":
            db.execute(
                "UPDATE subscribers SET status = ?, changed = ? WHERE email = ?",
                (status, _now(), address),
            )
            report.suppressed += 1
        else:
            report.existing += 1

    def _insert(
        self, db: sqlite3.Connection, address: str, name: str, status: str, source: str
    ) -> None:
        now = _now()
        db.execute(
            "INSERT INTO subscribers (email, name, status, token, source, added, changed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (address, name, status, self.token(address), source, now, now),
        )


def _checked(email: str, name: str) -> tuple[str, str]:
    return normalise_address(email), clean_name(name)


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(**{name: row[name] for name in Subscriber.__dataclass_fields__})


def import_csv(store: Subscribers, path: Path, *, source: str | None = None) -> ImportReport:
    """Import a CSV file with an `email` column (and optional `name`, `status`)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return store.import_rows(_csv_rows(handle, path), source or path.name)
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (bad byte at offset {exc.start})"
        raise SubscriberError(problem, path=path) from None
    except OSError as exc:
        raise SubscriberError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _csv_rows(handle: TextIO, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line where the row starts, row with lower-cased column names)."""
    reader = csv.reader(handle)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if "email" not in header:
            raise SubscriberError("the first line must name an 'email' column", path=path, line=1)
        line = reader.line_num
        for values in reader:
            start, line = line + 1, reader.line_num
            if any(value.strip() for value in values):
                yield start, dict(zip(header, values, strict=False))
    except csv.Error as exc:
        raise SubscriberError(f"not valid CSV: {exc}", path=path, line=reader.line_num) from None


def export_csv(store: Subscribers, out: TextIO, *, status: Status | None = None) -> int:
    """Write subscribers as CSV (the columns `import` reads, and dates); returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    subscribers = store.list(status)
    for subscriber in subscribers:
        writer.writerow(getattr(subscriber, name) for name in EXPORT_FIELDS)
    return len(subscribers)
