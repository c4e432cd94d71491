"""`gradkata release OUT`: the student hand-out, built only from public material."""

from .build import build_release

__all__ = ["build_release"]
