"""q10_recipe (10 points): warmup_cosine_lr, clip_grad_norm, decay_param_groups, adam_memory_gb."""

from __future__ import annotations

import numpy as np
import pytest

from . import oracles
from .harness import (
    Case,
    close,
    diagnose,
    draw,
    fail,
    mismatch_message,
    numeric,
    uniform,
)

MEMORY_KEYS = ("weights", "adam_m", "adam_v", "grads", "total")


@pytest.mark.points(3)
def test_warmup_cosine_lr(student, rng):
    """Drawn schedules: step 0, the warmup, its end, the cosine, total_steps and beyond."""
    runs = [
        (
            uniform(rng, 1e-4, 1e-2),
            int(rng.integers(200, 2000)),
            int(rng.integers(5, 100)),
            uniform(rng, 1e-6, 1e-5),
        ),
        (uniform(rng, 0.1, 3.0), int(rng.integers(20, 60)), int(rng.integers(2, 10)), None),
    ]
    cases = []
    for lr_max, total, warmup, lr_min in runs:
        steps = sorted(
            {
                0,
                1,
                warmup - 1,
                warmup,
                warmup + 1,
                (warmup + total) // 2,
                total - 1,
                total,
                total + 7,
                *rng.integers(0, total, size=4).tolist(),
            }
        )
        kwargs = {} if lr_min is None else {"lr_min": lr_min}
        for step in steps:
            phase = (
                "the warmup"
                if step < warmup
                else "after total_steps"
                if step >= total
                else "the cosine decay"
            )
            cases.append(Case((int(step), lr_max, total, warmup), kwargs, what=phase))
    got = [[student.call("warmup_cosine_lr", *c.args, **c.kwargs)] for c in cases]
    wrong = [
        c
        for c, g in zip(cases, got, strict=True)
        if not close(g[0], oracles.warmup_cosine(*c.args, **c.kwargs), 1e-9)
    ]
    if wrong:
        label = diagnose(
            "warmup_cosine_lr",
            [lambda fn, c=c: [fn(*c.args, **c.kwargs)] for c in cases],
            got,
            [1e-9] * len(cases),
        )
        phases = list(dict.fromkeys(c.what for c in wrong))
        fail(f"`warmup_cosine_lr` returns a wrong rate during {' and '.join(phases)}.", label)


def _grads(rng, n_scale: float) -> list[np.ndarray]:
    shapes = [(3, 4), (5,), (2, 2, 2), ()]
    return [np.asarray(draw(rng, s, n_scale)) for s in shapes]


@pytest.mark.points(3)
def test_clip_grad_norm(student, rng):
    """One global norm, as torch.nn.utils.clip_grad_norm_: far above max_norm, below it, and a
    small norm above a smaller max_norm (where the 1e-6 matters); inputs kept."""
    situations = (
        (uniform(rng, 2, 20), uniform(rng, 0.5, 2.0), "a total norm above max_norm"),
        (uniform(rng, 1e-3, 1e-2), uniform(rng, 1.0, 5.0), "a total norm below max_norm"),
        (
            uniform(rng, 2e-4, 5e-4),
            uniform(rng, 1e-4, 3e-4),
            "a small total norm above a smaller max_norm",
        ),
        (uniform(rng, 1, 3), uniform(rng, 2.0, 4.0), "a total norm near max_norm"),
    )
    cases, got = [], []
    for n_scale, max_norm, what in situations:
        grads = _grads(rng, n_scale)
        result = student.call_inspect("clip_grad_norm", grads, max_norm)
        if isinstance(result.args_after, list) and result.args_after:
            after = result.args_after[0]
            if not isinstance(after, list) or not all(
                np.array_equal(numeric(a), g) for a, g in zip(after, grads, strict=False)
            ):
                fail("`clip_grad_norm` changed the gradients passed in.", "modifies_arguments")
        value = result.value
        if not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], list):
            swapped = (
                isinstance(value, list)
                and len(value) == 2
                and isinstance(value[1], list)
                and numeric(value[0]) is not None
                and numeric(value[0]).size == 1
            )
            fail(
                "`clip_grad_norm` should return (clipped, total_norm), clipped a list.",
                "outputs_swapped" if swapped else "",
            )
        cases.append(Case((grads, max_norm), what=what))
        got.append(value)
    wrong = []
    for case, (clipped, total) in zip(cases, got, strict=True):
        exp_clipped, exp_total = oracles.torch_clip(*case.args)
        outs = []
        if not close(total, exp_total, 1e-6):
            outs.append("total_norm")
        if len(clipped) != len(exp_clipped) or not all(
            close(a, e, 1e-6) for a, e in zip(clipped, exp_clipped, strict=True)
        ):
            outs.append("clipped")
        if outs:
            wrong.append((case, outs, [o for o in ("clipped", "total_norm") if o not in outs]))
    if wrong:
        label = diagnose(
            "clip_grad_norm",
            [lambda fn, c=c: list(fn(*c.args)) for c in cases],
            got,
            [1e-6] * len(cases),
        )
        fail(mismatch_message("clip_grad_norm", wrong, len(cases)), label)


