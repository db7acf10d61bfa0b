"""``SandboxStudent``: the :class:`autograder.checks.student.Student` of a sandboxed submission.

Every method sends one command to the student process and decodes the reply
with :mod:`autograder.wire` (JSON only, size-limited, fresh NumPy arrays and
builtins). A reply that cannot be decoded means the submission lied:
``StudentError("bad_value")``. Time-outs and crashes become ``StudentError``
with kind ``timeout`` or ``died`` and a student-facing message; the session has
already restarted the process, so the next call works again.
"""

from __future__ import annotations

from typing import Any

from autograder import wire
from autograder.checks.student import CallResult, StudentError, reply_to_result
from autograder.engine.session import Session


def _decode(payload: str) -> Any:
    try:
        return wire.loads(payload)
    except (wire.WireError, RecursionError, ValueError) as exc:
        raise StudentError(
            "bad_value", f"the submission sent back something unreadable: {exc}"
        ) from None


def _encode(value: Any) -> str:
    return wire.dumps(value)


class SandboxStudent:
    """A :class:`autograder.checks.student.Student` backed by a :class:`Session`."""

    def __init__(self, session: Session):
        self.session = session

    def has(self, name: str) -> bool:
        reply = _decode(self.session.call({"op": "has", "name": name}, f"looking up `{name}`"))
        if not isinstance(reply, dict) or type(reply.get("value")) is not bool:
            raise StudentError("bad_value", "the submission sent back something unreadable.")
        return reply["value"]

    def value(self, name: str) -> Any:
        payload = self.session.call({"op": "value", "name": name}, f"reading `{name}`")
        return reply_to_result(_decode(payload)).value

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.call_inspect(name, *args, **kwargs).value

    def call_inspect(self, name: str, *args: Any, **kwargs: Any) -> CallResult:
        message = {
            "op": "call",
            "name": name,
            "args": _encode(list(args)),
            "kwargs": _encode(kwargs),
        }
        payload = self.session.call(message, f"`{name}`", key=name)
        result = reply_to_result(_decode(payload))
        if type(result.args_after) is not list or type(result.kwargs_after) is not dict:
            raise StudentError("bad_value", "the submission sent back something unreadable.")
        return result

    def probe(self, probe: str, **params: Any) -> Any:
        message = {"op": "probe", "name": probe, "params": _encode(params)}
        payload = self.session.call(message, f"the {probe} probe", key=f"probe:{probe}")
        return reply_to_result(_decode(payload)).value

    def substitute(self, names: list[str], source: str) -> None:
        self.session.substitute(list(names), source)

    def enter_question(self, question: str, later: list[str]) -> None:
        self.session.enter_question(question, later)
