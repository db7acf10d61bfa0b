"""The environment a command started from a shell would have, for tests that run ``make``.

A test run under ``make test ARGS=...`` inherits from that make both ``MAKEFLAGS`` and, as
environment variables, the variables set on its command line (GNU make exports them): a
``make grade`` started by a test would take the outer ``ARGS`` as its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"
MAKE_STATE = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


def make_variables() -> set[str]:
    """The command-line variables the Makefile knows (its ``KNOWN_VARIABLES`` lines)."""
    text = MAKEFILE.read_text(encoding="utf-8")
    return set(re.findall(r"^KNOWN_VARIABLES\s*[:+]?=\s*(\w+)\s*$", text, flags=re.M))


def shell_env(drop: tuple[str, ...] = ()) -> dict[str, str]:
    """``os.environ`` without make's state, the Makefile's variables and ``drop``."""
    gone = {*MAKE_STATE, *make_variables(), *drop}
    return {k: v for k, v in os.environ.items() if k not in gone}
