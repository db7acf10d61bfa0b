"""The grader's side of a substitution: run the reference version of a name for a stand-in.

While a question is graded with the reference versions of what it builds on,
the student's process holds only stand-ins (:mod:`autograder.inside.remote`); each of
their calls arrives here as a callback request, runs the reference definitions
(executed in this process from the instructor's solution, never sent to the
student) and answers with plain data. Every request is student-made input:
names outside the substitution are refused, arguments are decoded by
:mod:`autograder.wire` only, and an assignment's own handlers bound the work a
request may ask for.

A reference is a pure function of its arguments (the stand-ins send every piece of
state it reads), so a reply is remembered, per grader process, for the request that
asked for it: a batch graded with one seed sends the same requests for every
notebook that gets the same far (:data:`REPLIES`, bounded in bytes).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from autograder import wire

MAX_MESSAGE = 300
MAX_REMEMBERED_BYTES = 64 * 2**20
Handler = Callable[[dict[str, Any], str, list, dict], Any]
"""(reference namespace, name, args, kwargs) -> the value to send back."""


class Replies:
    """Replies by request, least recently used first out, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int = MAX_REMEMBERED_BYTES):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self._replies: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        reply = self._replies.get(key)
        if reply is not None:
            self._replies.move_to_end(key)
            self.hits += 1
        return reply

    def put(self, key: str, reply: str) -> None:
        if len(reply) > self.max_bytes // 4 or key in self._replies:
            return
        self._replies[key] = reply
        self.bytes += len(reply)
        while self.bytes > self.max_bytes:
            _, old = self._replies.popitem(last=False)
            self.bytes -= len(old)


REPLIES = Replies()
"""This process's remembered replies (all substitutions, all submissions)."""


class ReferenceCalls:
    """Runs the reference definitions of ``names`` (from ``source``) for callback requests."""

    def __init__(self, names: list[str], source: str,
                 handlers: dict[str, Handler] | None = None):
        """``handlers``: the assignment's own for names whose stand-ins send more than plain
        arguments (``HANDLERS`` in its ``references.py``; each must bound the work it does)."""
        self.names = list(names)
        self.handlers = dict(handlers or {})
        self.scope = hashlib.sha256(json.dumps(
            [source, sorted(self.names),
             sorted(f"{n}={h.__module__}.{h.__qualname__}" for n, h in self.handlers.items())]
        ).encode()).hexdigest()
        """What a reply depends on besides the request: the reference, the names, the handlers."""
        self.namespace: dict[str, Any] = {"__name__": "__reference__"}
        exec(compile(source, "<reference>", "exec"), self.namespace)  # instructor
        self.calls = 0

    def handle(self, request: str) -> str:
        """Answer one request ``{"name", "args", "kwargs"}`` with ``{"ok", "value", "tuple"}``
        or ``{"ok": false, "message"}`` (JSON text)."""
        self.calls += 1
        key = self.scope + hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()
        remembered = REPLIES.get(key)
        if remembered is not None:
            return remembered
        try:
            data = wire.loads(request, tensors=True)
            if not isinstance(data, dict):
                raise ValueError("malformed request")
            name, args, kwargs = data.get("name"), data.get("args"), data.get("kwargs")
            if name not in self.names or type(args) is not list or type(kwargs) is not dict:
                raise ValueError(f"{name!r} is not substituted")
            value = self.handlers.get(name, _call)(self.namespace, name, args, kwargs)
            reply = wire.dumps({"ok": True, "value": value, "tuple": isinstance(value, tuple)})
            REPLIES.put(key, reply)
            return reply
        except Exception as exc:  # the student's arguments may be anything
            message = f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE]
            return json.dumps({"ok": False, "message": message})


def _call(namespace: dict[str, Any], name: str, args: list, kwargs: dict) -> Any:
    return namespace[name](*args, **kwargs)


