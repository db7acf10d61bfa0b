"""The grader's side of a substitution: run the reference version of a name for a stand-in.

While a question is graded with the reference versions of what it builds on,
the student's process holds only stand-ins (:mod:`autograder.inside.remote`); each of
their calls arrives here as a callback request and is answered with plain data by
the reference definitions (executed from the instructor's solution, never sent to
the student). Every request is student-made input, so none of it runs in the
grader: a confined child of the grader's (:mod:`autograder.checks.reference_process`,
with its own memory cap, killed at the deadline of the call that asked) decodes it
with :mod:`autograder.wire` only, refuses names outside the substitution and
arguments of kinds the name does not declare (:mod:`autograder.checks.argument_kinds`,
``ARGUMENTS`` in the assignment's ``references.py``), and runs the reference; an
assignment's own handlers bound the work a request may ask for beyond that.

A reference is a pure function of its arguments (the stand-ins send every piece of
state it reads), so a reply is remembered, per grader process, for the request that
asked for it: a batch graded with one seed sends the same requests for every
notebook that gets the same far (:data:`REPLIES`, bounded in bytes).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from autograder import wire
from autograder.checks import argument_kinds, reference_process

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

    def __init__(
        self,
        names: list[str],
        source: str,
        handlers: dict[str, Handler] | None = None,
        arguments: dict[str, dict[str, str]] | None = None,
    ):
        """``handlers``: the assignment's own for names whose stand-ins send more than plain
        arguments (``HANDLERS`` in its ``references.py``; each must bound the work it does).
        ``arguments``: parameter -> kind for each name that accepts calls (``ARGUMENTS``
        there; see :mod:`autograder.checks.argument_kinds`); a name not in it accepts none."""
        self.names = list(names)
        self.handlers = dict(handlers or {})
        self.arguments = {n: dict(kinds) for n, kinds in (arguments or {}).items()}
        argument_kinds.check_declarations(self.arguments)
        self.scope = hashlib.sha256(
            json.dumps(
                [
                    source,
                    sorted(self.names),
                    sorted(
                        f"{n}={h.__module__}.{h.__qualname__}" for n, h in self.handlers.items()
                    ),
                    sorted((n, sorted(k.items())) for n, k in self.arguments.items()),
                ]
            ).encode()
        ).hexdigest()
        """What a reply depends on besides the request: the reference, the names, the handlers,
        the declared kinds."""
        self.namespace: dict[str, Any] = {"__name__": "__reference__"}
        exec(compile(source, "<reference>", "exec"), self.namespace)  # instructor
        self.calls = 0
        self.computed = 0
        """Requests sent to the reference process (the others were answered from memory)."""
        self.process = reference_process.process_for(self.scope, self.answer)

    def handle(self, request: str, deadline: float | None = None) -> str:
        """Answer one request ``{"name", "args", "kwargs"}`` with ``{"ok", "value", "tuple"}``
        or ``{"ok": false, "message"}`` (JSON text), from memory or from the reference
        process, which is killed when no answer has come by ``deadline``
        (``time.monotonic()``; default: :data:`DEFAULT_SECONDS` from now)."""
        self.calls += 1
        key = self.scope + hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()
        remembered = REPLIES.get(key)
        if remembered is not None:
            return remembered
        if deadline is None:
            deadline = time.monotonic() + DEFAULT_SECONDS
        self.computed += 1
        try:
            reply = self.process.ask(request, deadline)
        except reference_process.ReferenceFailed as exc:
            return _failure(f"the reference call was stopped: {exc}")
        if reply.startswith('{"ok":true'):
            REPLIES.put(key, reply)
        return reply

    def peak_mb(self) -> float:
        """The highest resident size (MiB) the reference process reached so far."""
        return self.process.peak_mb

    def answer(self, request: str) -> str:
        """What the reference process answers to one request (runs there, not here)."""
        try:
            data = wire.loads(request, tensors=True)
            if not isinstance(data, dict):
                raise ValueError("malformed request")
            name, args, kwargs = data.get("name"), data.get("args"), data.get("kwargs")
            if name not in self.names or type(args) is not list or type(kwargs) is not dict:
                raise ValueError(f"{name!r} is not substituted")
            args, kwargs = argument_kinds.check_call(
                name, self.namespace[name], self.arguments.get(name), args, kwargs
            )
            value = self.handlers.get(name, _call)(self.namespace, name, args, kwargs)
            reply = wire.dumps({"ok": True, "value": value, "tuple": isinstance(value, tuple)})
            if len(reply) > wire.MAX_MESSAGE_BYTES:
                raise wire.WireError("the reference's reply is too large")
            return reply
        except argument_kinds.ArgumentRefused as exc:
            return _failure(str(exc))
        except Exception as exc:  # the student's arguments may be anything
            return _failure(f"{type(exc).__name__}: {exc}")


DEFAULT_SECONDS = 10.0
"""How long a request may run when its caller gives no deadline."""


def _failure(message: str) -> str:
    return json.dumps({"ok": False, "message": message[:MAX_MESSAGE]})


def _call(namespace: dict[str, Any], name: str, args: list, kwargs: dict) -> Any:
    return namespace[name](*args, **kwargs)
