"""The plain-text digest: the form of `seeds/000_*.txt`, read by `import` and
written as the email's text part, so that one reads back what the other wrote.

A story is a headline, summary paragraphs, an optional URL line and an
"Editor’s Note:" paragraph. Two layouts are read: one line per paragraph with no
blank lines (the seed), or paragraphs separated by blank lines and wrapped
(the text part). Lines made only of `=`, `-`, `─` or `*` separate sections;
sections without a note (masthead, footer) are not stories.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from newsletter.errors import StoryError

__all__ = ["Digest", "DigestStory", "format_digest", "parse_digest"]

WIDTH = 76
RULE = "─" * WIDTH
_RULE_LINE = re.compile(r"^\s*[=\-─*_]{3,}\s*$")
_URL_UNIT = re.compile(r"^<?(https?://\S+?)>?$")
_NOTE_PREFIX = re.compile(r"^Editor['’]s\s+Note\s*:\s*", re.IGNORECASE)


@dataclass
class DigestStory:
    """One story as the digest carries it."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    url: str | None = None
    note: str | None = None
    line: int = field(default=0, compare=False)


@dataclass
class Digest:
    """The stories of a digest and the text around them."""

    stories: list[DigestStory]
    preamble: list[str] = field(default_factory=list)


@dataclass
class _Unit:
    text: str
    line: int


def parse_digest(text: str, *, note_label: str = "Editor’s Note", source: str = "digest") -> Digest:
    """Digest text -> stories; text is kept byte for byte apart from line joins."""
    note_prefix = _note_prefix(note_label)
    lines = text.replace("\r\n", "\n").split("\n")
    blocks = re.search(r"\S\n[ \t]*\n\s*\S", text) is not None
    stories: list[DigestStory] = []
    preamble: list[str] = []
    for section in _sections(lines, blocks):
        if any(note_prefix.match(unit.text) for unit in section):
            stories.extend(_stories(section, note_prefix, source))
        elif not stories:
            preamble.extend(unit.text for unit in section)
    if not stories:
        raise StoryError(f"no stories found: no paragraph starts with '{note_label}:'", path=source)
    return Digest(stories=stories, preamble=preamble)


def format_digest(
    stories: Iterable[DigestStory],
    *,
    header: Iterable[str] = (),
    footer: Iterable[str] = (),
    note_label: str = "Editor’s Note",
) -> str:
    """Stories -> wrapped plain text that `parse_digest` reads back."""
    sections = [
        [_wrap(line) for line in header],
        *(_story_parts(story, note_label) for story in stories),
        [_wrap(line) for line in footer],
    ]
    texts = ["\n\n".join(part for part in section if part) for section in sections if section]
    return f"\n\n{RULE}\n\n".join(texts) + "\n"


def _story_parts(story: DigestStory, note_label: str) -> list[str]:
    headline = _wrap(story.title)
    underline = "=" * max(len(line) for line in headline.split("\n"))
    parts = [f"{headline}\n{underline}", *map(_wrap, story.paragraphs), story.url or ""]
    if story.note:
        parts.append(_wrap(f"{note_label}: {story.note}"))
    return parts


def _note_prefix(label: str) -> re.Pattern[str]:
    parts = re.split("['’]", label.strip().rstrip(":"))
    custom = "['’]".join(re.escape(part) for part in parts)
    return re.compile(rf"^(?:{custom}|Editor['’]s\s+Note)\s*:\s*", re.IGNORECASE)


def _wrap(paragraph: str) -> str:
    return "\n".join(
        textwrap.wrap(paragraph, WIDTH, break_long_words=False, break_on_hyphens=False)
    )


def _sections(lines: list[str], blocks: bool) -> Iterator[list[_Unit]]:
    """Units (a line, or a blank-separated block with its lines joined) between rules."""
    section: list[_Unit] = []
    pending: list[tuple[int, str]] = []

    def flush() -> None:
        if pending:
            section.append(_Unit(" ".join(text.strip() for _, text in pending), pending[0][0]))
            pending.clear()

    for number, line in enumerate(lines, start=1):
        underline = blocks and bool(pending)  # a rule right under a headline
        if _RULE_LINE.match(line) and not underline:
            flush()
            if section:
                yield section
            section = []
        elif _RULE_LINE.match(line) or not line.strip():
            flush()
        else:
            pending.append((number, line))
            if not blocks:
                flush()
    flush()
    if section:
        yield section


def _stories(
    section: list[_Unit], note_prefix: re.Pattern[str], source: str
) -> Iterator[DigestStory]:
    """Split a section's units into stories, each ending with its note."""
    current: DigestStory | None = None
    for unit in section:
        if current is None:
            current = DigestStory(title=unit.text, line=unit.line)
        elif note_prefix.match(unit.text):
            current.note = note_prefix.sub("", unit.text, count=1)
            yield current
            current = None
        elif (url := _URL_UNIT.match(unit.text)) and current.url is None:
            current.url = url[1]
        else:
            current.paragraphs.append(unit.text)
    if current is not None:
        raise StoryError(
            f"story '{current.title[:60]}' has no 'Editor’s Note:' paragraph",
            path=source,
            line=current.line,
        )
