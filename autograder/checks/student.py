"""The one interface through which hidden checks reach a submission.

A check never touches student objects. It asks a :class:`Student` to call a
named function (or run a fixed probe from :mod:`autograder.inside.probes`) on plain
inputs and receives plain data back, decoded by :mod:`autograder.wire`.

Two implementations exist:

* ``autograder.engine.sandboxed_student.SandboxStudent``: the student's code lives in a
  separate, unprivileged process; this is what ``make grade`` uses.
* :class:`InProcessStudent` below: a trusted namespace in this process (the kit's
  own tests of the hidden suite). Values still make a JSON round trip so that
  both behave identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from autograder import wire
from autograder.assignment.model import Assignment
from autograder.inside import probes


class StudentError(Exception):
    """The student's code could not produce a value.

    ``kind`` is one of ``missing`` (name not defined), ``not_implemented``,
    ``raised`` (an exception), ``timeout``, ``died`` (the process ended) or
    ``bad_value`` (the value cannot cross the boundary). ``str(error)`` is a
    student-facing sentence.
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class CallResult:
    """A call's return value and its arguments as they were after the call."""

    value: Any
    args_after: list[Any]
    kwargs_after: dict[str, Any]


class Student(Protocol):
    """What a hidden check may ask of a submission."""

    def has(self, name: str) -> bool:
        """Whether the submission defines ``name`` at top level."""

    def value(self, name: str) -> Any:
        """A top-level constant, as plain data."""

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's function ``name``; raise StudentError on failure."""

    def call_inspect(self, name: str, *args: Any, **kwargs: Any) -> CallResult:
        """Like :meth:`call`, also returning the arguments after the call (purity checks)."""

    def probe(self, probe: str, **params: Any) -> Any:
        """Run the fixed probe ``autograder.inside.probes.<probe>`` against the submission."""

    def substitute(self, names: list[str], source: str) -> None:
        """Replace the student's ``names`` by the reference definitions in ``source``."""

    def enter_question(self, question: str, later: list[str]) -> None:
        """The checks of ``question`` start or resume; ``later`` are the questions whose
        checks are still to come (a sandboxed student times each question's calls)."""


class InProcessStudent:
    """A :class:`Student` over a namespace in this process (otter / nbgrader mode), with the
    fixed probes of ``assignment``."""

    def __init__(self, namespace: dict[str, Any], assignment: Assignment):
        self.namespace = namespace
        probes.register(getattr(assignment.module("probes"), "PROBES", {}))

    def has(self, name: str) -> bool:
        return name in self.namespace

    def value(self, name: str) -> Any:
        if name not in self.namespace:
            raise StudentError("missing", f"`{name}` is not defined in your notebook.")
        return self._roundtrip(self.namespace[name])

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.call_inspect(name, *args, **kwargs).value

    def call_inspect(self, name: str, *args: Any, **kwargs: Any) -> CallResult:
        reply = probes.run_call(self.namespace, name, wire.dumps(list(args)), wire.dumps(kwargs))
        return _reply_to_result(wire.loads(reply))

    def probe(self, probe: str, **params: Any) -> Any:
        reply = probes.run_probe(self.namespace, probe, wire.dumps(params))
        return _reply_to_result(wire.loads(reply)).value

    def substitute(self, names: list[str], source: str) -> None:
        scratch: dict[str, Any] = dict(self.namespace)
        exec(compile(source, "<reference>", "exec"), scratch)  # instructor code
        for name in names:
            self.namespace[name] = scratch[name]

    def enter_question(self, question: str, later: list[str]) -> None:
        """In this process nothing is timed per question."""

    @staticmethod
    def _roundtrip(value: Any) -> Any:
        try:
            return wire.loads(wire.dumps(value))
        except wire.WireError as exc:
            raise StudentError("bad_value", f"the value could not be read: {exc}") from None


def _reply_to_result(reply: Any) -> CallResult:
    """Turn a probe reply (see :func:`autograder.inside.probes.run_call`) into a CallResult."""
    if not isinstance(reply, dict) or "ok" not in reply:
        raise StudentError("bad_value", "the submission sent back something unreadable.")
    if not reply["ok"]:
        raise StudentError(str(reply.get("kind", "raised")), str(reply.get("message", "")))
    return CallResult(
        value=reply.get("value"),
        args_after=reply.get("args_after") or [],
        kwargs_after=reply.get("kwargs_after") or {},
    )


reply_to_result = _reply_to_result
