"""Public self-checks for the "Adam and Its Variants" notebook.

Call ``check("q4_adam_step")`` in a notebook cell: it looks up your functions in
the notebook's namespace, runs a few basic checks (return shapes, scalar in
scalar out, the first step of the chapter's trace) and prints one line per
check. Passing them does not mean full marks: the hidden tests are thorough.

This file ships to students: standard library, NumPy and PyTorch only, and only
values the chapter itself prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

PASS, FAIL = "\u2714", "\u2718"
NOT_IMPLEMENTED = "not implemented yet \u2014 replace the `raise NotImplementedError` with your code"


class CheckFailed(AssertionError):
    """A public check's reason for failing."""


class _NotAnswered(Exception):
    """A q11 constant is still None."""


class _Missing(Exception):
    """A name the check needs is not defined in the notebook."""


@dataclass(frozen=True)
class PublicCheck:
    """One public check: the name it is about, what it shows, and how to run it."""

    name: str
    description: str
    run: Callable[[dict[str, Any]], None]


class CheckSummary(NamedTuple):
    """How many of a question's public checks passed (no extra notebook output)."""

    passed: int
    total: int

    def _ipython_display_(self) -> None:
        """Display nothing: check() has printed its lines already."""


def _get(ns: dict[str, Any], name: str) -> Any:
    if name not in ns:
        raise _Missing(name)
    return ns[name]


def _expect(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def _close(actual: Any, expected: float, tol: float = 1e-6) -> bool:
    try:
        return bool(abs(float(actual) - expected) <= tol * max(1.0, abs(expected)))
    except (TypeError, ValueError):
        return False


def _tuple_of(result: Any, n: int, names: str) -> tuple:
    _expect(
        isinstance(result, tuple) and len(result) == n,
        f"should return a tuple {names}, got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, tuple) else ""),
    )
    return result


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) or (
        isinstance(x, np.ndarray) and x.shape == ()
    )


def _same_shape(results: tuple, shape: tuple[int, ...], names: str) -> None:
    for value in results:
        _expect(
            np.shape(value) == shape,
            f"with arrays of shape {shape} in, {names} should all have shape {shape}, "
            f"got {np.shape(value)}",
        )


# ---------------------------------------------------------------- q1_baselines
def _sgd_scalar(ns: dict[str, Any]) -> None:
    w = _get(ns, "sgd_step")(5.0, 10.0, 0.01)
    _expect(_is_scalar(w), f"scalar in should give a scalar out, got {type(w).__name__}")
    _expect(_close(w, 4.9), f"sgd_step(5.0, 10.0, lr=0.01) should move w by lr*grad = 0.1, got {w}")


def _sgd_eight(ns: dict[str, Any]) -> None:
    sgd_step = _get(ns, "sgd_step")
    w = 5.0
    for _ in range(8):
        w = sgd_step(w, 2 * w, 0.01)
    _expect(round(float(w), 4) == 4.2538, f"8 steps on f(w)=w² from 5 should give 4.2538, got {w}")


def _momentum_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "momentum_step")(np.ones(3), np.ones(3), np.zeros(3), 0.01)
    _same_shape(_tuple_of(result, 2, "(w_new, velocity_new)"), (3,), "w_new and velocity_new")


def _momentum_eight(ns: dict[str, Any]) -> None:
    momentum_step = _get(ns, "momentum_step")
    w, velocity = 5.0, 0.0
    for _ in range(8):
        w, velocity = momentum_step(w, 2 * w, velocity, 0.01)
    _expect(round(float(w), 4) == 2.4421, f"8 steps on f(w)=w² from 5 should give 2.4421, got {w}")


# ---------------------------------------------------------------- q2_adagrad
def _adagrad_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "adagrad_step")(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3)), 0.1)
    _same_shape(_tuple_of(result, 2, "(w_new, accum_new)"), (2, 3), "w_new and accum_new")


