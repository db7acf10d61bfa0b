"""Stand-ins that replace a submission's names with the reference versions, from outside.

No double jeopardy: a question that builds on another is graded with the
reference versions of what it builds on. The reference code never enters the
student's process: each substituted name is bound to a stand-in whose calls
travel to the grader over the JSON channel, where the reference runs
(:mod:`autograder.checks.reference_calls`); only plain data comes back.

* a function becomes a :class:`RemoteFunction` (arguments and results through
  :mod:`autograder.wire`; tensors stay tensors);
* an assignment may give a name a stand-in of its own (``SPECIAL`` in its
  ``stand_ins.py``): one that sends what a function with objects for arguments
  needs (a model's weights, an optimizer's state) and loads back what the
  reference left, or a class built from what the contract states.

This module runs in the student's process; nothing here is trusted by the grader.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from autograder import wire

Channel = Callable[[str], Any]
"""Sends one callback request (JSON text) to the grader and returns its reply (parsed JSON)."""


class RemoteError(RuntimeError):
    """The reference call failed on the grader's side; ``str()`` says why."""


def call_remote(channel: Channel, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the reference ``name`` on the grader; tensors come back as tensors."""
    request = json.dumps(
        {"name": name, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)}
    )
    reply = wire.decode(channel(request), tensors=True)
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        message = reply.get("message", "") if isinstance(reply, dict) else ""
        raise RemoteError(f"the reference {name} could not run: {message}")
    value = reply.get("value")
    return tuple(value) if reply.get("tuple") is True and isinstance(value, list) else value


class RemoteFunction:
    """A function whose every call runs the reference version on the grader."""

    def __init__(self, name: str, channel: Channel):
        self.__name__ = self.__qualname__ = name
        self._channel = channel

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return call_remote(self._channel, self.__name__, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<reference {self.__name__} (runs in the grader)>"


SPECIAL: dict[str, Callable[[Channel], Any]] = {}
"""The assignment's own stand-ins by name (its ``stand_ins.py``; see :func:`register`)."""


def register(special: dict[str, Callable[[Channel], Any]]) -> None:
    """Install the assignment's stand-ins (in the sandbox's warm parent, before any student)."""
    SPECIAL.clear()
    SPECIAL.update(special)


def stand_in(name: str, channel: Channel) -> Any:
    """What ``name`` is bound to in the student's namespace while it is substituted."""
    make = SPECIAL.get(name)
    return make(channel) if make is not None else RemoteFunction(name, channel)
