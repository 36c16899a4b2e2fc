"""Synthetic issues of any length, shaped like the seed's stories (tests and bench/)."""

from __future__ import annotations

import datetime as dt

from newsletter.models import Issue, Story

__all__ = ["synthetic_issue"]

_SENTENCE = (
    "Regional regulators and cloud providers announced new data centre capacity, "
    "sovereign AI programmes and funding for small firms adopting automation, while "
    "analysts warned that skills shortages and power prices could slow the rollout"
)
_WORDS = _SENTENCE.split()


def _text(words: int, offset: int) -> str:
    return " ".join(_WORDS[(offset + i) % len(_WORDS)] for i in range(words)).capitalize() + "."


def synthetic_issue(stories: int, *, date: dt.date = dt.date(2025, 7, 4)) -> Issue:
    """An in-memory issue: each story a headline, two 90-word paragraphs and a 55-word note."""
    return Issue(
        title=f"Synthetic issue with {stories} stories",
        date=date,
        number=7,
        status="ready",
        preheader="Data centres, sovereign AI and what they mean for small firms",
        intro=_text(40, 3),
        stories=[
            Story(
                title=f"Story {n}: {_text(9, n)[:-1]}",
                url=f"https://news.example.com/{date.year}/story-{n}?ref=feed",
                source="Example News",
                published=date,
                tags=["ai"],
                summary=f"{_text(90, n)}\n\n{_text(90, n + 5)}",
                note=_text(55, n + 11),
            )
            for n in range(1, stories + 1)
        ],
    )
