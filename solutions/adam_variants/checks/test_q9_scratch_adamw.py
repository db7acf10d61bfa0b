"""q9_scratch_adamw (10 points): ScratchAdamW against torch.optim.AdamW, GPU-optional."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.checking import flag_for_review
from autograder.checks.student import StudentError

from . import oracles, scratch_mistakes
from .delegation import subclasses_optimizer, verdict
from .harness import close, fail
from .static import defines_class

DEFAULTS = scratch_mistakes.DEFAULTS
STATE_KEYS = ("step", "exp_avg", "exp_avg_sq")


def device_tol(device: str) -> float:
    """The contract's 1e-6 on CPU (relative to each tensor's scale); 1e-4 on cuda."""
    return 1e-6 if device == "cpu" else 1e-4


# --------------------------------------------------------------------------- the battery
def _groups(rng, specs: list[dict]) -> list[dict]:
    shapes = [(3,), (2, 3), (4, 2), (5,), (2, 2, 2)]
    groups = []
    for i, spec in enumerate(specs):
        params = [
            rng.normal(size=shapes[(i + j) % len(shapes)]).astype(np.float32) for j in range(2)
        ]
        groups.append({"params": params, **spec})
    return groups


def _grads(
    rng,
    groups: list[dict],
    steps: int,
    scales: list[float] | None = None,
    none_at: dict[int, set[int] | None] | None = None,
) -> list[list]:
    """Per step one gradient per parameter (in group order), each parameter at a fixed scale
    (``scales``, default 1). ``none_at[j]``: the steps at which parameter j has no gradient
    (None: every step)."""
    shapes = [p.shape for g in groups for p in g["params"]]
    scales = scales or [1.0] * len(shapes)
    none_at = none_at or {}
    out = []
    for step in range(steps):
        row = []
        for j, (shape, scale) in enumerate(zip(shapes, scales, strict=True)):
            skip = j in none_at and (none_at[j] is None or step in none_at[j])
            mag = scale * np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=shape))
            row.append(
                None if skip else (mag * rng.choice((-1.0, 1.0), size=shape)).astype(np.float32)
            )
        out.append(row)
    return out


# --------------------------------------------------------------------------- delegation
def _delegation(source: str, got: dict | None = None) -> str:
    """Why ScratchAdamW's results cannot be credited ("" when nothing says so), as a sentence
    that states the fact: the grader's reading of the source decides; the run's tripwire can
    only add evidence. What the source cannot decide costs nothing (test_no_delegation flags
    it for staff)."""
    found = verdict(source).findings
    reached = [f for f in found if f.where]
    notebook = [f for f in found if not f.where]
    sentences = []
    if reached:
        sentences.append(
            "q9 asks for the AdamW update written with tensor operations; `ScratchAdamW` uses "
            "torch's own optimizer code instead ("
            + "; ".join(str(f) for f in reached[:3])
            + "), so its results are torch's and earn no points here."
        )
    if notebook:
        sentences.append(
            "q9's points need a notebook that leaves torch's optimizers and the grader's "
            "modules as they are; this one "
            + "; ".join(str(f) for f in notebook[:3])
            + ", so `ScratchAdamW`'s results cannot be credited."
        )
    if sentences:
        return " ".join(sentences)
    if got is not None and got.get("delegated"):
        return (
            "q9 asks for the AdamW update written with tensor operations; while it ran, "
            "`ScratchAdamW` called torch's own Adam/AdamW, so its results are torch's and "
            "earn no points here."
        )
    return ""


def _gate(source: str, got: dict | None = None) -> None:
    """A class whose results are torch's earns none of the behaviour checks."""
    reason = _delegation(source, got)
    if reason:
        fail(reason, "delegates_to_torch")


def _probe(student, source: str, groups, grads, device, **extra) -> dict:
    _gate(source)
    got = student.probe("scratch_adamw", groups=groups, grads=grads, device=device, **extra)
    _gate(source, got)
    return got


def _runs_a_step(student, rng, device, what: str) -> dict:
    """Probe one small run; the class must be built, step without raising and move every
    parameter that has a gradient. The points for the class statement and for writing the
    update by hand come only with an update that runs."""
    groups = _groups(rng, [{"weight_decay": 0.01}])
    try:
        got = student.probe(
            "scratch_adamw", groups=groups, grads=_grads(rng, groups, 2), device=device
        )
    except StudentError as exc:
        if exc.kind in ("missing", "not_implemented"):
            raise
        fail(
            f"{what} counts together with a `ScratchAdamW` whose step runs; here it failed: "
            f"{exc.message}"
        )
    start = [p for g in groups for p in g["params"]]
    last = got["history"][-1] if got["history"] else start
    if any(
        np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(p, dtype=np.float64))
        for a, p in zip(last, start, strict=False)
    ):
        fail(
            f"{what} counts together with a `ScratchAdamW` whose step updates the "
            "parameters; here `step` left a parameter with a gradient unchanged."
        )
    return got


