"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A reader (or a rerun after ``kill -9``) sees either the old file or the new
one, never half of one; a leftover ``.<name>.*.tmp`` is harmless.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

MAX_PREFIX = 64
"""Characters of the target's name (ASCII; others become ``_``) kept in its temporary file's
name: a name of 255 bytes plus the temporary's own parts would be too long."""


def write_text_atomic(path: str | Path, text: str, newline: str | None = None) -> None:
    """Write ``text`` to ``path`` (UTF-8) atomically, creating the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    short = re.sub(r"[^A-Za-z0-9._-]", "_", path.name)[:MAX_PREFIX]
    fd, tmp = tempfile.mkstemp(prefix=f".{short}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(folder: str | Path) -> int:
    """Delete ``.*.tmp`` files a killed run left in ``folder``; how many were removed."""
    count = 0
    folder = Path(folder)
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            count += 1
    return count
