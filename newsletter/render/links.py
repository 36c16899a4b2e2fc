"""Campaign (UTM) parameters on the email's links; the site and feeds keep clean links."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsletter.config import UtmSettings
from newsletter.models import Issue

__all__ = ["add_utm", "tag_links", "utm_params"]

_HREF = re.compile(r'href="(https?://[^"]*)"')


def utm_params(utm: UtmSettings | None, issue: Issue) -> dict[str, str]:
    """The `utm_*` parameters for this issue; none when UTM is off."""
    if utm is None:
        return {}
    slots = {"{issue}": issue.slug, "{number}": str(issue.number or "")}
    values = {"source": utm.source, "medium": utm.medium, "campaign": utm.campaign}
    for name, value in values.items():
        for slot, filled in slots.items():
            value = value.replace(slot, filled)
        values[name] = value
    return {f"utm_{name}": value for name, value in values.items() if value}


def add_utm(url: str, params: dict[str, str]) -> str:
    """`url` with the parameters it does not carry yet appended; the rest kept as written."""
    parts = urlsplit(url)
    present = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = urlencode({k: v for k, v in params.items() if k not in present})
    if not extra:
        return url
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def tag_links(markup: str, params: dict[str, str], *, skip: set[str]) -> str:
    """Every http(s) `href` in the markup gets `params`, except the URLs in `skip`."""
    if not params:
        return markup

    def tag(match: re.Match[str]) -> str:
        url = html.unescape(match[1])
        if url in skip:
            return match[0]
        return f'href="{html.escape(add_utm(url, params))}"'

    return _HREF.sub(tag, markup)
