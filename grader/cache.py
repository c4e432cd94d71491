"""gradkata's on-disk cache: recordings a fresh process may reuse (never a verdict).

One folder per user (``$GRADKATA_CACHE``, else ``$XDG_CACHE_HOME/gradkata``,
else ``~/.cache/gradkata``; ``GRADKATA_CACHE=off`` turns it off). Files are read
only when this user owns them, nobody else may write them and they are not
symlinks; the sandboxed children run as another uid and cannot write here.
A cache that cannot be read or written is no cache, never an error. What is
kept must also check itself on reading (see each user of this module).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CACHE_ENV = "GRADKATA_CACHE"  # a folder for gradkata's cache, or "off"
MAX_FILE = 8 << 20


def cache_root() -> Path | None:
    """``$GRADKATA_CACHE``, else ``$XDG_CACHE_HOME/gradkata``, else ``~/.cache/gradkata``; None when off."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() in ("off", "0", "no", "none"):
        return None
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "gradkata"


_DIGESTS: dict[Path, str] = {}


def suite_digest(suite: Path) -> str:
    """A hash of what a suite's draws and scenarios depend on: its kata's folder and the grader's shared modules."""
    folder = suite.resolve().parent
    if folder not in _DIGESTS:
        h = hashlib.sha256()
        files = [*folder.rglob("*.py"), *PACKAGE.glob("*.py"), *(PACKAGE / "katas").glob("*.py"),
                 *(PACKAGE / "batch").glob("*.py"), *(PACKAGE / "worker").rglob("*.py")]
        for path in sorted(set(files)):
            h.update(str(path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else path).encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
        _DIGESTS[folder] = h.hexdigest()
    return _DIGESTS[folder]


def versions() -> list[str]:
    """The versions a recording depends on: gradkata, Hypothesis, NumPy, torch (if imported), Python."""
    import hypothesis
    import numpy as np

    from ._version import __version__

    torch = sys.modules.get("torch")
    return [__version__, hypothesis.__version__, np.__version__, str(getattr(torch, "__version__", "")),
            "%d.%d" % sys.version_info[:2]]


def read_private(path: Path) -> bytes | None:
    """The file's bytes if this user owns it, nobody else may write it, it is no symlink and not too big."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & 0o022 or info.st_size > MAX_FILE:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_FILE + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_private(path: Path, body: bytes) -> bool:
    """Write ``body`` to ``path`` atomically, readable by this user only; False if it could not."""
    if len(body) > MAX_FILE:
        return False
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    return True