@pytest.mark.points(2)
def test_decay_param_groups(student, rng):
    """Matrices (ndim >= 2) decay; biases and LayerNorm parameters do not; each exactly once."""
    wd = uniform(rng, 0.01, 0.3)
    got = student.probe("decay_param_groups", weight_decay=wd)
    ndims = oracles.decay_probe_model_ndims()
    groups = got["groups"]
    if len(groups) != 2:
        fail("`decay_param_groups` should return two param groups.")
    (decay, no_decay) = groups
    if not (abs(decay["weight_decay"] - wd) <= 1e-12 and no_decay["weight_decay"] == 0.0):
        fail("The first group should carry the given weight_decay and the second 0.0.")
    listed = decay["params"] + no_decay["params"]
    if sorted(listed) != sorted(ndims):
        fail("Every parameter of the model must appear exactly once.", "decay_group_missing_params")
    if any(ndims[n] < 2 for n in decay["params"]):
        fail("The decay group holds a parameter with ndim < 2.", "biases_in_decay_group")
    if any(ndims[n] >= 2 for n in no_decay["params"]):
        fail("The no-decay group holds a parameter with ndim >= 2.", "matrices_in_no_decay_group")


@pytest.mark.fixed
@pytest.mark.points(1)
def test_adam_memory_chapter_table(student):
    """7e9 parameters: 28/28/28/28/112 GB in fp32 and 14/28/28/14/84 GB mixed (chapter)."""
    for mixed, table in oracles.CHAPTER_MEMORY_7B.items():
        got = (
            student.call("adam_memory_gb", 7e9, mixed)
            if mixed
            else student.call("adam_memory_gb", 7e9)
        )
        _check_memory(got, table, 7e9, mixed, "the chapter's 7B model")


@pytest.mark.points(1)
def test_adam_memory_fresh(student, rng):
    """Drawn model sizes, both precisions (keyword argument)."""
    for mixed in (False, True):
        n = int(rng.integers(10**6, 10**11))
        got = student.call("adam_memory_gb", n, mixed_precision=mixed)
        _check_memory(got, oracles.memory_gb(n, mixed), n, mixed, "a drawn model size")


def _check_memory(got, table: dict, n_params: float, mixed: bool, what: str) -> None:
    if not isinstance(got, dict) or set(got) != set(MEMORY_KEYS):
        fail(f"`adam_memory_gb` should return a dict with keys {', '.join(MEMORY_KEYS)}.")
    for key in MEMORY_KEYS:
        if not close(got[key], table[key], 1e-9):
            label = diagnose(
                "adam_memory_gb",
                [lambda fn: [fn(n_params, mixed)[k] for k in MEMORY_KEYS]],
                [[got[k] for k in MEMORY_KEYS]],
                [1e-6],
            )
            fail(f"`adam_memory_gb` gives a wrong `{key}` for {what}.", label)
