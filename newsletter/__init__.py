"""newsletter: a terminal-first editorial newsletter generator."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__`, looked up when first asked for: importing importlib.metadata costs
    50 ms, a tenth of a site rebuild."""
    if name != "__version__":
        raise AttributeError(f"module 'newsletter' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsletter")
    except PackageNotFoundError:  # running from a checkout without installing
        return "0.0.0+checkout"
