"""Markdown written by editors (or carried in from sources) -> safe HTML."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    import markdown

__all__ = ["to_html", "to_paragraphs"]

# Only what an editor's Markdown produces; no images, so nothing in an issue
# loads a remote pixel, and every link leaves with rel=noopener. One Cleaner for
# every call: nh3.clean() builds its allow-lists anew each time, over half its cost.
_TAGS = {"a", "p", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "br", "h3", "h4"}
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes={"a": {"href", "title"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener",
)


_LOCAL = threading.local()


def _converter() -> markdown.Markdown:
    # Building a Markdown instance costs more than converting a story with it:
    # keep one per thread (instances are not thread-safe) and reset it between uses.
    if not hasattr(_LOCAL, "converter"):
        import markdown  # here, not above: a site rebuild often converts nothing

        _LOCAL.converter = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    return _LOCAL.converter


# Characters that can start Markdown syntax anywhere in a line, and at its start.
_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>&!\r\t]")
_LINE_START_SYNTAX = re.compile(r"[-+*#>=]|\d+[.)]")


def _plain_prose(text: str) -> str | None:
    """The HTML of text that uses no Markdown syntax at all (paragraphs of words, as most
    summaries are), or None. Python-Markdown would give the same bytes, ten times slower;
    tests compare the two."""
    if _INLINE_SYNTAX.search(text):
        return None
    blocks = re.split(r"\n{2,}", text.strip("\n"))
    for block in blocks:
        for line in block.split("\n"):
            if not line or line != line.strip() or _LINE_START_SYNTAX.match(line):
                return None
    return "\n".join(f"<p>{block}</p>" for block in blocks)


def to_html(text: str) -> str:
    """Markdown -> HTML, sanitised by nh3's allow-list."""
    html = _plain_prose(text)
    if html is None:
        html = _converter().reset().convert(text)
    return _CLEANER.clean(html)


def to_paragraphs(text: str) -> list[str]:
    """Markdown -> its paragraphs as single lines, for the plain-text part."""
    blocks = (" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n"))
    return [block for block in blocks if block]
