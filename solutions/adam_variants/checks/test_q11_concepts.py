"""q11_concepts (6 points): the three answers, each expected value computed here."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.inside.probes import NOT_IMPLEMENTED

from . import oracles
from .harness import fail
from .public import normalise_answer


def _answer(student, name: str, choices: tuple[str, ...]) -> str:
    value = student.value(name)
    if value is None:
        fail(
            f"`{name}` {NOT_IMPLEMENTED}: it is still None; set it to one of "
            f"{', '.join(repr(c) for c in choices)}."
        )
    if not isinstance(value, str):
        fail(f"`{name}` should be a string, one of {', '.join(repr(c) for c in choices)}.")
    answer = normalise_answer(value)
    if answer not in choices:
        fail(f"`{name}` should be one of {', '.join(repr(c) for c in choices)}.")
    return answer


def race_winner() -> str:
    """Eight steps on f(w)=w^2 from w=5, lr=0.01 (the chapter's settings), lowest loss wins."""
    final = {}
    w = 5.0
    for _ in range(8):
        w = float(oracles.sgd(w, 2 * w, 0.01))
    final["sgd"] = w * w
    w, vel = 5.0, 0.0
    for _ in range(8):
        w, vel = (float(x) for x in oracles.momentum(w, 2 * w, vel, 0.01, 0.9))
    final["momentum"] = w * w
    w, m, v = 5.0, 0.0, 0.0
    for t in range(1, 9):
        w, m, v = (float(x) for x in oracles.adam(w, 2 * w, m, v, t, lr=0.01))
    final["adam"] = w * w
    return min(final, key=final.get)


def flipnet_winner() -> str:
    """The last epoch of the chapter's FlipNet experiment (defaults, CPU), lower loss wins."""
    curves = oracles.compare(30, 42, "cpu")
    return "momentum" if curves["momentum"][-1] < curves["adam"][-1] else "adam"


def decoupled_answer() -> str:
    """Zero gradient, different v histories: which update shrinks all weights by one factor?"""
    w = np.array([1.0, -3.0, 10.0, 0.5])
    v = np.array([1e-4, 1.0, 100.0, 1e-2])
    zero = np.zeros(4)
    same = {}
    for name, fn in (("adam_l2", oracles.adam_l2), ("adamw", oracles.adamw)):
        w_new = fn(w, zero, zero, v, 10, lr=1e-3, weight_decay=0.1)[0]
        ratio = w_new / w
        same[name] = bool(np.allclose(ratio, ratio[0], rtol=0, atol=1e-12))
    winners = [k for k, ok in same.items() if ok]
    assert len(winners) == 1, "the decoupled-decay oracle should single out one update"
    return winners[0]


@pytest.mark.fixed
@pytest.mark.points(2)
def test_1d_winner(student):
    """ANSWER_1D_WINNER: the lowest loss after 8 steps on f(w)=w^2."""
    if _answer(student, "ANSWER_1D_WINNER", ("sgd", "momentum", "adam")) != race_winner():
        fail(
            "`ANSWER_1D_WINNER` is not the optimizer with the lowest loss after 8 steps; "
            "compare your three runs.",
            "answer_wrong",
        )


@pytest.mark.fixed
@pytest.mark.points(2)
def test_flipnet_winner(student):
    """ANSWER_FLIPNET_WINNER: the lower last-epoch loss of compare_optimizers() on CPU."""
    if _answer(student, "ANSWER_FLIPNET_WINNER", ("momentum", "adam")) != flipnet_winner():
        fail(
            "`ANSWER_FLIPNET_WINNER` does not match the last epoch of compare_optimizers() "
            "run with its defaults.",
            "answer_wrong",
        )


@pytest.mark.fixed
@pytest.mark.points(2)
def test_decoupled(student):
    """ANSWER_DECOUPLED: which update applies the same proportional decay to every weight."""
    if _answer(student, "ANSWER_DECOUPLED", ("adam_l2", "adamw")) != decoupled_answer():
        fail(
            "`ANSWER_DECOUPLED` names the wrong update; compare the two with a zero gradient.",
            "answer_wrong",
        )
