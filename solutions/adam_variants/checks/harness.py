"""Comparison, random inputs and diagnosis shared by the hidden checks.

A check fails by raising :class:`CheckFailed` with a student-facing message and
an optional diagnosis label (see ``mistakes.py``). Messages
describe the *kind* of input (tiny gradients, float32, many steps), never the
values, so the hidden probes stay hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from autograder.assignment.model import current
from autograder.checks import checking
from autograder.checks.checking import numeric

from . import mistakes

TOL64 = 1e-6
TOL32 = 1e-4


class CheckFailed(checking.CheckFailed):
    """A failed hidden check: ``detail`` says what differs, ``diagnosis`` names the mistake.

    ``message`` is the full student-facing text: the detail, then the mistake's sentence
    when one is named. The runner composes its own text from ``detail`` and ``diagnosis``
    so that a mistake failing several checks of a question is explained once.
    """

    def __init__(self, message: str, diagnosis: str = ""):
        label = mistakes.label_of(diagnosis) if diagnosis else ""
        super().__init__(with_diagnosis(message, label), label)
        self.detail = message


def with_diagnosis(detail: str, label: str) -> str:
    """``detail`` followed by the sentence of the known mistake ``label`` (if any)."""
    hint = mistakes.sentence(label)
    return f"{detail} This looks like a known mistake: {hint}" if hint else detail


def fail(message: str, diagnosis: str = "") -> NoReturn:
    raise CheckFailed(message, diagnosis)


# --------------------------------------------------------------------------- comparison
def close(actual: Any, expected: Any, tol: float) -> bool:
    """Same shape (a scalar may come back as a 1-element array) and values within ``tol``.

    The tolerance is relative to the largest magnitude in ``expected``:
    ``|a - e| <= tol * max(|e|)`` elementwise, and non-finite values must agree.
    """
    if isinstance(expected, (list, tuple)) and expected and not _homogeneous(expected):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(expected)
            and all(close(a, e, tol) for a, e in zip(actual, expected, strict=True))
        )
    return checking.close(actual, expected, tol)


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
        fail(f"`{name}` should return a tuple of {len(out_names)} values ({', '.join(out_names)}).")
    return list(value)


def tol_for(*arrays: Any) -> float:
    """1e-4 when any input is float32, else 1e-6 (the contract's tolerances)."""
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype == np.float32:
            return TOL32
    return TOL64


# --------------------------------------------------------------------------- random inputs
def draw(
    rng: np.random.Generator, shape: tuple, scale: float, dtype=np.float64, positive: bool = False
) -> Any:
    """Fresh values whose magnitudes lie between ``scale / 2`` and ``2 * scale``.

    Magnitudes are log-uniform in that band and signs random (positive when asked), so
    a drawn value is never accidentally near zero: the situation a case stands for
    (tiny gradients, large weights, ...) holds for every seed, only the values change.
    Shape () gives a Python float (float64) or a 0-d array.
    """
    x = scale * np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=shape))
    if not positive:
        x = x * rng.choice((-1.0, 1.0), size=shape)
    if shape == () and dtype == np.float64:
        return float(x)
    return np.asarray(x, dtype=dtype)


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One hyperparameter drawn from [low, high] (a band chosen so mistakes always show)."""
    return float(rng.uniform(low, high))


def param_names(name: str) -> list[str]:
    """Parameter names of a contract function, from the assignment file's signature text."""
    signature = current().signature(name)
    if signature is None:
        return []
    sig = signature.strip()[1:-1]
    return [p.split("=")[0].strip().lstrip("*") for p in _split_top(sig) if p.strip()]


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
            if (
                a is None
                or a.shape != before.shape
                or not np.array_equal(a, before.astype(np.float64), equal_nan=True)
            ):
                arg = names[i] if i < len(names) else f"#{i + 1}"
                fail(f"`{name}` changed its argument `{arg}` in place.", "modifies_arguments")


