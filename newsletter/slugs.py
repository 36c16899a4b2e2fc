"""Deterministic ASCII slugs and control-character stripping for untrusted strings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

__all__ = ["slugify", "strip_controls", "unique_slug"]

# Letters that NFKD does not decompose into ASCII plus a combining mark, and
# apostrophes, dropped so that "World’s" gives "worlds", not "world-s".
_LETTERS = str.maketrans(
    {
        "'": "",
        "’": "",
        "đ": "d",
        "Đ": "D",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "Th",
        "ð": "d",
    }
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# C0/C1 controls, DEL, and Unicode line/paragraph separators: none belong in a
# header or a file name.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r" {2,}")  # only ASCII runs: a no-break space is the author's choice


def slugify(text: str, *, max_length: int = 60, fallback: str = "story") -> str:
    """ASCII slug: "Hà Nội" -> "ha-noi"; scripts without Latin letters give `fallback`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    # Accents go; any other non-ASCII character (a dash, a Thai letter) splits words.
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = _NOT_SLUG.sub("-", bare.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or fallback


def unique_slug(slug: str, taken: Container[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`, ... whichever is not taken yet."""
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


def strip_controls(text: str) -> str:
    """Replace control characters (CR, LF, NUL, ...) with spaces and trim."""
    return _SPACES.sub(" ", _CONTROLS.sub(" ", text)).strip(" ")
