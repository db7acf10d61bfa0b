"""Comparison, random inputs and diagnosis shared by the hidden checks.

A check fails by raising :class:`CheckFailed` with a student-facing message and
an optional diagnosis label (see :mod:`autograder.checks.mistakes`). Messages
describe the *kind* of input (tiny gradients, float32, many steps), never the
values, so the hidden probes stay hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from autograder import contract
from autograder.checks import mistakes

TOL64 = 1e-6
TOL32 = 1e-4
SCALES = (1e-6, 1e-3, 1.0, 1e2)
SHAPES = ((), (1,), (7,), (3, 4), (2, 3, 2))


class CheckFailed(Exception):
    """A failed hidden check: ``message`` for the student, ``diagnosis`` a mistake label."""

    def __init__(self, message: str, diagnosis: str = ""):
        label = mistakes.label_of(diagnosis) if diagnosis else ""
        hint = mistakes.sentence(label)
        full = f"{message} This looks like a known mistake: {hint}" if hint else message
        super().__init__(full)
        self.message = full
        self.diagnosis = label


def fail(message: str, diagnosis: str = "") -> NoReturn:
    raise CheckFailed(message, diagnosis)


# --------------------------------------------------------------------------- comparison
def numeric(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array, or None when it is not numbers of one shape."""
    if isinstance(value, (bool, str, dict)) or value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return arr


def close(actual: Any, expected: Any, tol: float) -> bool:
    """Same shape (a scalar may come back as a 1-element array) and values within ``tol``.

    The tolerance is relative to the largest magnitude in ``expected``:
    ``|a - e| <= tol * max(|e|)`` elementwise, and non-finite values must agree.
    """
    if isinstance(expected, (list, tuple)) and expected and not _homogeneous(expected):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(close(a, e, tol) for a, e in zip(actual, expected, strict=True)))
    a, e = numeric(actual), np.asarray(expected, dtype=np.float64)
    if a is None:
        return False
    if e.ndim == 0:
        if a.size != 1:
            return False
        a = a.reshape(())
    elif a.shape != e.shape:
        return False
    finite = np.isfinite(e)
    if not np.array_equal(np.isfinite(a), finite):
        return False
    if not finite.all() and not np.array_equal(a[~finite], e[~finite], equal_nan=True):
        return False
    if not finite.any():
        return True
    scale = float(np.max(np.abs(e[finite])))
    return bool(np.all(np.abs(a[finite] - e[finite]) <= tol * max(scale, 1e-12)))


def _homogeneous(values: Sequence[Any]) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def as_outputs(name: str, value: Any, out_names: Sequence[str]) -> list[Any]:
    """Split a returned tuple into its parts, failing clearly on the wrong arity."""
    if len(out_names) == 1:
        return [value]
    if not isinstance(value, (list, tuple)) or len(value) != len(out_names):
        fail(f"`{name}` should return a tuple of {len(out_names)} values "
             f"({', '.join(out_names)}).")
    return list(value)


def tol_for(*arrays: Any) -> float:
    """1e-4 when any input is float32, else 1e-6 (the contract's tolerances)."""
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype == np.float32:
            return TOL32
    return TOL64


# --------------------------------------------------------------------------- random inputs
def draw(rng: np.random.Generator, shape: tuple, scale: float, dtype=np.float64,
         positive: bool = False) -> Any:
    """Normal values times ``scale``; shape () gives a Python float (float64) or 0-d array."""
    x = rng.normal(size=shape) * scale
    if positive:
        x = np.abs(x)
    if shape == () and dtype == np.float64:
        return float(x)
    return np.asarray(x, dtype=dtype)


def param_names(name: str) -> list[str]:
    """Parameter names of a contract function, from the contract's signature text."""
    for q in contract.QUESTIONS:
        if name in q.functions:
            sig = q.functions[name].strip()[1:-1]
            return [p.split("=")[0].strip().lstrip("*") for p in _split_top(sig) if p.strip()]
    return []


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def check_purity(name: str, args: Sequence[Any], args_after: Sequence[Any]) -> None:
    """Fail when an array argument came back changed (modified in place)."""
    names = param_names(name)
    for i, (before, after) in enumerate(zip(args, args_after, strict=False)):
        if isinstance(before, np.ndarray):
            a = numeric(after)
            if a is None or a.shape != before.shape or not np.array_equal(
                    a, before.astype(np.float64), equal_nan=True):
                arg = names[i] if i < len(names) else f"#{i + 1}"
                fail(f"`{name}` changed its argument `{arg}` in place; functions must return "
                     "new values and leave their inputs unchanged.")


