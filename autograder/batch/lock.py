"""One grading run per grades folder: an exclusive lock on ``<grades>/.lock``.

The lock is ``flock(2)`` on an open file, so the kernel releases it when the run
ends in any way (exit, Ctrl-C, ``kill -9``): a crashed run never leaves a stale
lock. The file records who holds it (process id, host, start time) for the
message the second run prints. A second run on the same folder exits with that
message, or waits for the first one with ``--wait``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LOCK_FILE = ".lock"


class GradesFolderBusy(RuntimeError):
    """Another run holds the grades folder (the message says which)."""


def _holder(handle: Any) -> str:
    handle.seek(0)
    text = handle.read(300).strip()
    return text or "another grading run"


@contextlib.contextmanager
def grades_lock(out: str | Path, wait: bool = False, stream: Any = None) -> Iterator[None]:
    """Hold the lock of grades folder ``out`` for the block.

    Raises GradesFolderBusy when another process holds it and ``wait`` is false;
    with ``wait`` it says so on ``stream`` and blocks until the other run ends."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # held for the block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            if not wait:
                raise GradesFolderBusy(
                    f"{out} is being graded by {holder}; wait for that run to finish, or "
                    "run again with --wait to start when it has"
                ) from None
            print(
                f"waiting for {holder} to finish with {out} ...",
                file=stream or sys.stderr,
                flush=True,
            )
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.write(f"process {os.getpid()} on {socket.gethostname()}, started {started}\n")
        handle.flush()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
    finally:
        handle.close()  # closing releases the flock