# --------------------------------------------------------------------------- comparison
def _diagnose(got: dict, groups, grads, device: str, part: str) -> str:
    """The known mistake whose replay agrees with the student's run everywhere (``part``:
    "history" or "state")."""
    tol = device_tol(device)
    for key, flags in scratch_mistakes.VARIANTS.items():
        label = key.split("#")[0]
        try:
            variant = scratch_mistakes.run_adamw(groups, grads, device, **flags)
        except (ArithmeticError, ValueError, RuntimeError):
            continue
        if part == "history" and _same_history(got["history"], variant["history"], tol):
            return label
        if part == "state" and _same_state(got["state"], variant["state"], tol):
            return label
    return ""


def _same_history(got, expected, tol: float) -> bool:
    return len(got) == len(expected) and all(
        close(a, e, tol)
        for g_step, e_step in zip(got, expected, strict=True)
        for a, e in zip(g_step, e_step, strict=True)
    )


def _same_state(got, expected, tol: float) -> bool:
    return all(
        not e
        or (
            s.get("step") == e["step"]
            and all(close(s.get(k), e[k], tol) for k in ("exp_avg", "exp_avg_sq"))
        )
        for s, e in zip(got, expected, strict=True)
    )


def _compare(got: dict, expected: dict, groups, grads, device: str, what: str) -> None:
    tol = device_tol(device)
    for i, (g_step, e_step) in enumerate(zip(got["history"], expected["history"], strict=True)):
        for j, (a, e) in enumerate(zip(g_step, e_step, strict=True)):
            if not close(a, e, tol):
                fail(
                    f"`ScratchAdamW` differs from torch.optim.AdamW "
                    f"{'at the first step' if i == 0 else 'later in the run'}, "
                    f"parameter {j + 1} ({what}).",
                    _diagnose(got, groups, grads, device, "history"),
                )


def _run(student, source: str, groups, grads, device, what: str) -> dict:
    """Probe with the battery; when the step raises and the battery has parameters without
    a gradient, find out whether those are what it trips on."""
    try:
        got = _probe(student, source, groups, grads, device)
    except StudentError as exc:
        if exc.kind != "raised" or all(g is not None for row in grads for g in row):
            raise
        dense = [list(row) for row in grads]
        shapes = [p.shape for group in groups for p in group["params"]]
        for row in dense:
            for j, g in enumerate(row):
                if g is None:
                    row[j] = np.ones(shapes[j], dtype=np.float32)
        try:
            student.probe("scratch_adamw", groups=groups, grads=dense, device=device)
        except StudentError:
            raise exc from None
        raised = exc.message.split(" raised ", 1)[-1].split(":", 1)[0].split()[0]
        fail(
            f"`ScratchAdamW.step` raised {raised} when a parameter had no gradient (its .grad "
            "is None); with a gradient for every parameter it runs.",
            "grad_none_not_skipped",
        )
    _compare(got, oracles.torch_adamw(groups, grads, device), groups, grads, device, what)
    return got


# --------------------------------------------------------------------------- checks
@pytest.mark.points(2)
def test_state_names_and_values(student, rng, device, source):
    """PyTorch's state names per parameter: step, exp_avg, exp_avg_sq, with AdamW's values."""
    groups = _groups(
        rng, [{"lr": float(rng.uniform(1e-3, 1e-2)), "weight_decay": float(rng.uniform(0.01, 0.1))}]
    )
    grads = _grads(rng, groups, int(rng.integers(3, 6)), scales=[1.0, 1e-3])
    got = _probe(student, source, groups, grads, device)
    expected = oracles.torch_adamw(groups, grads, device)
    for s, e in zip(got["state"], expected["state"], strict=True):
        missing = set(STATE_KEYS) - set(s["keys"])
        if missing:
            fail(
                f"`ScratchAdamW`'s per-parameter state lacks {', '.join(sorted(missing))}.",
                "state_names_wrong",
            )
        if s["step"] != e["step"]:
            fail(
                "state['step'] should count the optimizer steps taken.",
                _diagnose(got, groups, grads, device, "state"),
            )
        for key in ("exp_avg", "exp_avg_sq"):
            if not close(s[key], e[key], device_tol(device)):
                fail(
                    f"state['{key}'] differs from torch.optim.AdamW's.",
                    _diagnose(got, groups, grads, device, "state"),
                )