def _adagrad_table(ns: dict[str, Any]) -> None:
    adagrad_step = _get(ns, "adagrad_step")
    w, accum = 0.0, 0.0
    for _ in range(100):
        w, accum = adagrad_step(w, 10.0, accum, 0.01)
    _expect(
        _close(accum, 10_000.0),
        f"with a constant gradient of 10 the accumulator after 100 steps is 10,000, got {accum}",
    )


# ---------------------------------------------------------------- q3_rmsprop
def _rmsprop_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "rmsprop_step")(np.ones(4), np.ones(4), np.zeros(4), 0.01)
    _same_shape(_tuple_of(result, 2, "(w_new, v_new)"), (4,), "w_new and v_new")


def _rmsprop_scalar(ns: dict[str, Any]) -> None:
    w_new, v_new = _tuple_of(_get(ns, "rmsprop_step")(1.0, 2.0, 0.0, 0.01), 2, "(w_new, v_new)")
    _expect(_is_scalar(w_new) and _is_scalar(v_new), "scalars in should give scalars out")
    _expect(float(w_new) < 1.0, "a positive gradient should decrease w")
    _expect(float(v_new) > 0.0, "v should grow from 0 after a nonzero gradient")


def _rmsprop_pure(ns: dict[str, Any]) -> None:
    w, g, v = np.ones(3), np.full(3, 2.0), np.full(3, 0.5)
    _get(ns, "rmsprop_step")(w, g, v, 0.01)
    _expect(
        np.all(w == 1.0) and np.all(g == 2.0) and np.all(v == 0.5),
        "must not modify its arguments in place (return new arrays instead)",
    )


# ---------------------------------------------------------------- q4_adam_step
def _bias_first(ns: dict[str, Any]) -> None:
    bias_correction = _get(ns, "bias_correction")
    b1, b2 = bias_correction(0.9, 1), bias_correction(0.999, 1)
    _expect(_close(b1, 0.1) and _close(b2, 0.001),
            f"at t=1 the chapter's table gives 0.100 (beta=0.9) and 0.001 (beta=0.999), "
            f"got {b1} and {b2}")


def _adam_triple(ns: dict[str, Any]) -> None:
    result = _get(ns, "adam_step")(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 1)
    _same_shape(_tuple_of(result, 3, "(w_new, m_new, v_new)"), (3,), "w_new, m_new and v_new")


def _adam_first(ns: dict[str, Any]) -> None:
    result = _get(ns, "adam_step")(5.0, 10.0, 0.0, 0.0, 1, lr=0.01)
    w, m, v = _tuple_of(result, 3, "(w_new, m_new, v_new)")
    _expect(_close(m, 1.0) and _close(v, 0.1),
            f"the chapter's first step (w=5, g=10, lr=0.01) has m=1.0, v=0.1, got m={m}, v={v}")
    _expect(_close(w, 4.99), f"the chapter's first step gives w=4.99, got {w}")


# ---------------------------------------------------------------- q5_adam_trace
_TRACE_KEYS = ("t", "grad", "m", "v", "m_hat", "v_hat", "step", "w")


def _trace_shape(ns: dict[str, Any]) -> None:
    rows = _get(ns, "adam_trace")()
    _expect(isinstance(rows, list) and len(rows) == 8, "the default trace is a list of 8 dicts")
    for row in rows:
        _expect(isinstance(row, dict) and set(row) == set(_TRACE_KEYS),
                f"each row is a dict with exactly the keys {', '.join(_TRACE_KEYS)}")


def _trace_first(ns: dict[str, Any]) -> None:
    first = _get(ns, "adam_trace")()[0]
    expected = {"t": 1, "grad": 10.0, "m": 1.0, "v": 0.1, "m_hat": 10.0, "v_hat": 100.0,
                "step": 0.01, "w": 4.99}
    wrong = [k for k, x in expected.items() if not _close(first.get(k), x)]
    _expect(not wrong, "the chapter's t=1 row is g=10, m=1.0, v=0.1, m_hat=10, v_hat=100, "
            f"step=0.01, w=4.99; these differ: {', '.join(wrong)}")


