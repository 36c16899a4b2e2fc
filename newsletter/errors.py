"""One error hierarchy; the CLI turns each into a one-line message."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ArticleError",
    "ConfigError",
    "NewsletterError",
    "OverwriteError",
    "RenderError",
    "StoryError",
]


class NewsletterError(Exception):
    """An error the user can act on, located by file, line and field where known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class ConfigError(NewsletterError):
    """`sources.yaml` or the workspace is invalid."""


class StoryError(NewsletterError):
    """An issue or story file cannot be read or written."""


class OverwriteError(StoryError):
    """Refusing to overwrite an existing file without --force."""


class ArticleError(NewsletterError):
    """A raw article cannot be read or extracted."""


class RenderError(NewsletterError):
    """An issue cannot be rendered."""
