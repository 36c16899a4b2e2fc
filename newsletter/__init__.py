"""newsletter: a terminal-first editorial newsletter generator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsletter")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+checkout"
