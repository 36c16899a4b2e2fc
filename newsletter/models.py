"""The content model: sources, stories and issues (pydantic)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["BODY_FIELDS", "Issue", "Source", "SourceKind", "Story", "is_web_url"]

SourceKind = Literal["auto", "rss", "atom", "rdf", "jsonfeed", "wordpress", "page"]

# Fields that live in a file's body or its location, not in its front matter.
BODY_FIELDS = frozenset({"summary", "note", "intro", "path", "stories"})


def is_web_url(value: str | None) -> bool:
    """True for http(s) URLs: the only links that may reach the email or the site."""
    return bool(value) and value.startswith(("http://", "https://"))


def _to_date(value: Any) -> Any:
    """YAML and feeds give datetimes; a story or issue only needs the day."""
    if isinstance(value, str) and len(value) > 10:
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # pydantic reports it with the field's name
    return value.date() if isinstance(value, dt.datetime) else value


class Source(BaseModel):
    """One feed or page listed in `sources.yaml`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    kind: SourceKind = "auto"
    tags: list[str] = []
    language: str | None = None
    enabled: bool = True
    full_text: bool = False
    prune: list[str] = []

    @field_validator("url")
    @classmethod
    def _web_or_path(cls, value: str) -> str:
        # Local files only when configured as a plain path: never file:// or other schemes.
        value = value.strip()
        if "://" in value and not is_web_url(value):
            raise ValueError("must be an http:// or https:// URL, or a path to a local file")
        return value

    @property
    def is_path(self) -> bool:
        """True when the source is a local file (relative paths: to the workspace)."""
        return not is_web_url(self.url)


class Story(BaseModel):
    """One story file: front matter, a summary and an Editor's Note.

    Front-matter keys the tool does not know are kept as extras and written back.
    """

    model_config = ConfigDict(extra="allow")

    title: str = ""
    url: str | None = None
    source: str | None = None
    published: dt.date | None = None
    tags: list[str] = []
    summary: str = ""
    note: str | None = None
    path: Path | None = None

    day_only = field_validator("published", mode="before")(_to_date)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        # A javascript: or file: link must never reach the email or the site.
        if value is not None and not is_web_url(value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def anchor(self) -> str:
        """The story's id inside its issue: the file name without number and suffix."""
        stem = self.path.stem if self.path else self.title
        return stem.split("-", 1)[1] if stem[:2].isdigit() and "-" in stem else stem


class Issue(BaseModel):
    """One issue folder: `issue.md` (front matter and intro) and its stories."""

    model_config = ConfigDict(extra="allow")

    title: str = ""
    date: dt.date
    number: int | None = None
    status: Literal["draft", "ready", "sent"] = "draft"
    preheader: str = ""
    intro: str = ""
    path: Path | None = None
    stories: list[Story] = []

    day_only = field_validator("date", mode="before")(_to_date)

    @property
    def slug(self) -> str:
        """The folder name, `<date>-<slug>`: the issue's id everywhere."""
        return self.path.name if self.path else f"{self.date.isoformat()}-issue"
