"""Link hygiene: canonical URLs without tracking parameters, and a key to compare them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["canonical_url", "url_key"]

# Parameters that identify a campaign or a click, never the page itself.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "twclid",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "_ga",
        "_gl",
        "ref_src",
    }
)


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in _TRACKING_NAMES or name.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """`url` with tracking parameters and the fragment removed, scheme and host lower-cased
    and a default port dropped; everything else (path, other parameters) kept as given."""
    parts = urlsplit(url.strip())
    # Filter the raw pairs: re-encoding would change how the others are escaped.
    pairs = [
        pair for pair in parts.query.split("&") if pair and not _is_tracking(pair.split("=")[0])
    ]
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:  # a malformed port: leave the URL alone rather than guess
        return url.strip()
    netloc = host if port in (None, default) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", "&".join(pairs), ""))


def url_key(url: str) -> str:
    """Compare URLs as a reader would: scheme, "www.", a trailing slash, the fragment and
    tracking parameters do not make a different story."""
    parts = urlsplit(canonical_url(url))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", parts.netloc.removeprefix("www."), path, parts.query, ""))
