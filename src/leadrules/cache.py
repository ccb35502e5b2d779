"""What is built once (the parser, compiled evaluators) -> files kept in the user's cache folder.

The folder is `$XDG_CACHE_HOME/leadrules/` (default `~/.cache/leadrules/`), never a shared
temporary folder: what is kept there is code (a pickled parser, marshalled bytecode), and a file
someone else could have written there would be someone else's code. `LEADRULES_NO_CACHE=1`
turns every cache off. Files are written under a temporary name and renamed, so a process
starting at the same moment never reads half a file.
"""

from __future__ import annotations

import os
from pathlib import Path


def folder() -> Path | None:
    """The cache folder (created when missing), or None when caching is off or impossible."""
    if os.environ.get("LEADRULES_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "leadrules"
    try:
        path.mkdir(parents=True, exist_ok=True)
        owner = path.stat().st_uid
    except OSError:
        return None
    # Only a folder of the user's own: another account could have put code in it.
    if hasattr(os, "getuid") and owner != os.getuid():
        return None
    if not os.access(path, os.W_OK):
        return None
    return path


def temporary_name(path: Path) -> Path:
    """Where to write `path` before renaming it (same folder, so the rename is atomic)."""
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def write(path: Path, data: bytes) -> bool:
    """Keep `data` at `path` (written aside, then renamed). A cache that cannot be written is
    simply not kept: returns False, never raises."""
    temporary = temporary_name(path)
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
        return False
    return True


def touch(path: Path) -> None:
    """Mark a kept file as just used (prune keeps the most recently used)."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune(pattern: str, keep: int) -> None:
    """Remove all but the `keep` most recently used files matching `pattern` (glob)."""
    base = folder()
    if base is None:
        return
    try:
        found = sorted(base.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in found[keep:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
