"""`sources.yaml` schema, workspace discovery and `init`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from newsletter.errors import ConfigError
from newsletter.fileio import atomic_write, read_text
from newsletter.models import Source
from newsletter.slugs import strip_controls
from newsletter.yamlio import load_yaml, validate

__all__ = [
    "CONFIG_NAME",
    "Config",
    "Settings",
    "SiteSettings",
    "SmtpSettings",
    "UtmSettings",
    "Workspace",
    "find_workspace",
    "init_workspace",
    "load_workspace",
]

CONFIG_NAME = "sources.yaml"
PACKAGE_DIR = Path(__file__).resolve().parent
# Installed wheels carry the theme inside the package; a source checkout keeps
# it in the repository's top-level templates/ folder.
DEFAULT_TEMPLATES = next(
    (p for p in (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates") if p.is_dir()),
    PACKAGE_DIR / "templates",
)


_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _web_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


class UtmSettings(BaseModel):
    """Campaign parameters added to the email's links (never to the site or feeds).

    `{issue}` in a value is replaced by the issue's folder name, `{number}` by its number.
    """

    model_config = ConfigDict(extra="forbid")

    source: str = Field(default="newsletter", min_length=1)
    medium: str = Field(default="email", min_length=1)
    campaign: str = Field(default="{issue}", min_length=1)


class Settings(BaseModel):
    """The `newsletter:` block: who publishes, where, in which language, how the email looks."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    title: str = Field(min_length=1)
    url: str = Field(min_length=1, description="where the archive is published")
    language: str = "en"
    sender: str = Field(alias="from", min_length=3)
    reply_to: str | None = None
    address: str = ""
    description: str = ""
    note_label: str = "Editor’s Note"
    summary_max_words: int = Field(default=300, gt=0)
    brand_color: str = "#0b5cad"
    logo: str | None = None
    logo_width: int = Field(default=160, gt=0, le=600)
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    list_id: str | None = None
    utm: UtmSettings | None = None

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = _web_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("logo")
    @classmethod
    def _logo_url(cls, value: str | None) -> str | None:
        # Mail clients load images from the web only: a local path would be a broken image.
        return None if value is None else _web_url(value)

    @field_validator("unsubscribe_url")
    @classmethod
    def _one_click_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (one-click unsubscribe, RFC 8058)")
        return value

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _mail_address(cls, value: str | None) -> str | None:
        value = value.removeprefix("mailto:") if value else value
        if value is not None and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
            raise ValueError("must be an email address such as unsubscribe@example.org")
        return value

    @field_validator("brand_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _HEX_COLOUR.match(value):
            raise ValueError("must be a colour such as '#0b5cad'")
        return value.lower()


class SmtpSettings(BaseModel):
    """The relay used by `send`; the password comes only from the environment."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    rate: float = Field(default=0, ge=0, description="messages per second at most; 0: no limit")
    per_connection: int = Field(default=100, ge=0, description="messages before reconnecting")
    timeout: float = Field(default=30, gt=0, description="connect and command timeout, seconds")
    # RFC 5321 gives the server 10 minutes to answer the end of the data; giving up
    # sooner turns a slow relay into an unknown outcome, and a resend into a duplicate.
    final_reply_timeout: float = Field(default=600, ge=60)
    retries: int = Field(default=5, ge=1, description="attempts for a recipient answered 4xx")
    retry_delay: float = Field(default=30, ge=0, description="first backoff, doubling")
    retry_max_delay: float = Field(default=900, ge=0)


class SiteSettings(BaseModel):
    """The `site:` block: how the archive is laid out; every key is optional."""

    model_config = ConfigDict(extra="forbid")

    issues_per_page: int = Field(default=20, gt=0, description="issues on an archive page")
    stories_per_page: int = Field(default=50, gt=0, description="stories on a tag/source page")
    recent_issues: int = Field(default=5, ge=0, description="issues listed on the home page")
    feed_items: int = Field(default=20, gt=0, description="newest issues in the feeds")
    search: bool = True
    about: str = Field(default="", description="Markdown for the about page")
    twitter: str = Field(default="", description="@handle for twitter:site")


class Config(BaseModel):
    """The whole of `sources.yaml`."""

    model_config = ConfigDict(extra="forbid")

    newsletter: Settings
    site: SiteSettings = SiteSettings()
    smtp: SmtpSettings | None = None
    sources: list[Source] = []

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        names = [source.name for source in sources]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"source names must be unique; repeated: {', '.join(repeated)}")
        return sources


@dataclass(frozen=True)
class Workspace:
    """A newsletter folder and its parsed settings."""

    root: Path
    config: Config

    @property
    def settings(self) -> Settings:
        return self.config.newsletter

    @property
    def issues_dir(self) -> Path:
        return self.root / "issues"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def template_dirs(self) -> list[Path]:
        """The workspace's own templates first, then the default theme."""
        own = self.root / "templates"
        return [own, DEFAULT_TEMPLATES] if own.resolve() != DEFAULT_TEMPLATES else [own]


def find_workspace(start: Path | None = None) -> Path:
    """The nearest folder from `start` upwards that holds `sources.yaml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ConfigError(
        f"no {CONFIG_NAME} here or in any parent folder; "
        "run 'newsletter init DIR' or pass --workspace DIR",
        path=here,
    )


def load_config(path: Path) -> Config:
    """Parse and validate `sources.yaml`."""
    text = read_text(path, ConfigError)
    data = load_yaml(text, path, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with a 'newsletter:' block", path=path, line=1)
    return validate(Config, data, path=path, text=text, error=ConfigError)


def load_workspace(root: Path | None = None) -> Workspace:
    """The workspace at `root`, or the one found upwards from the current folder."""
    if root is None:
        root = find_workspace()
    elif not (root / CONFIG_NAME).is_file():
        raise ConfigError(f"not a workspace: no {CONFIG_NAME}", path=root)
    return Workspace(root=root.resolve(), config=load_config(root / CONFIG_NAME))


STARTER_CONFIG = """\
# Settings of this newsletter and the sources `newsletter gather` reads.
newsletter:
  title: {title}
  url: https://example.org/newsletter/   # where the archive is published (may be a sub-path)
  language: en
  from: {sender}
  address: "Postal address shown in the email footer"
  note_label: "Editor’s Note"
  summary_max_words: 300                 # `check` warns above this
  # brand_color: "#0b5cad"               # links, masthead and the note's accent in the email
  # logo: https://example.org/newsletter/logo.png   # shown instead of the title in the email
  # unsubscribe_url: "https://example.org/unsubscribe?t={{token}}"  # one-click unsubscribe
  # utm: {{source: newsletter, medium: email, campaign: "{{issue}}"}}  # tag the email's links

# smtp:                        # used by `send`; password only from NEWSLETTER_SMTP_PASSWORD
#   host: smtp.example.org
#   port: 587
#   security: starttls                   # starttls | tls | none
#   username: newsletter

sources: []
#  - name: example
#    url: https://example.org/feed.xml
#    kind: auto                          # auto | rss | atom | rdf | jsonfeed | wordpress | page
#    tags: [tech]
"""

GITIGNORE = ".newsletter/\nbuild/\n.venv/\n"


def init_workspace(root: Path, *, title: str = "My Newsletter") -> Workspace:
    """Make a fresh workspace: settings, an empty `issues/`, a `.gitignore`.

    The default theme is used until the workspace puts its own files in `templates/`.
    """
    if (root / CONFIG_NAME).exists():
        raise ConfigError("already a workspace; nothing changed", path=root / CONFIG_NAME)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot make the folder: {exc.strerror or exc}", path=root) from None
    title = strip_controls(title) or "My Newsletter"
    # JSON strings are valid YAML scalars: a title with ":" or "#" stays a title.
    text = STARTER_CONFIG.format(
        title=json.dumps(title, ensure_ascii=False),
        sender=json.dumps(f"{title} <newsletter@example.org>", ensure_ascii=False),
    )
    atomic_write(root / CONFIG_NAME, text)
    (root / "issues").mkdir(exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        atomic_write(gitignore, GITIGNORE)
    return load_workspace(root)
