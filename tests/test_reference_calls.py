"""The grader's side of a substitution: reference calls answered from plain data, refused
outside the substitution, and remembered per request within a grader process."""

from __future__ import annotations

import json

import pytest

from autograder.checks import reference_calls
from autograder.checks.reference_calls import ReferenceCalls, Replies
from autograder.inside.remote import RemoteError, call_remote

SOURCE = "def scale(xs, k=2.0):\n    return [k * x for x in xs]\n"


@pytest.fixture(autouse=True)
def fresh_replies(monkeypatch):
    monkeypatch.setattr(reference_calls, "REPLIES", Replies())


def channel_of(calls: ReferenceCalls):
    return lambda request: json.loads(calls.handle(request))


def counting_handler(counter: list[int]):
    def handler(namespace, name, args, kwargs):
        counter.append(1)
        return namespace[name](*args, **kwargs)
    return handler


def test_the_reference_runs_on_the_grader_from_plain_data() -> None:
    channel = channel_of(ReferenceCalls(["scale"], SOURCE))
    assert call_remote(channel, "scale", [1.0, -0.5], k=3.0) == [3.0, -1.5]
    with pytest.raises(RemoteError, match="'print' is not substituted"):
        call_remote(channel, "print", "x")
    with pytest.raises(RemoteError, match="TypeError"):
        call_remote(channel, "scale", 3)  # the reference's own error, in one line


def test_a_request_asked_again_is_answered_from_memory() -> None:
    ran: list[int] = []
    calls = ReferenceCalls(["scale"], SOURCE, {"scale": counting_handler(ran)})
    channel = channel_of(calls)
    first = call_remote(channel, "scale", [1.0, 2.0])
    again = call_remote(channel, "scale", [1.0, 2.0])
    other = call_remote(channel, "scale", [1.0, 2.5])
    assert first == again == [2.0, 4.0] and other == [2.0, 5.0]
    assert len(ran) == 2 and reference_calls.REPLIES.hits == 1
    # another submission's substitution of the same reference shares the memory
    later = ReferenceCalls(["scale"], SOURCE, {"scale": counting_handler(ran)})
    assert call_remote(channel_of(later), "scale", [1.0, 2.0]) == [2.0, 4.0] and len(ran) == 2


def test_memory_never_answers_outside_its_scope() -> None:
    call_remote(channel_of(ReferenceCalls(["scale"], SOURCE)), "scale", [1.0])
    narrower = ReferenceCalls(["other"], SOURCE + "def other():\n    return 0\n")
    with pytest.raises(RemoteError, match="not substituted"):
        call_remote(channel_of(narrower), "scale", [1.0])
    changed = ReferenceCalls(["scale"], SOURCE.replace("k * x", "k * x + 1"))
    assert call_remote(channel_of(changed), "scale", [1.0]) == [3.0]


def test_failures_are_not_remembered() -> None:
    ran: list[int] = []
    calls = ReferenceCalls(["scale"], SOURCE, {"scale": counting_handler(ran)})
    for _ in range(2):
        with pytest.raises(RemoteError):
            call_remote(channel_of(calls), "scale", None)
    assert len(ran) == 2 and reference_calls.REPLIES.bytes == 0


def test_memory_is_bounded_in_bytes() -> None:
    replies = Replies(max_bytes=1000)
    for i in range(50):
        replies.put(f"k{i}", "x" * 100)
    assert replies.bytes <= 1000 and replies.get("k49") is not None and replies.get("k0") is None
    replies.put("huge", "x" * 600)  # more than a quarter of the bound: not kept
    assert replies.get("huge") is None
