"""``python -m autograder sandbox``: run a cell in a fresh sandbox and print what it sees.

The cell is the one the README's Isolation section shows: its uid, the root
folder, the processes it can see, its working folder, its network interfaces
and where it may write. ``--cell FILE`` runs any other code instead. Nothing is
graded; the sandbox is destroyed afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys

from autograder.assignment.model import Assignment, current
from autograder.engine import containment
from autograder.engine.session import Cell, Limits, Sandbox, Session

LOOK_AROUND = """\
import os
print("uid:", os.getuid(), " pid:", os.getpid(), " host:", os.uname().nodename)
print("/:", sorted(os.listdir("/")))
print("/proc:", sorted(p for p in os.listdir("/proc") if p.isdigit()))
print("cwd:", os.getcwd(), sorted(os.listdir(".")))
print("network:", [line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]])
writable = []
for folder in ["/", "/usr", "/etc", "/tmp", "/dev/shm", os.getcwd(), os.path.dirname(os.__file__)]:
    try:
        with open(os.path.join(folder, ".probe"), "w"):
            pass
        os.remove(os.path.join(folder, ".probe"))
        writable.append(folder)
    except OSError:
        pass
print("writable:", writable)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("new user namespace:", "made" if libc.unshare(0x10000000) == 0
      else os.strerror(ctypes.get_errno()))
"""


def look(
    assignment: Assignment, source: str = LOOK_AROUND, memory_mb: int = 2048
) -> tuple[str, dict[str, str]]:
    """Run ``source`` in a fresh sandbox of ``assignment``; its output and the sandbox's
    description."""
    box = Sandbox.create(memory_mb, assignment)
    session = Session(
        box, Limits(cell_timeout=30, call_timeout=10, total_timeout=60, memory_mb=memory_mb)
    )
    try:
        record = session.run_cells([Cell(0, source)])[0]
        return (
            record.output + (f"\n[{record.status}] {record.message}" if record.message else "")
        ), box.limits_note
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder sandbox", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cell", help="a file of Python code to run instead")
    parser.add_argument(
        "--unconfined", action="store_true", help="run it even where no sandbox can be built"
    )
    args = parser.parse_args(argv)
    if args.unconfined:
        containment.allow_unconfined()
    source = LOOK_AROUND
    if args.cell:
        with open(args.cell, encoding="utf-8") as fh:
            source = fh.read()
    try:
        output, limits = look(current(), source)
    except containment.ContainmentRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(output.rstrip())
    print("limits:", json.dumps(limits, indent=1))
    return 0