@pytest.mark.points(3)
def test_matches_adamw_param_groups(student, rng, device, source):
    """Three param groups (own lr/weight_decay, weight_decay 0 and betas, the defaults), many
    steps, tiny and large gradients, a parameter that never has a gradient and one that misses
    it at one step."""
    groups = _groups(
        rng,
        [
            {"lr": float(rng.uniform(1e-2, 5e-2)), "weight_decay": float(rng.uniform(0.05, 0.2))},
            {
                "lr": float(rng.uniform(1e-2, 5e-2)),
                "weight_decay": 0.0,
                "betas": (float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.9, 0.99))),
            },
            {},
        ],
    )
    grads = _grads(
        rng,
        groups,
        int(rng.integers(10, 20)),
        scales=[1e-6, 1.0, 1.0, 10.0, 1e-3, 1.0],
        none_at={1: None, 2: {1}},
    )
    _run(
        student,
        source,
        groups,
        grads,
        device,
        "several param groups, parameters without a gradient",
    )


@pytest.mark.points(1)
def test_large_lr_and_weight_decay(student, rng, device, source):
    """Large lr and weight decay: the decay uses the weight from before the step."""
    groups = _groups(
        rng, [{"lr": float(rng.uniform(0.05, 0.2)), "weight_decay": float(rng.uniform(0.5, 2.0))}]
    )
    _run(
        student,
        source,
        groups,
        _grads(rng, groups, 5, scales=[10.0, 10.0]),
        device,
        "a large lr and weight decay",
    )


@pytest.mark.points(1)
def test_closure_returns_loss(student, rng, device, source):
    """step(closure) evaluates the closure with gradients enabled (the probe's closure
    recomputes the gradients with backward()) and returns its loss (the numbers are judged by
    the other checks)."""
    groups = _groups(rng, [{"lr": 1e-3}])
    grads = _grads(rng, groups, 2)
    got = _probe(student, source, groups, grads, device, use_closure=True)
    if got["closure_values"] != [1.5, 1.5]:
        fail("`step(closure)` does not return the closure's loss.", "closure_loss_not_returned")
    if not all(got.get("closure_grad_enabled") or [False]):
        fail(
            "`step(closure)` ran the closure with gradients disabled, so the closure's "
            "backward() could not work.",
            "closure_without_grad",
        )


@pytest.mark.points(1)
def test_is_optimizer_subclass(student, rng, device, source):
    """The class statement of ScratchAdamW subclasses torch.optim.Optimizer (read from the
    source; an object that is no Optimizer at run time costs the point as well)."""
    if not source:
        fail(
            "The grader could not read your code cells, so it cannot check the class "
            "statement of `ScratchAdamW`."
        )
    if not defines_class(source, "ScratchAdamW"):
        fail("The class statement of `ScratchAdamW` was not found in your code cells.")
    if not subclasses_optimizer(source):
        fail(
            "`ScratchAdamW` should subclass torch.optim.Optimizer "
            "(class ScratchAdamW(torch.optim.Optimizer): ...)."
        )
    got = _runs_a_step(student, rng, device, "The class statement")
    if not got.get("is_optimizer"):
        fail("`ScratchAdamW` should subclass torch.optim.Optimizer.")


@pytest.mark.points(1)
def test_no_delegation(student, rng, device, source):
    """Nothing the class reaches uses torch's Adam/AdamW and nothing in the notebook tampers
    with grading (decided from the source, see `checks/delegation.py`; what the source cannot
    decide is flagged for staff and costs nothing); reaching torch's Adam/AdamW at run time
    costs the point as well. Earned only with a step that runs and updates the parameters."""
    if not source:
        fail(
            "The grader could not read your code cells, so it cannot check that "
            "`ScratchAdamW` is written by hand."
        )
    if not defines_class(source, "ScratchAdamW"):
        fail("The class statement of `ScratchAdamW` was not found in your code cells.")
    review = verdict(source).review
    if review:
        flag_for_review(
            "q9 no-delegation rule not decided from the source: "
            + "; ".join(str(f) for f in review[:3])
        )
    _gate(source)
    _gate(source, _runs_a_step(student, rng, device, "Writing the update by hand"))


@pytest.mark.cuda_only(twin="test_matches_adamw_param_groups")
@pytest.mark.points(1)
def test_matches_adamw_on_cuda(student, rng, source):
    """On a GPU: parameters and state on cuda, against torch.optim.AdamW on cuda."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no GPU on the grading machine")
    groups = _groups(
        rng, [{"lr": float(rng.uniform(1e-3, 5e-2)), "weight_decay": 0.1}, {"weight_decay": 0.0}]
    )
    grads = _grads(rng, groups, 8, none_at={1: None})
    _run(student, source, groups, grads, "cuda", "on cuda")