def _trace_last(ns: dict[str, Any]) -> None:
    w = _get(ns, "adam_trace")()[-1]["w"]
    _expect(round(float(w), 4) == 4.92, f"after 8 steps the chapter has w=4.9200, got {w}")


# ---------------------------------------------------------------- q6_weight_decay
def _decay_triples(ns: dict[str, Any]) -> None:
    for name in ("adam_l2_step", "adamw_step"):
        result = _get(ns, name)(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 1)
        _same_shape(_tuple_of(result, 3, f"{name} -> (w_new, m_new, v_new)"), (3,),
                    "w_new, m_new and v_new")


def _decay_zero(ns: dict[str, Any]) -> None:
    adam_step = _get(ns, "adam_step")
    args = (np.array([1.0, -2.0]), np.array([0.5, 3.0]), np.zeros(2), np.zeros(2), 1)
    reference = adam_step(*args, lr=0.01)
    for name in ("adam_l2_step", "adamw_step"):
        result = _tuple_of(_get(ns, name)(*args, lr=0.01, weight_decay=0.0), 3,
                           "(w_new, m_new, v_new)")
        _expect(all(np.allclose(a, b) for a, b in zip(result, reference, strict=True)),
                f"{name} with weight_decay=0 should be exactly adam_step")


# ---------------------------------------------------------------- q7_rosenbrock
def _rosenbrock_min(ns: dict[str, Any]) -> None:
    f = _get(ns, "rosenbrock")(1.0, 1.0)
    _expect(_close(f, 0.0), f"the minimum at (1, 1) has f = 0, got {f}")
    grad = _get(ns, "rosenbrock_grad")(1.0, 1.0)
    _expect(len(grad) == 2 and _close(grad[0], 0.0) and _close(grad[1], 0.0),
            f"the gradient at the minimum (1, 1) is (0, 0), got {grad}")


def _rosenbrock_path(ns: dict[str, Any]) -> None:
    path = _get(ns, "optimize_rosenbrock")("sgd", 1e-4, 5)
    _expect(isinstance(path, np.ndarray) and path.shape == (6, 2),
            f"5 steps should give an array of shape (6, 2), got {np.shape(path)}")
    _expect(np.allclose(path[0], [-1.2, 1.0]), "the path starts with the start point (-1.2, 1.0)")


# ---------------------------------------------------------------- q8_flipnet
def _flipnet_params(ns: dict[str, Any]) -> None:
    model = _get(ns, "FlipNet")()
    _expect(hasattr(model, "layer1") and hasattr(model, "layer2"),
            "FlipNet needs attributes layer1 and layer2")
    n = sum(p.numel() for p in model.parameters())
    _expect(n == 31, f"FlipNet has 31 parameters in the chapter, got {n}")


def _flip_data(ns: dict[str, Any]) -> None:
    import torch

    X, Y = _tuple_of(_get(ns, "make_flip_data")(), 2, "(X, Y)")
    _expect(isinstance(X, torch.Tensor) and tuple(X.shape) == (16, 4) and X.dtype == torch.float32,
            "X is a float32 tensor of shape (16, 4)")
    _expect(isinstance(Y, torch.Tensor) and torch.equal(Y, X[:, [3, 2, 1, 0]]),
            "Y is X with its pixels reversed: X[:, [3, 2, 1, 0]]")


def _train_history(ns: dict[str, Any]) -> None:
    import torch

    torch.manual_seed(0)
    model = _get(ns, "FlipNet")()
    X, Y = _get(ns, "make_flip_data")()
    history = _get(ns, "train_flipnet")(model, torch.optim.SGD(model.parameters(), lr=0.05), X, Y,
                                        epochs=2)
    _expect(isinstance(history, list) and len(history) == 2
            and all(isinstance(x, float) for x in history),
            "train_flipnet(..., epochs=2) returns a list of 2 floats")


