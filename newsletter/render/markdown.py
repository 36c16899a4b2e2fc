"""Markdown written by editors (or carried in from sources) -> safe HTML."""

from __future__ import annotations

import markdown as md
import nh3

__all__ = ["to_html", "to_paragraphs"]

# Only what an editor's Markdown produces; no images, so nothing in an issue
# loads a remote pixel, and every link leaves with rel=noopener.
_TAGS = {"a", "p", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "br", "h3", "h4"}
_ATTRIBUTES = {"a": {"href", "title"}}


# One converter per process, reset between texts: building one costs more than
# converting a 250-word story, and the archive build converts thousands.
_CONVERTER = md.Markdown(extensions=["sane_lists"], output_format="html")


def to_html(text: str) -> str:
    """Markdown -> HTML, sanitised by nh3's allow-list."""
    html = _CONVERTER.reset().convert(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )


def to_paragraphs(text: str) -> list[str]:
    """Markdown -> its paragraphs as single lines, for the plain-text part."""
    blocks = (" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n"))
    return [block for block in blocks if block]