# --------------------------------------------------------------------------- single-call cases
@dataclass
class Case:
    """One call: positional and keyword inputs, tolerance and a description of the kind of input."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    what: str = "fresh inputs"

    @property
    def tol(self) -> float:
        return tol_for(*self.args, *self.kwargs.values())


def diagnose(name: str, case_fn: Callable[[Callable], list[Any] | None],
             got: list[Any], tol: float) -> str:
    """The label of the first known-mistake variant of ``name`` whose outputs match ``got``."""
    for key, variant in mistakes.VARIANTS.get(name, {}).items():
        try:
            expected = case_fn(variant)
        except Exception:  # noqa: BLE001 - a variant may not apply to these inputs
            continue
        if expected is not None and len(expected) == len(got) and all(
                close(a, e, tol) for a, e in zip(got, expected, strict=True)):
            return mistakes.label_of(key)
    return ""


def _tuple(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_cases(student, name: str, cases: Sequence[Case], oracle: Callable,
                out_names: Sequence[str], *, purity: bool = True) -> None:
    """Call ``name`` on every case; compare each output to ``oracle`` on the same inputs."""
    for case in cases:
        if purity:
            result = student.call_inspect(name, *case.args, **case.kwargs)
            check_purity(name, case.args, result.args_after)
            value = result.value
        else:
            value = student.call(name, *case.args, **case.kwargs)
        got = as_outputs(name, value, out_names)
        expected = _tuple(oracle(*case.args, **case.kwargs))
        for out, a, e in zip(out_names, got, expected, strict=True):
            if not close(a, e, case.tol):
                label = diagnose(name, lambda fn, c=case: _tuple(fn(*c.args, **c.kwargs)),
                                 got, case.tol)
                fail(f"`{name}` returns a wrong `{out}` for {case.what}.", label)


# --------------------------------------------------------------------------- trajectories
def trajectory(step: Callable[..., list[Any]], w0: Any, grads: Sequence[Any], n_state: int,
               takes_t: bool, hp: dict) -> list[list[Any]]:
    """Thread ``[w, *state]`` through ``step`` for each gradient (state starts at zero)."""
    w = w0
    state = [np.zeros_like(w0) if isinstance(w0, np.ndarray) else 0.0 for _ in range(n_state)]
    out = []
    for t, g in enumerate(grads, start=1):
        args = (w, g, *state, t) if takes_t else (w, g, *state)
        w, *state = step(*args, **hp)
        out.append([w, *state])
    return out


def check_trajectory(student, name: str, w0: Any, grads: Sequence[Any], hp: dict,
                     expected: list[list[Any]], out_names: Sequence[str], *, takes_t: bool,
                     what: str, oracle_name: str) -> None:
    """Run the student's step function over ``grads`` and compare every step to ``expected``."""
    n_state = len(out_names) - 1

    def student_step(*args, **kwargs):
        return as_outputs(name, student.call(name, *args, **kwargs), out_names)

    got = trajectory(student_step, w0, grads, n_state, takes_t, hp)
    tol = tol_for(w0, *grads)
    for i, (g_step, e_step) in enumerate(zip(got, expected, strict=True)):
        for out, actual, wanted in zip(out_names, g_step, e_step, strict=True):
            if not close(actual, wanted, tol):
                label = diagnose(
                    name,
                    lambda fn: [x for s in trajectory(lambda *a, **k: _tuple(fn(*a, **k)),
                                                      w0, grads, n_state, takes_t, hp)
                                for x in s],
                    [x for s in got for x in s], tol)
                when = "at the first step" if i == 0 else "later in the run"
                fail(f"`{name}` drifts from {oracle_name} {when} "
                     f"(`{out}` differs; {what}).", label)
