"""MJML -> email HTML with mjml-python (MRML), working around what MRML leaves undone.

MRML copies `<mj-style inline="inline">` into a `<style>` block instead of inlining
it; here that CSS is taken out of the source and inlined with css-inline, leaving
the other `<style>` blocks (media queries, dark mode) and every HTML comment
(Outlook's conditional code) in place.
"""

from __future__ import annotations

import re
from functools import lru_cache

import css_inline
from mjml import mjml2html

from newsletter.errors import RenderError

__all__ = ["compile_mjml", "inline_css", "split_inline_styles"]

_INLINE_STYLE = re.compile(r'<mj-style\s+inline="inline"\s*>(.*?)</mj-style>', re.S)


def compile_mjml(source: str, *, template: str) -> str:
    """MJML source -> HTML with its `inline="inline"` styles inlined."""
    source, css = split_inline_styles(source)
    try:
        # fonts={}: no web-font <link>, so nothing loads from a third party
        html = mjml2html(source, fonts={})
    except ValueError as exc:  # mjml-python reports MRML errors as ValueError
        raise RenderError(f"MJML did not compile: {exc}", path=template) from None
    return inline_css(html, css, template=template) if css else html


def split_inline_styles(source: str) -> tuple[str, str]:
    """The source without its `<mj-style inline="inline">` blocks, and their CSS."""
    css = "\n".join(block.strip() for block in _INLINE_STYLE.findall(source))
    return _INLINE_STYLE.sub("", source), css


def inline_css(html: str, css: str, *, template: str = "") -> str:
    """`css` written into the `style` attributes of the elements it selects."""
    try:
        return _inliner(css).inline(html)
    except ValueError as exc:  # css_inline.InlineError: a selector or rule it cannot parse
        raise RenderError(f"CSS could not be inlined: {exc}", path=template or None) from None


@lru_cache(maxsize=8)
def _inliner(css: str) -> css_inline.CSSInliner:
    return css_inline.CSSInliner(
        inline_style_tags=False,  # the <style> blocks left are for media queries: keep them whole
        keep_style_tags=True,
        load_remote_stylesheets=False,
        extra_css=css,
    )