def _compare_keys(ns: dict[str, Any]) -> None:
    curves = _get(ns, "compare_optimizers")(epochs=2)
    _expect(isinstance(curves, dict) and set(curves) == {"momentum", "adam"},
            'compare_optimizers returns a dict with keys "momentum" and "adam"')
    _expect(all(len(curves[k]) == 2 for k in curves), "epochs=2 gives two losses per optimizer")


# ---------------------------------------------------------------- q9_scratch_adamw
def _scratch_first(ns: dict[str, Any]) -> None:
    import torch

    cls = _get(ns, "ScratchAdamW")
    _expect(isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer),
            "ScratchAdamW subclasses torch.optim.Optimizer")
    w = torch.nn.Parameter(torch.tensor([5.0], dtype=torch.float64))
    opt = cls([w], lr=0.01)
    (w**2).sum().backward()
    opt.step()
    _expect(_close(w.item(), 4.99), f"the chapter's first Adam step (w=5, g=10, lr=0.01) gives "
            f"w=4.99, got {w.item()}")
    state = opt.state[w]
    _expect({"step", "exp_avg", "exp_avg_sq"} <= set(state),
            "state per parameter holds step, exp_avg and exp_avg_sq")


# ---------------------------------------------------------------- q10_recipe
def _schedule_ends(ns: dict[str, Any]) -> None:
    lr = _get(ns, "warmup_cosine_lr")
    start, peak = lr(0, 1e-3, 1000, 100), lr(100, 1e-3, 1000, 100)
    _expect(_close(start, 0.0) and _close(peak, 1e-3),
            f"warmup starts at 0 and reaches lr_max at warmup_steps, got {start} and {peak}")


def _clip_small(ns: dict[str, Any]) -> None:
    grads = [np.array([0.3, 0.0]), np.array([[0.4]])]
    result = _tuple_of(_get(ns, "clip_grad_norm")(grads, 10.0), 2, "(clipped, total_norm)")
    clipped, norm = result
    _expect(isinstance(clipped, list) and len(clipped) == 2, "clipped is a list like grads")
    _expect(_close(norm, 0.5), f"the global norm of [0.3, 0] and [[0.4]] is 0.5, got {norm}")
    _expect(all(np.shape(c) == np.shape(g) for c, g in zip(clipped, grads, strict=True)),
            "clipped gradients keep their shapes")


def _groups_cover(ns: dict[str, Any]) -> None:
    model = _get(ns, "FlipNet")()
    groups = _get(ns, "decay_param_groups")(model, 0.1)
    _expect(isinstance(groups, list) and len(groups) == 2
            and all(isinstance(g, dict) and {"params", "weight_decay"} <= set(g) for g in groups),
            'two dicts with keys "params" and "weight_decay"')
    ids = [id(p) for g in groups for p in g["params"]]
    _expect(sorted(ids) == sorted(id(p) for p in model.parameters()),
            "every parameter appears exactly once")


def _memory_table(ns: dict[str, Any]) -> None:
    mem = _get(ns, "adam_memory_gb")(7e9)
    expected = {"weights": 28, "adam_m": 28, "adam_v": 28, "grads": 28, "total": 112}
    _expect(isinstance(mem, dict) and set(mem) == set(expected),
            f"keys {', '.join(expected)}")
    _expect(all(_close(mem[k], x) for k, x in expected.items()),
            f"the chapter's fp32 table for 7B parameters is 28/28/28/28/112 GB, got {mem}")


# ---------------------------------------------------------------- q11_concepts
_CHOICES = {
    "ANSWER_1D_WINNER": ("sgd", "momentum", "adam"),
    "ANSWER_FLIPNET_WINNER": ("momentum", "adam"),
    "ANSWER_DECOUPLED": ("adam_l2", "adamw"),
}


def _answer(name: str) -> Callable[[dict[str, Any]], None]:
    def run(ns: dict[str, Any]) -> None:
        value = _get(ns, name)
        if value is None:
            raise _NotAnswered(", ".join(f'"{c}"' for c in _CHOICES[name]))
        _expect(value in _CHOICES[name],
                f"should be one of {', '.join(map(repr, _CHOICES[name]))}, got {value!r}")

    return run


