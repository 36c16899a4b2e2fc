"""Where a subscriber unsubscribes: the footer link and the `List-Unsubscribe` headers."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import quote

from newsletter.config import Settings

__all__ = ["TOKEN", "Unsubscribe", "unsubscribe"]

# The slot in `unsubscribe_url` that `send` fills with each recipient's token.
TOKEN = "{token}"


@dataclass(frozen=True)
class Unsubscribe:
    """A mailto always, and an https one-click URL (RFC 8058) when configured."""

    mailto: str
    url: str | None

    @property
    def link(self) -> str:
        """The footer's link: the web page when there is one (one click), else the mailto."""
        return self.url or self.mailto

    @property
    def header(self) -> str:
        """The `List-Unsubscribe` value (RFC 2369): mailto first, then https."""
        return ", ".join(f"<{target}>" for target in (self.mailto, self.url) if target)


def unsubscribe(settings: Settings, token: str | None = None) -> Unsubscribe:
    """The unsubscribe targets for one recipient's `token`; without one (the issue-wide
    message `render` writes) the slot is left empty."""
    address = settings.unsubscribe_mailto or parseaddr(settings.sender)[1]
    url = settings.unsubscribe_url
    if url:
        url = url.replace(TOKEN, quote(token or "", safe=""))
    return Unsubscribe(mailto=f"mailto:{address}?subject=unsubscribe", url=url)
