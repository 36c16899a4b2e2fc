"""`build`: the archive site in `build/site/`; the work is done by `newsletter.site`."""

from __future__ import annotations

from newsletter.site.build import BuildReport, build, build_site

__all__ = ["BuildReport", "build", "build_site"]
