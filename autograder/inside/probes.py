"""Calls and fixed probes that run *inside* the student's process.

Every entry point takes the student's namespace and JSON text, and returns JSON
text: ``{"ok": true, "value": ..., "args_after": [...], "kwargs_after": {...}}``
or ``{"ok": false, "kind": ..., "message": ...}``. The grader decodes the reply
with :mod:`autograder.wire` and decides every score itself; nothing here is
trusted.

A *probe* is a fixed function of the assignment's (``PROBES`` in its
``probes.py``, e.g. one that builds a model and an optimizer around one student
name so that a check exercises exactly that name); :func:`register` installs
them, before the student's code runs.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

from autograder import wire

MAX_MESSAGE_CHARS = 600
NOT_IMPLEMENTED = "not implemented yet"
"""Part of every message about a function that still raises NotImplementedError."""
NOT_DEFINED = "is not defined in your notebook"
"""Part of every message about a name the notebook does not define."""


def _reply_ok(value: Any, args_after: list | None = None, kwargs_after: dict | None = None) -> str:
    try:
        return wire.dumps(
            {
                "ok": True,
                "value": value,
                "args_after": args_after or [],
                "kwargs_after": kwargs_after or {},
            }
        )
    except wire.WireError as exc:
        return _reply_error("bad_value", f"the returned value could not be read: {exc}")
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        return _reply_error("bad_value", f"the returned value could not be read: {exc}")


def _reply_error(kind: str, message: str) -> str:
    return json.dumps({"ok": False, "kind": kind, "message": message[:MAX_MESSAGE_CHARS]})


def _describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, NotImplementedError):
        return "not_implemented", f"{NOT_IMPLEMENTED} (it raises NotImplementedError)"
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (line {last[0].lineno} of {last[0].name})" if last else ""
    return "raised", f"raised {type(exc).__name__}: {exc}{where}"


def _guard(fn: Callable[[], str]) -> str:
    """Run ``fn``; turn anything it raises into an error reply."""
    try:
        return fn()
    except BaseException as exc:  # student code may raise anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        kind, message = _describe(exc)
        return _reply_error(kind, message)


def lookup(ns: dict, name: str) -> Any:
    """``ns[name]`` for a probe; a missing name becomes a ``missing`` reply."""
    if name not in ns:
        raise _Missing(name)
    return ns[name]


class _Missing(Exception):
    pass


PROBES: dict[str, Callable[..., Any]] = {}
"""The assignment's probes by name (see :func:`register`)."""


def register(probes: dict[str, Callable[..., Any]]) -> None:
    """Install the assignment's probes (in the sandbox's warm parent, before any student)."""
    PROBES.clear()
    PROBES.update(probes)


def run_call(ns: dict, name: str, args_json: str, kwargs_json: str) -> str:
    """Call ``ns[name](*args, **kwargs)`` on freshly decoded arguments."""
    if name not in ns:
        return _reply_error("missing", f"`{name}` {NOT_DEFINED}.")
    fn = ns[name]
    if not callable(fn):
        return _reply_error("raised", f"`{name}` is not a function.")
    args = wire.loads(args_json)
    kwargs = wire.loads(kwargs_json)

    def go() -> str:
        value = fn(*args, **kwargs)
        return _reply_ok(value, args, kwargs)

    return _guard(go)


def run_value(ns: dict, name: str) -> str:
    """The value of a top-level constant."""
    if name not in ns:
        return _reply_error("missing", f"`{name}` {NOT_DEFINED}.")
    return _guard(lambda: _reply_ok(ns[name]))


def run_probe(ns: dict, probe: str, params_json: str) -> str:
    """Run one of the registered probes by name."""
    fn = PROBES.get(probe)
    if fn is None:
        return _reply_error("raised", f"unknown probe {probe!r}")
    params = wire.loads(params_json)

    def go() -> str:
        try:
            return _reply_ok(fn(ns, **params))
        except _Missing as missing:
            return _reply_error("missing", f"`{missing.args[0]}` {NOT_DEFINED}.")

    return _guard(go)


__all__ = ["run_call", "run_value", "run_probe", "register", "lookup", "PROBES"]