# ---------------------------------------------------------------- bonus_variants
def _lion_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "lion_step")(np.ones(5), np.ones(5), np.zeros(5))
    _same_shape(_tuple_of(result, 2, "(w_new, m_new)"), (5,), "w_new and m_new")


def _lamb_triple(ns: dict[str, Any]) -> None:
    result = _get(ns, "lamb_step")(np.ones(5), np.ones(5), np.zeros(5), np.zeros(5), 1)
    _same_shape(_tuple_of(result, 3, "(w_new, m_new, v_new)"), (5,), "w_new, m_new and v_new")


def _factored_shapes(ns: dict[str, Any]) -> None:
    result = _get(ns, "factored_second_moment")(np.ones((3, 4)), np.zeros(3), np.zeros(4))
    v_approx, row, col = _tuple_of(result, 3, "(v_approx, row_new, col_new)")
    _expect(np.shape(v_approx) == (3, 4) and np.shape(row) == (3,) and np.shape(col) == (4,),
            "a (3, 4) gradient gives v_approx (3, 4), row (3,), col (4,)")


def _quantize_roundtrip(ns: dict[str, Any]) -> None:
    x = np.linspace(-1.0, 2.0, 100).reshape(10, 10)
    codes, scales = _tuple_of(_get(ns, "quantize_blockwise")(x), 2, "(codes, scales)")
    _expect(isinstance(codes, np.ndarray) and codes.dtype == np.int8 and codes.size == 100,
            "codes is a flat int8 array with one code per value")
    x_hat = _get(ns, "dequantize_blockwise")(codes, scales, x.shape)
    _expect(np.shape(x_hat) == x.shape, "dequantize_blockwise restores the shape")
    _expect(np.max(np.abs(x_hat - x)) <= 2.0 / 127 + 1e-12,
            "every value comes back within absmax/127 of the original")


CHECKS: dict[str, tuple[PublicCheck, ...]] = {
    "q1_baselines": (
        PublicCheck("sgd_step", "takes a scalar step of lr * grad", _sgd_scalar),
        PublicCheck("sgd_step", "reaches 4.2538 after 8 steps on f(w)=w²", _sgd_eight),
        PublicCheck("momentum_step", "returns (w_new, velocity_new) of the input shape",
                    _momentum_pair),
        PublicCheck("momentum_step", "reaches 2.4421 after 8 steps on f(w)=w²", _momentum_eight),
    ),
    "q2_adagrad": (
        PublicCheck("adagrad_step", "returns (w_new, accum_new) of the input shape",
                    _adagrad_pair),
        PublicCheck("adagrad_step", "accumulates 10,000 after 100 steps of gradient 10",
                    _adagrad_table),
    ),
    "q3_rmsprop": (
        PublicCheck("rmsprop_step", "returns (w_new, v_new) of the input shape", _rmsprop_pair),
        PublicCheck("rmsprop_step", "gives scalars for scalars and steps downhill",
                    _rmsprop_scalar),
        PublicCheck("rmsprop_step", "leaves its arguments unchanged", _rmsprop_pure),
    ),
    "q4_adam_step": (
        PublicCheck("bias_correction", "matches the chapter's table at t=1", _bias_first),
        PublicCheck("adam_step", "returns (w_new, m_new, v_new)", _adam_triple),
        PublicCheck("adam_step", "reproduces the chapter's first step", _adam_first),
    ),
    "q5_adam_trace": (
        PublicCheck("adam_trace", "returns 8 rows with the trace's keys", _trace_shape),
        PublicCheck("adam_trace", "reproduces the chapter's t=1 row", _trace_first),
        PublicCheck("adam_trace", "ends at w=4.9200", _trace_last),
    ),
    "q6_weight_decay": (
        PublicCheck("adam_l2_step/adamw_step", "return (w_new, m_new, v_new)", _decay_triples),
        PublicCheck("adam_l2_step/adamw_step", "equal adam_step when weight_decay=0",
                    _decay_zero),
    ),
    "q7_rosenbrock": (
        PublicCheck("rosenbrock", "is 0 with zero gradient at the minimum (1, 1)",
                    _rosenbrock_min),
        PublicCheck("optimize_rosenbrock", "returns the path, start first", _rosenbrock_path),
    ),
    "q8_flipnet": (
        PublicCheck("FlipNet", "has layer1, layer2 and 31 parameters", _flipnet_params),
        PublicCheck("make_flip_data", "returns the 16 images and their flips", _flip_data),
        PublicCheck("train_flipnet", "returns one float per epoch", _train_history),
        PublicCheck("compare_optimizers", "returns both loss curves", _compare_keys),
    ),
    "q9_scratch_adamw": (
        PublicCheck("ScratchAdamW", "takes the chapter's first Adam step", _scratch_first),
    ),
    "q10_recipe": (
        PublicCheck("warmup_cosine_lr", "starts at 0 and peaks at warmup_steps", _schedule_ends),
        PublicCheck("clip_grad_norm", "returns (clipped, total_norm)", _clip_small),
        PublicCheck("decay_param_groups", "splits FlipNet into two groups", _groups_cover),
        PublicCheck("adam_memory_gb", "reproduces the chapter's 7B fp32 table", _memory_table),
    ),
    "q11_concepts": tuple(
        PublicCheck(name, "is one of the allowed answers", _answer(name)) for name in _CHOICES
    ),
    "bonus_variants": (
        PublicCheck("lion_step", "returns (w_new, m_new)", _lion_pair),
        PublicCheck("lamb_step", "returns (w_new, m_new, v_new)", _lamb_triple),
        PublicCheck("factored_second_moment", "returns row/column statistics", _factored_shapes),
        PublicCheck("quantize_blockwise", "round-trips within absmax/127", _quantize_roundtrip),
    ),
}


