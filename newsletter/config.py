"""`sources.yaml` schema, workspace discovery and `init`."""

from __future__ import annotations

import json
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


class Settings(BaseModel):
    """The `newsletter:` block: who publishes, where, in which language."""

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

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"


class SmtpSettings(BaseModel):
    """The relay used by `send`; the password comes only from the environment."""

    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None


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
