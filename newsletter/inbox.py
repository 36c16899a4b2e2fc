"""The inbox: gathered candidates and per-source fetch state in SQLite (WAL).

One row per story per source. A story seen from a second source joins the first
one's group (`group_id`), so the editor sees it once, with both sources.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from newsletter.config import Workspace
from newsletter.database import open_database, write
from newsletter.errors import NewsletterError
from newsletter.gather.entries import Entry
from newsletter.urls import canonical_url, url_key

__all__ = [
    "STATUSES",
    "Candidate",
    "Inbox",
    "InboxError",
    "SourceState",
    "Status",
    "StoreCounts",
    "open_inbox",
]

Status = Literal["new", "picked", "dismissed"]
STATUSES: tuple[Status, ...] = ("new", "picked", "dismissed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    url TEXT,                 -- the URL fetched: configured, discovered or moved by a redirect
    configured_url TEXT,      -- sources.yaml's URL when `url` was worked out from it
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    errors INTEGER NOT NULL DEFAULT 0,   -- consecutive failed gathers
    last_error TEXT,
    retry_at TEXT,            -- skipped until then (backoff or the host's Retry-After)
    gone INTEGER NOT NULL DEFAULT 0,     -- HTTP 410: skipped until the URL changes
    redirect_to TEXT,         -- permanent redirect target seen ...
    redirect_seen INTEGER NOT NULL DEFAULT 0,  -- ... this many gathers in a row
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    key TEXT NOT NULL,        -- identity within the source: guid:, url: or hash:
    group_id INTEGER REFERENCES candidates(id),  -- the candidate this one repeats
    title TEXT NOT NULL,
    url TEXT,
    url_key TEXT,
    guid TEXT,
    published TEXT,
    author TEXT,
    summary TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    image TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    title_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'picked', 'dismissed')),
    story TEXT,               -- the story file `pick` wrote
    ran_in TEXT,              -- the earlier issue that already carried this URL
    UNIQUE (source, key)
);
CREATE INDEX IF NOT EXISTS candidates_url ON candidates (source, url_key);
CREATE INDEX IF NOT EXISTS candidates_url_key ON candidates (url_key);
CREATE INDEX IF NOT EXISTS candidates_title ON candidates (title_key);
CREATE INDEX IF NOT EXISTS candidates_group ON candidates (group_id);
-- The smallest shingle hashes of each candidate's text (a bottom-k sketch): two
-- candidates sharing most of them carry the same text.
CREATE TABLE IF NOT EXISTS shingles (
    hash INTEGER NOT NULL,
    candidate INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    PRIMARY KEY (hash, candidate)
) WITHOUT ROWID;
-- How many candidates carry each shingle hash. A hash that many carry is boilerplate
-- ("The post ... appeared first on ..."): like a stop-word it says nothing, and
-- looking it up would cost a row per candidate.
CREATE TABLE IF NOT EXISTS shingle_counts (
    hash INTEGER PRIMARY KEY,
    n INTEGER NOT NULL
);
"""

SKETCH_SIZE = 16
SAME_TEXT = SKETCH_SIZE // 2  # shared sketch hashes that make two texts the same story
COMMON_SHINGLE = 25  # candidates carrying a hash before it counts as boilerplate
SHINGLE_WORDS = 5
MIN_WORDS = 30  # shorter texts are compared by title only
MIN_TITLE_WORDS = 4  # "Weekly roundup" from two sources is not one story
_WORD = re.compile(r"\w+")


def open_inbox(workspace: Workspace) -> Inbox:
    """The workspace's inbox, `.newsletter/inbox.sqlite` (made on first use)."""
    return Inbox(workspace.root / ".newsletter" / "inbox.sqlite")


class InboxError(NewsletterError):
    """The inbox database cannot be used, or an id names no candidate."""


@dataclass
class SourceState:
    """What the inbox remembers about one source between gathers."""

    name: str
    url: str | None = None
    configured_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    errors: int = 0
    last_error: str | None = None
    retry_at: str | None = None
    gone: bool = False
    redirect_to: str | None = None
    redirect_seen: int = 0
    fetched_at: str | None = None


@dataclass
class Candidate:
    """One story in the inbox, with every source that carried it."""

    id: int
    source: str
    title: str
    url: str | None
    guid: str | None
    published: str | None
    author: str | None
    summary: str
    text: str
    image: str | None
    tags: list[str]
    fetched_at: str
    status: Status
    story: str | None = None
    ran_in: str | None = None
    sources: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StoreCounts:
    """What one gather of one source did to the inbox."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def title_key(title: str) -> str:
    """Titles compared without case, punctuation or spacing."""
    return " ".join(_WORD.findall(title.casefold()))


def sketch(text: str) -> list[int]:
    """The SKETCH_SIZE smallest hashes of the text's word shingles (empty for short texts)."""
    words = _WORD.findall(text.casefold())
    if len(words) < MIN_WORDS:
        return []
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    hashes = {
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big", signed=True)
        for s in shingles
    }
    return sorted(hashes)[:SKETCH_SIZE]