def _run_one(item: PublicCheck, ns: dict[str, Any]) -> tuple[bool, str]:
    """Run one check; never raises. Returns (passed, the line to print)."""
    try:
        item.run(ns)
    except NotImplementedError:
        return False, f"{FAIL} {item.name}: {NOT_IMPLEMENTED}"
    except _NotAnswered as choices:
        return False, f"{FAIL} {item.name}: not implemented yet \u2014 set it to one of {choices}"
    except _Missing as missing:
        return False, f"{FAIL} {item.name}: `{missing}` is not defined \u2014 run its cell first"
    except CheckFailed as failed:
        return False, f"{FAIL} {item.name}: {failed}"
    except (Exception, SystemExit) as err:  # noqa: BLE001 - a check must never raise
        return False, f"{FAIL} {item.name}: raised {type(err).__name__}: {err}"
    return True, f"{PASS} {item.name} {item.description}"


def _caller_namespace() -> dict[str, Any]:
    """The notebook's namespace: the globals of the code that called check()."""
    frame = sys._getframe(2)
    return frame.f_globals


def check(question_id: str, namespace: dict[str, Any] | None = None) -> CheckSummary:
    """Run the public checks of one question and print one line per check.

    ``namespace`` defaults to the caller's globals (the notebook). Returns
    ``(passed, total)``; never raises.
    """
    try:
        ns = namespace if namespace is not None else _caller_namespace()
    except Exception:  # noqa: BLE001
        ns = {}
    checks = CHECKS.get(question_id)
    if checks is None:
        print(f"{FAIL} unknown question {question_id!r}; valid ids: {', '.join(CHECKS)}")
        return CheckSummary(0, 0)
    passed = 0
    for item in checks:
        ok, line = _run_one(item, ns)
        passed += ok
        print(line)
    summary = "all passed" if passed == len(checks) else f"{passed}/{len(checks)} passed"
    print(f"{question_id}: {summary} (public checks only; the hidden tests are more thorough)")
    return CheckSummary(passed, len(checks))


__all__ = ["check", "CHECKS", "CheckSummary", "PublicCheck"]