# --------------------------------------------------------------------------- single-call cases
@dataclass
class Case:
    """One call: positional and keyword inputs, and the situation it stands for in plain words
    (e.g. "the first step (t=1) from zero state with tiny gradients")."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    what: str = "fresh inputs"

    @property
    def tol(self) -> float:
        return tol_for(*self.args, *self.kwargs.values())


def _tuple(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _quoted(names: Sequence[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def diagnose(
    name: str,
    case_fns: Sequence[Callable[[Callable], list[Any] | None]],
    got: Sequence[list[Any]],
    tols: Sequence[float],
) -> str:
    """The label of the first known-mistake variant of ``name`` that explains *every* probe.

    ``case_fns[i](variant)`` computes what the variant gives in probe ``i``; the student
    gave ``got[i]``. A variant names the mistake only when it agrees with the student in all
    probes of the check (where the student is right as well as where it is wrong), so a
    neighbouring mistake that happens to match one probe is never named."""
    for key, variant in mistakes.VARIANTS.get(name, {}).items():
        floor = mistakes.VARIANT_TOL.get(mistakes.label_of(key), 0.0)
        if _explains(variant, case_fns, got, [max(tol, floor) for tol in tols]):
            return mistakes.label_of(key)
    return ""


def _explains(variant: Callable, case_fns, got, tols) -> bool:
    for case_fn, outs, tol in zip(case_fns, got, tols, strict=True):
        try:
            with np.errstate(all="ignore"):
                expected = case_fn(variant)
        except Exception:  # a variant may not apply to these inputs
            return False
        if (
            expected is None
            or len(expected) != len(outs)
            or not all(close(a, e, tol) for a, e in zip(outs, expected, strict=True))
        ):
            return False
    return True


def contract_note(name: str) -> str:
    """ " The contract: <formula>." for a function the catalogue has a formula for."""
    formula = mistakes.CONTRACT.get(name)
    return f" The contract: {formula}." if formula else ""


def mismatch_message(
    name: str, wrong: Sequence[tuple[Case, list[str], list[str]]], n_cases: int
) -> str:
    """Where ``name`` differs, in plain words: which outputs, in which situations.

    ``wrong`` lists (case, outputs that differ, outputs that agree) for every failing probe."""
    case, bad, good = wrong[0]
    text = f"`{name}` returns a wrong {_quoted(bad)} for {case.what}"
    if good:
        text += f" ({_quoted(good)} {'is' if len(good) == 1 else 'are'} right there)"
    others = list(dict.fromkeys(c.what for c, _, _ in wrong[1:] if c.what != case.what))
    if others:
        text += "; also for " + "; ".join(others[:3])
        if len(others) > 3:
            text += f" and {len(others) - 3} more"
    right = n_cases - len(wrong)
    if right:
        text += f". It is right in the other {right} situation{'s' if right > 1 else ''} probed"
    return text + "."


def check_cases(
    student,
    name: str,
    cases: Sequence[Case],
    oracle: Callable,
    out_names: Sequence[str],
    *,
    purity: bool = True,
) -> None:
    """Call ``name`` on every case and compare each output to ``oracle`` on the same inputs.

    All cases run before anything is judged, so a mismatch is diagnosed against the whole
    battery and the message can say in which situations the function is right or wrong."""
    got_all = []
    for case in cases:
        if purity:
            result = student.call_inspect(name, *case.args, **case.kwargs)
            check_purity(name, case.args, result.args_after)
            value = result.value
        else:
            value = student.call(name, *case.args, **case.kwargs)
        got_all.append(as_outputs(name, value, out_names))
    wrong = []
    for case, got in zip(cases, got_all, strict=True):
        expected = _tuple(oracle(*case.args, **case.kwargs))
        ok = [close(a, e, case.tol) for a, e in zip(got, expected, strict=True)]
        if not all(ok):
            wrong.append(
                (
                    case,
                    [o for o, k in zip(out_names, ok, strict=True) if not k],
                    [o for o, k in zip(out_names, ok, strict=True) if k],
                )
            )
    if wrong:
        label = diagnose(
            name,
            [lambda fn, c=c: _tuple(fn(*c.args, **c.kwargs)) for c in cases],
            got_all,
            [c.tol for c in cases],
        )
        fail(
            mismatch_message(name, wrong, len(cases)) + ("" if label else contract_note(name)),
            label,
        )


# --------------------------------------------------------------------------- trajectories
def trajectory(
    step: Callable[..., list[Any]],
    w0: Any,
    grads: Sequence[Any],
    n_state: int,
    takes_t: bool,
    hp: dict,
) -> list[list[Any]]:
    """Thread ``[w, *state]`` through ``step`` for each gradient (state starts at zero)."""
    w = w0
    state = [np.zeros_like(w0) if isinstance(w0, np.ndarray) else 0.0 for _ in range(n_state)]
    out = []
    for t, g in enumerate(grads, start=1):
        args = (w, g, *state, t) if takes_t else (w, g, *state)
        w, *state = step(*args, **hp)
        out.append([w, *state])
    return out


@dataclass
class Run:
    """One multi-step run: start, gradients, hyperparameters, the oracle's steps and the
    situation in plain words (e.g. "many steps with tiny gradients, float64")."""

    w0: Any
    grads: Sequence[Any]
    hp: dict
    expected: list[list[Any]]
    what: str


def check_runs(
    student,
    name: str,
    runs: Sequence[Run],
    out_names: Sequence[str],
    *,
    takes_t: bool,
    oracle_name: str,
) -> None:
    """Run the student's step function over every run and compare every step to the oracle.

    All runs happen first; a mismatch is diagnosed against all of them together."""
    n_state = len(out_names) - 1

    def student_step(*args, **kwargs):
        return as_outputs(name, student.call(name, *args, **kwargs), out_names)

    got_runs = [trajectory(student_step, r.w0, r.grads, n_state, takes_t, r.hp) for r in runs]
    for run, got in zip(runs, got_runs, strict=True):
        tol = tol_for(run.w0, *run.grads)
        for i, (g_step, e_step) in enumerate(zip(got, run.expected, strict=True)):
            bad = [
                out
                for out, actual, wanted in zip(out_names, g_step, e_step, strict=True)
                if not close(actual, wanted, tol)
            ]
            if not bad:
                continue
            label = diagnose(
                name,
                [
                    lambda fn, r=r: [
                        x
                        for s in trajectory(
                            lambda *a, **k: _tuple(fn(*a, **k)),
                            r.w0,
                            r.grads,
                            n_state,
                            takes_t,
                            r.hp,
                        )
                        for x in s
                    ]
                    for r in runs
                ],
                [[x for s in g for x in s] for g in got_runs],
                [tol_for(r.w0, *r.grads) for r in runs],
            )
            when = "at the first step" if i == 0 else "later in the run"
            fail(
                f"`{name}` drifts from {oracle_name} {when} ({_quoted(bad)} "
                f"{'differs' if len(bad) == 1 else 'differ'}; {run.what})."
                + ("" if label else contract_note(name)),
                label,
            )