def _content_hash(entry: Entry) -> str:
    parts = (entry.title, entry.url, entry.summary, entry.text, entry.image, entry.published)
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def entry_keys(entries: list[Entry]) -> list[str]:
    """Each entry's identity within its source: GUID, else canonical link, else content.

    A feed whose GUIDs are missing or repeated in this fetch is not trusted for any
    of its entries; links get the same test.
    """

    def trusted(values: list[str | None]) -> bool:
        present = [v for v in values if v]
        return len(present) == len(values) and len(set(present)) == len(present)

    guids = [e.guid for e in entries]
    urls = [canonical_url(e.url) if e.url else None for e in entries]
    use_guid, use_url = trusted(guids), trusted(urls)
    keys = []
    for entry, guid, url in zip(entries, guids, urls, strict=True):
        if use_guid:
            keys.append(f"guid:{guid}")
        elif use_url:
            keys.append(f"url:{url}")
        else:
            body = f"{title_key(entry.title)}\n{entry.text or entry.summary}"
            keys.append("hash:" + hashlib.sha256(body.encode()).hexdigest()[:32])
    return keys


class Inbox:
    """The SQLite inbox under `.newsletter/`; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = open_database(path, SCHEMA, InboxError)

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write(self.db)

    # ------------------------------------------------------------------ source state

    def source_state(self, name: str) -> SourceState:
        row = self.db.execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        if row is None:
            return SourceState(name)
        data = dict(row)
        data["gone"] = bool(data["gone"])
        return SourceState(**data)

    def save_source_state(self, state: SourceState) -> None:
        data = dict(state.__dict__)
        columns = ", ".join(data)
        marks = ", ".join(f":{k}" for k in data)
        with self._write() as db:
            db.execute(f"INSERT OR REPLACE INTO sources ({columns}) VALUES ({marks})", data)

    def source_states(self) -> list[SourceState]:
        names = [row[0] for row in self.db.execute("SELECT name FROM sources ORDER BY name")]
        return [self.source_state(name) for name in names]

    # ------------------------------------------------------------------ candidates

    def store(self, source: str, entries: list[Entry], *, tags: Iterable[str] = ()) -> StoreCounts:
        """Add new entries, update changed ones; the same content again adds nothing."""
        counts = StoreCounts()
        now = _now()
        with self._write() as db:
            for entry, key in zip(entries, entry_keys(entries), strict=True):
                row = self._find(source, key, entry)
                values = self._values(entry, [*tags, *entry.tags], now)
                if row is None:
                    self._insert(source, key, values)
                    counts.new += 1
                elif row["content_hash"] != values["content_hash"]:
                    db.execute(
                        f"UPDATE candidates SET {', '.join(f'{k} = :{k}' for k in values)}, "
                        "updated_at = :now WHERE id = :id",
                        {**values, "now": now, "id": row["id"]},
                    )
                    counts.updated += 1
                else:
                    counts.unchanged += 1
        return counts

    def _find(self, source: str, key: str, entry: Entry) -> sqlite3.Row | None:
        """The stored row for this entry: by key, else by link (a feed whose GUIDs went bad)."""
        row = self.db.execute(
            "SELECT id, content_hash FROM candidates WHERE source = ? AND key = ?", (source, key)
        ).fetchone()
        if row is None and entry.url:
            row = self.db.execute(
                "SELECT id, content_hash FROM candidates WHERE source = ? AND url_key = ?",
                (source, url_key(entry.url)),
            ).fetchone()
        return row

    @staticmethod
    def _values(entry: Entry, tags: list[str], now: str) -> dict[str, Any]:
        url = canonical_url(entry.url) if entry.url else None
        return {
            "title": entry.title,
            "url": url,
            "url_key": url_key(url) if url else None,
            "guid": entry.guid,
            "published": entry.published.isoformat() if entry.published else None,
            "author": entry.author,
            "summary": entry.summary,
            "text": entry.text,
            "image": entry.image,
            "tags": json.dumps(list(dict.fromkeys(tags)), ensure_ascii=False),
            "title_key": title_key(entry.title),
            "content_hash": _content_hash(entry),
            "fetched_at": now,
        }

    def _insert(self, source: str, key: str, values: dict[str, Any]) -> None:
        shingles = sketch(values["text"] or values["summary"])
        group = self._same_story(source, values, shingles)
        cursor = self.db.execute(
            f"INSERT INTO candidates (source, key, group_id, updated_at, {', '.join(values)}) "
            f"VALUES (:source, :key, :group_id, :fetched_at, {', '.join(':' + k for k in values)})",
            {**values, "source": source, "key": key, "group_id": group},
        )
        self.db.executemany(
            "INSERT INTO shingle_counts (hash, n) VALUES (?, 1) "
            "ON CONFLICT (hash) DO UPDATE SET n = n + 1",
            [(h,) for h in shingles],
        )
        # Boilerplate hashes are counted but not indexed: the table stays small.
        self.db.executemany(
            "INSERT OR IGNORE INTO shingles (hash, candidate) SELECT hash, ? "
            "FROM shingle_counts WHERE hash = ? AND n <= ?",
            [(cursor.lastrowid, h, COMMON_SHINGLE) for h in shingles],
        )

    def _same_story(self, source: str, values: dict[str, Any], shingles: list[int]) -> int | None:
        """The group leader of the same story from another source, if there is one."""
        row = None
        if values["url_key"]:
            row = self.db.execute(
                "SELECT id, group_id FROM candidates WHERE url_key = ? AND source != ? LIMIT 1",
                (values["url_key"], source),
            ).fetchone()
        if row is None and len(values["title_key"].split()) >= MIN_TITLE_WORDS:
            row = self.db.execute(
                "SELECT id, group_id FROM candidates WHERE title_key = ? AND source != ? LIMIT 1",
                (values["title_key"], source),
            ).fetchone()
        if row is None and shingles:
            marks = ", ".join("?" * len(shingles))
            row = self.db.execute(
                "SELECT c.id, c.group_id FROM shingles s JOIN candidates c ON c.id = s.candidate "
                f"WHERE s.hash IN (SELECT hash FROM shingle_counts WHERE hash IN ({marks}) "
                "AND n <= ?) AND c.source != ? "
                "GROUP BY c.id HAVING count(*) >= ? ORDER BY count(*) DESC LIMIT 1",
                (*shingles, COMMON_SHINGLE, source, SAME_TEXT),
            ).fetchone()
        return None if row is None else (row["group_id"] or row["id"])

    def mark_ran(self, ran: dict[str, str]) -> None:
        """Record, for every candidate whose link is a story of an earlier issue, that issue."""
        with self._write() as db:
            db.execute("UPDATE candidates SET ran_in = NULL WHERE ran_in IS NOT NULL")
            db.executemany(
                "UPDATE candidates SET ran_in = ? WHERE url_key = ?",
                [(issue, key) for key, issue in ran.items()],
            )

    def candidates(
        self,
        *,
        status: Status | None = None,
        source: str | None = None,
        tag: str | None = None,
        query: str | None = None,
        since: dt.date | None = None,
        limit: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[Candidate]:
        """Group leaders, newest first, each with all its sources; filters combine."""
        where, params = ["c.group_id IS NULL"], []
        if status:
            where.append("c.status = ?")
            params.append(status)
        if source:
            where.append(
                "(c.source = ? OR EXISTS (SELECT 1 FROM candidates m "
                "WHERE m.group_id = c.id AND m.source = ?))"
            )
            params += [source, source]
        if tag:
            where.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE lower(value) = lower(?))")
            params.append(tag)
        if query:
            where.append("(c.title LIKE ? OR c.summary LIKE ? OR c.text LIKE ?)")
            params += [f"%{query}%"] * 3
        if since:
            where.append("coalesce(c.published, c.fetched_at) >= ?")
            params.append(since.isoformat())
        if ids is not None:
            id_list = list(ids)
            where.append(f"c.id IN ({', '.join('?' * len(id_list))})")
            params += id_list
        sql = (
            "SELECT c.*, (SELECT group_concat(m.source, char(10)) FROM candidates m "
            "WHERE m.group_id = c.id) AS others FROM candidates c "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY coalesce(c.published, c.fetched_at) DESC, c.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._candidate(row) for row in self.db.execute(sql, params)]

    def get(self, ids: Iterable[int]) -> list[Candidate]:
        """The candidates with these ids (a member id means its group), in the order given."""
        found: list[Candidate] = []
        for wanted in ids:
            row = self.db.execute(
                "SELECT coalesce(group_id, id) FROM candidates WHERE id = ?", (wanted,)
            ).fetchone()
            if row is None:
                raise InboxError(f"no candidate with id {wanted}", path=self.path)
            found += self.candidates(ids=[row[0]])
        return found

    def set_status(self, ids: Iterable[int], status: Status, *, story: str | None = None) -> None:
        """Change the status of these candidates and their groups."""
        with self._write() as db:
            for wanted in ids:
                db.execute(
                    "UPDATE candidates SET status = ?, story = coalesce(?, story) "
                    "WHERE id = ? OR group_id = ?",
                    (status, story, wanted, wanted),
                )

    def stored_texts(self, source: str) -> dict[str, str]:
        """Canonical link -> stored text, for a source's candidates that have both."""
        rows = self.db.execute(
            "SELECT url, text FROM candidates WHERE source = ? AND url IS NOT NULL AND text != ''",
            (source,),
        )
        return {row[0]: row[1] for row in rows}

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM candidates").fetchone()[0]

    @staticmethod
    def _candidate(row: sqlite3.Row) -> Candidate:
        data = {k: v for k, v in dict(row).items() if k in Candidate.__dataclass_fields__}
        data["tags"] = json.loads(row["tags"])
        others = row["others"].split("\n") if row["others"] else []
        data["sources"] = list(dict.fromkeys([row["source"], *others]))
        return Candidate(**data)
