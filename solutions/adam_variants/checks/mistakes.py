"""Known mistakes, computed grader-side, so a failed check can name what went wrong.

``VARIANTS[function]`` maps a diagnosis label to a NumPy implementation of the
function *with that one mistake*. When a submission's result disagrees with the
oracle, a check evaluates these variants on the same inputs and reports the
first whose result agrees with the student everywhere. ``DIAGNOSES[label]`` is
the plain sentence shown to the student (it never mentions hidden inputs); it is
:data:`MISTAKES` of ``public_checks.py``, so the public self-checks name a
mistake in the same words.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .oracles import f64
from .public import MISTAKES

DIAGNOSES: dict[str, str] = MISTAKES
"""Label -> sentence; the public self-checks word their diagnoses the same way."""


def _adam(
    w,
    g,
    m,
    v,
    t,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    *,
    bc1=True,
    bc2=True,
    t_shift=0,
    eps_mode="outside",
    square="sq",
    bc_betas="own",
    betas_swapped=False,
    numerator="m_hat",
    float32_bc=False,
):
    g = f64(g)
    g2 = {"sq": g * g, "abs": np.abs(g), "raw": g}[square]
    b1, b2 = (beta2, beta1) if betas_swapped else (beta1, beta2)
    m_new = b1 * f64(m) + (1 - b1) * g
    v_new = b2 * f64(v) + (1 - b2) * g2
    tt = t + t_shift
    c1, c2 = {"own": (b1, b2), "beta1": (b1, b1), "beta2": (b2, b2)}[bc_betas]
    with np.errstate(all="ignore"):
        d1, d2 = (
            (_float32_divisor(c1, tt), _float32_divisor(c2, tt))
            if float32_bc
            else (f64(1 - c1**tt), f64(1 - c2**tt))
        )
        m_hat = m_new / d1 if bc1 else m_new
        v_hat = v_new / d2 if bc2 else v_new
        if numerator == "grad":
            m_hat = g
        if eps_mode == "no_sqrt":
            return f64(w) - lr * m_hat / (v_hat + eps), m_new, v_new
        if eps_mode == "inside":
            denom = np.sqrt(v_hat + eps)
        elif (
            eps_mode == "closed_form"
        ):  # lr_t * m / (sqrt(v) + eps) == m_hat / (sqrt(v_hat) + eps')
            denom = np.sqrt(v_hat) + eps / np.sqrt(f64(1 - beta2**tt))
        else:
            denom = np.sqrt(v_hat) + eps
        return f64(w) - lr * m_hat / denom, m_new, v_new


def _float32_divisor(beta: float, t: int) -> float:
    """1 - beta**t computed in float32 (as ``1 - torch.tensor(beta)**t`` does)."""
    return float(np.float32(1) - np.float32(beta) ** np.float32(t))


def _swapped_outputs(fn: Callable, order: tuple[int, ...]) -> Callable:
    """``fn`` returning its outputs in another order (a tuple order slip)."""

    def swapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        return tuple(out[i] for i in order)

    return swapped


def _swaps(fn: Callable, n: int) -> dict[str, Callable]:
    """Every other order of ``fn``'s ``n`` outputs, under the label ``outputs_swapped``."""
    import itertools

    orders = [o for o in itertools.permutations(range(n)) if o != tuple(range(n))]
    return {f"outputs_swapped#{i}": _swapped_outputs(fn, o) for i, o in enumerate(orders)}


def _adam_family(**flags) -> Callable:
    return lambda w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8: _adam(
        w, g, m, v, t, lr, beta1, beta2, eps, **flags
    )


def _adam_ascends(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    w_new, m_new, v_new = _adam(w, g, m, v, t, lr, beta1, beta2, eps)
    return 2 * f64(w) - w_new, m_new, v_new


ADAM_VARIANTS: dict[str, Callable] = {
    "bias_correction_missing": _adam_family(bc1=False, bc2=False),
    "bias_correction_off_by_one": _adam_family(t_shift=1),
    "bias_correction_off_by_one#2": _adam_family(t_shift=-1),
    "one_moment_corrected": _adam_family(bc2=False),
    "one_moment_corrected#2": _adam_family(bc1=False),
    "eps_inside_sqrt": _adam_family(eps_mode="inside"),
    "eps_closed_form": _adam_family(eps_mode="closed_form"),
    "v_from_abs_grad": _adam_family(square="abs"),
    "v_from_grad": _adam_family(square="raw"),
    "step_sign_flipped": _adam_ascends,
    "sqrt_missing": _adam_family(eps_mode="no_sqrt"),
    "update_uses_grad": _adam_family(numerator="grad"),
    "bias_correction_betas_mixed": _adam_family(bc_betas="beta1"),
    "bias_correction_betas_mixed#2": _adam_family(bc_betas="beta2"),
    "betas_swapped": _adam_family(betas_swapped=True),
    "float32_intermediate": _adam_family(float32_bc=True),
}
"""A key ``label#2`` registers a second variant under the same label."""


def _decay_variant(mode: str) -> Callable:
    def step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        w, g = f64(w), f64(g)
        if mode == "l2":
            return _adam(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps)
        w_adam, m_new, v_new = _adam(w, g, m, v, t, lr, beta1, beta2, eps)
        if mode == "none":
            return w_adam, m_new, v_new
        if mode == "decoupled":
            return w_adam - lr * weight_decay * w, m_new, v_new
        if mode == "after":
            return w_adam - lr * weight_decay * w_adam, m_new, v_new
        if mode == "after_mul":
            return w_adam * (1 - lr * weight_decay), m_new, v_new
        if mode == "unscaled":
            return w_adam - weight_decay * w, m_new, v_new
        if mode == "sign":
            return w_adam + lr * weight_decay * w, m_new, v_new
        if mode == "l2_doubled":
            return _adam(w, g + 2 * weight_decay * w, m, v, t, lr, beta1, beta2, eps)
        raise KeyError(mode)

    return step


def _with_adam_bugs(kind: str) -> dict[str, Callable]:
    """The Adam mistakes carried into adam_l2_step / adamw_step written from scratch."""
    out = {}
    for label, flags in (
        ("bias_correction_missing", {"bc1": False, "bc2": False}),
        ("bias_correction_off_by_one", {"t_shift": 1}),
        ("eps_inside_sqrt", {"eps_mode": "inside"}),
        ("eps_closed_form", {"eps_mode": "closed_form"}),
        ("float32_intermediate", {"float32_bc": True}),
    ):

        def step(
            w,
            g,
            m,
            v,
            t,
            lr=1e-3,
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
            weight_decay=0.01,
            _flags=flags,
        ):
            w, g = f64(w), f64(g)
            if kind == "l2":
                return _adam(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps, **_flags)
            w_adam, m_new, v_new = _adam(w, g, m, v, t, lr, beta1, beta2, eps, **_flags)
            return w_adam - lr * weight_decay * w, m_new, v_new

        out[label] = step
    return out


def _rmsprop(
    swap=False, eps_inside=False, square="sq", bias=False, no_sqrt=False, old=False
) -> Callable:
    def step(w, g, v, lr, rho=0.9, eps=1e-8, _t=1):
        g = f64(g)
        g2 = {"sq": g * g, "abs": np.abs(g), "raw": g}[square]
        a, b = (1 - rho, rho) if swap else (rho, 1 - rho)
        v_new = a * f64(v) + b * g2
        use = v_new / (1 - rho) if bias else f64(v) if old else v_new
        with np.errstate(all="ignore"):
            denom = (
                use + eps if no_sqrt else np.sqrt(use + eps) if eps_inside else np.sqrt(use) + eps
            )
            return f64(w) - lr * g / denom, v_new

    return step


def _adagrad(square="sq", eps_inside=False, old=False, no_sqrt=False) -> Callable:
    def step(w, g, acc, lr, eps=1e-8):
        g = f64(g)
        g2 = {"sq": g * g, "abs": np.abs(g), "raw": g}[square]
        a_new = f64(acc) + g2
        use = f64(acc) if old else a_new
        with np.errstate(all="ignore"):
            denom = (
                use + eps if no_sqrt else np.sqrt(use + eps) if eps_inside else np.sqrt(use) + eps
            )
            return f64(w) - lr * g / denom, a_new

    return step


def _momentum(mode: str) -> Callable:
    def step(w, g, vel, lr, beta=0.9):
        w, g, vel = f64(w), f64(g), f64(vel)
        if mode == "dampened":
            v_new = beta * vel + (1 - beta) * g
            return w - lr * v_new, v_new
        if mode == "lr_inside":
            v_new = beta * vel - lr * g
            return w + v_new, v_new
        if mode == "lr_inside_uphill":
            v_new = beta * vel + lr * g
            return w - v_new, v_new
        if mode == "negated":
            v_new = beta * vel - g
            return w + lr * v_new, v_new
        if mode == "old_velocity":
            return w - lr * vel, beta * vel + g
        if mode == "ascends":
            v_new = beta * vel + g
            return w + lr * v_new, v_new
        if mode == "right":
            v_new = beta * vel + g
            return w - lr * v_new, v_new
        raise KeyError(mode)

    return step


def _bias_correction(mode: str) -> Callable:
    def bc(beta, t):
        if mode == "plus_one":
            return 1 - beta ** (t + 1)
        if mode == "minus_one":
            return 1 - beta ** (t - 1)
        if mode == "power":
            return beta**t
        if mode == "float32":
            return _float32_divisor(beta, t)
        return 1 / (1 - beta**t)

    return bc


# ---------------------------------------------------------------------- q5: the trace
def _trace_variant(mode: str) -> Callable:
    """adam_trace with one mistake in how it records or threads its rows (Adam itself right)."""

    def trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
        if mode == "ignores_hp":  # nothing but lr reaches adam_step, nor the recorded hats
            beta1, beta2, eps = 0.9, 0.999, 1e-8
        step_hp = (0.9, 0.999, 1e-8) if mode == "step_ignores_hp" else (beta1, beta2, eps)
        w, m, v = float(w0), 0.0, 0.0
        rows = []
        for t in range(1, int(steps) + 1):
            if mode == "state_reset":
                m, v = 0.0, 0.0
            g = w if mode == "grad_w" else 2.0 * w
            m_old, v_old = m, v
            w_new, m, v = (float(x) for x in _adam(w, g, m, v, t, lr, *step_hp))
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            row = {
                "t": t,
                "grad": g,
                "m": m,
                "v": v,
                "m_hat": m_hat,
                "v_hat": v_hat,
                "step": w - w_new,
                "w": w_new,
            }
            if mode == "moments_before":
                row.update(
                    m=m_old, v=v_old, m_hat=m_old / (1 - beta1**t), v_hat=v_old / (1 - beta2**t)
                )
            elif mode == "step_recomputed":
                row["step"] = lr * m_hat / np.sqrt(v_hat)
            if mode == "step_sign":
                row["step"] = w_new - w
            elif mode == "t_from_zero":
                row["t"] = t - 1
            elif mode == "hats":
                row["m_hat"], row["v_hat"] = m, v
            elif mode == "w_before":
                row["w"] = w
            rows.append(row)
            if mode != "w_fixed":
                w = w_new
        return rows

    return trace


# ---------------------------------------------------------------------- q7: the paths
def _path_variant(mode: str) -> Callable:
    """optimize_rosenbrock with one mistake in how it drives the (correct) step functions."""
    from . import oracles

    def run(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
        hp = {} if mode == "ignores_hp" else dict(hparams)
        w = f64(start).copy()
        state = [np.zeros(2), np.zeros(2)]
        path = [w.copy()]
        for t in range(1, int(steps) + 1):
            if mode == "reset":
                state = [np.zeros(2), np.zeros(2)]
            g = np.array(oracles.rosenbrock_grad(float(w[0]), float(w[1])))
            if optimizer == "sgd":
                w = oracles.sgd(w, g, lr)
            elif optimizer == "momentum":
                w, state[0] = oracles.momentum(w, g, state[0], lr, **hp)
            elif optimizer == "rmsprop":
                w, state[0] = oracles.rmsprop(w, g, state[0], lr, **hp)
            else:
                tt = t + 1 if mode == "t_plus_one" else t - 1 if mode == "t_from_zero" else t
                w, state[0], state[1] = _adam(w, g, state[0], state[1], tt, lr, **hp)
            path.append(f64(w).copy())
        return np.array(path)

    return run


# ---------------------------------------------------------------------- q10, bonus
def _lion(mode: str) -> Callable:
    def step(w, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
        w, g, m = f64(w), f64(g), f64(m)
        m_new = beta2 * m + (1 - beta2) * g
        if mode == "beta1_momentum":
            return w - lr * (np.sign(beta1 * m + (1 - beta1) * g) + weight_decay * w), beta1 * m + (
                1 - beta1
            ) * g
        if mode == "beta2_sign":
            u = np.sign(beta2 * m + (1 - beta2) * g)
        else:  # the momentum updated first, then interpolated with the gradient
            u = np.sign(beta1 * m_new + (1 - beta1) * g)
        return w - lr * (u + weight_decay * w), m_new

    return step


def _lamb(mode: str) -> Callable:
    def step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
        w, g = f64(w), f64(g)
        m_new = beta1 * f64(m) + (1 - beta1) * g
        v_new = beta2 * f64(v) + (1 - beta2) * g * g
        u = (m_new / (1 - beta1**t)) / (np.sqrt(v_new / (1 - beta2**t)) + eps) + weight_decay * w
        with np.errstate(all="ignore"):
            ratio = (
                np.abs(w) / np.abs(u)
                if mode == "elementwise"
                else np.sum(w * w) / np.sum(u * u)
                if mode == "squared" and np.any(w) and np.any(u)
                else 1.0
            )
        return w - lr * ratio * u, m_new, v_new

    return step


def _factored(mode: str) -> Callable:
    def step(grad_sq, row, col, beta2=0.999):
        gs = f64(grad_sq)
        if mode == "swapped":
            row_new = beta2 * f64(row) + (1 - beta2) * gs.mean(axis=0)
            col_new = beta2 * f64(col) + (1 - beta2) * gs.mean(axis=1)
        else:
            row_new = beta2 * f64(row) + (1 - beta2) * gs.mean(axis=1)
            col_new = beta2 * f64(col) + (1 - beta2) * gs.mean(axis=0)
        with np.errstate(all="ignore"):
            v = np.outer(row_new, col_new)
            if mode == "swapped":
                v = v / row_new.mean()
        return v, row_new, col_new

    return step


def _warmup_variant(mode: str) -> Callable:
    import math

    def lr_at(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
        if mode == "off_by_one" and step < warmup_steps:
            return lr_max * (step + 1) / warmup_steps
        if mode == "off_by_one_le" and step <= warmup_steps:
            return lr_max * step / (warmup_steps + 1)
        if mode == "integer_division" and step < warmup_steps:
            return lr_max * (step // warmup_steps)
        if step < warmup_steps:
            return lr_max * step / warmup_steps
        if step >= total_steps:
            return 0.0 if mode == "no_min_anywhere" else lr_min
        frac = (step - warmup_steps) / (total_steps - warmup_steps)
        if mode == "progress_from_zero":
            frac = step / total_steps
        if mode in ("no_min", "no_min_anywhere"):
            return 0.5 * lr_max * (1 + math.cos(math.pi * frac))
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * frac))

    return lr_at


def _clip_variant(mode: str) -> Callable:
    def clip(grads, max_norm):
        gs = [f64(g) for g in grads]
        total = float(np.sqrt(sum(np.sum(g**2) for g in gs)))
        if mode == "per_tensor":
            return [
                g * min(1.0, max_norm / (float(np.sqrt(np.sum(g**2))) + 1e-6)) for g in gs
            ], total
        if mode == "no_eps":
            return [g * min(1.0, max_norm / total) for g in gs], total
        if mode == "sum_of_norms":
            total = float(sum(np.sqrt(np.sum(g**2)) for g in gs))
            return [g * min(1.0, max_norm / (total + 1e-6)) for g in gs], total
        if mode == "right":
            return [g * min(1.0, max_norm / (total + 1e-6)) for g in gs], total
        return [g * (max_norm / (total + 1e-6)) for g in gs], total  # scales up as well

    return clip


def _memory_variant(mode: str) -> Callable:
    def memory(n_params, mixed_precision=False):
        if mode in ("gib", "total_without_grads", "total_without_weights"):
            low = 2 if mixed_precision else 4
            sizes = {"weights": low, "adam_m": 4, "adam_v": 4, "grads": low}
            out = {k: n_params * b / (2**30 if mode == "gib" else 1e9) for k, b in sizes.items()}
            if mode != "gib":
                left_out = "grads" if mode == "total_without_grads" else "weights"
                out["total"] = sum(v for k, v in out.items() if k != left_out)
                return out
        else:  # every buffer halved in mixed precision
            b = 2 if mixed_precision else 4
            out = {k: n_params * b / 1e9 for k in ("weights", "adam_m", "adam_v", "grads")}
        out["total"] = sum(out.values())
        return out

    return memory


VARIANTS: dict[str, dict[str, Callable]] = {
    "sgd_step": {"step_sign_flipped": lambda w, g, lr: f64(w) + lr * f64(g)},
    "momentum_step": {
        "momentum_dampened": _momentum("dampened"),
        "momentum_other_convention": _momentum("lr_inside"),
        "momentum_other_convention#2": _momentum("lr_inside_uphill"),
        "momentum_velocity_negated": _momentum("negated"),
        "momentum_old_velocity": _momentum("old_velocity"),
        "step_sign_flipped": _momentum("ascends"),
        **_swaps(_momentum("right"), 2),
    },
    "adagrad_step": {
        "adagrad_accumulates_grad": _adagrad(square="raw"),
        "adagrad_accumulates_grad#2": _adagrad(square="abs"),
        "eps_inside_sqrt": _adagrad(eps_inside=True),
        "adagrad_old_accumulator": _adagrad(old=True),
        "sqrt_missing": _adagrad(no_sqrt=True),
        **_swaps(_adagrad(), 2),
    },
    "rmsprop_step": {
        "rho_swapped": _rmsprop(swap=True),
        "eps_inside_sqrt": _rmsprop(eps_inside=True),
        "v_from_abs_grad": _rmsprop(square="abs"),
        "v_from_grad": _rmsprop(square="raw"),
        "rmsprop_bias_corrected": _rmsprop(bias=True),
        "sqrt_missing": _rmsprop(no_sqrt=True),
        "old_second_moment": _rmsprop(old=True),
        **_swaps(_rmsprop(), 2),
    },
    "bias_correction": {
        "bias_correction_off_by_one": _bias_correction("plus_one"),
        "bias_correction_off_by_one#2": _bias_correction("minus_one"),
        "bias_correction_inverted": _bias_correction("power"),
        "bias_correction_inverted#2": _bias_correction("inverse"),
        "float32_intermediate": _bias_correction("float32"),
    },
    "adam_step": {**ADAM_VARIANTS, **_swaps(_adam_family(), 3)},
    "adam_l2_step": {
        "l2_as_decoupled": _decay_variant("decoupled"),
        "decay_missing": _decay_variant("none"),
        "l2_doubled": _decay_variant("l2_doubled"),
        **_with_adam_bugs("l2"),
    },
    "adamw_step": {
        "adamw_as_l2": _decay_variant("l2"),
        "decay_missing": _decay_variant("none"),
        "decay_after_step": _decay_variant("after"),
        "decay_after_step#2": _decay_variant("after_mul"),
        "decay_not_scaled_by_lr": _decay_variant("unscaled"),
        "decay_sign_flipped": _decay_variant("sign"),
        **_with_adam_bugs("decoupled"),
    },
    "adam_trace": {
        "trace_step_sign": _trace_variant("step_sign"),
        "trace_t_from_zero": _trace_variant("t_from_zero"),
        "trace_hats_uncorrected": _trace_variant("hats"),
        "trace_w_before_step": _trace_variant("w_before"),
        "trace_ignores_hyperparameters": _trace_variant("ignores_hp"),
        "trace_ignores_hyperparameters#2": _trace_variant("step_ignores_hp"),
        "trace_w_not_carried": _trace_variant("w_fixed"),
        "state_not_carried": _trace_variant("state_reset"),
        "trace_moments_before_step": _trace_variant("moments_before"),
        "trace_grad_not_2w": _trace_variant("grad_w"),
        "trace_step_recomputed": _trace_variant("step_recomputed"),
    },
    "optimize_rosenbrock": {
        "path_ignores_hyperparameters": _path_variant("ignores_hp"),
        "path_state_not_carried": _path_variant("reset"),
        "bias_correction_off_by_one": _path_variant("t_plus_one"),
        "bias_correction_off_by_one#2": _path_variant("t_from_zero"),
    },
    "lion_step": {
        "lion_sign_of_momentum": _lion("beta2_sign"),
        "lion_momentum_updated_first": _lion("updated_first"),
        "lion_momentum_wrong_beta": _lion("beta1_momentum"),
    },
    "lamb_step": {
        "lamb_trust_ratio_per_element": _lamb("elementwise"),
        "lamb_no_trust_ratio": _lamb("none"),
        "lamb_norm_squared": _lamb("squared"),
    },
    "factored_second_moment": {
        "adafactor_no_normalisation": _factored("plain"),
        "adafactor_rows_cols_swapped": _factored("swapped"),
    },
    "warmup_cosine_lr": {
        "warmup_off_by_one": _warmup_variant("off_by_one"),
        "warmup_off_by_one#2": _warmup_variant("off_by_one_le"),
        "cosine_ignores_lr_min": _warmup_variant("no_min"),
        "cosine_ignores_lr_min#2": _warmup_variant("no_min_anywhere"),
        "integer_division": _warmup_variant("integer_division"),
        "cosine_progress_from_zero": _warmup_variant("progress_from_zero"),
    },
    "clip_grad_norm": {
        "clip_per_tensor": _clip_variant("per_tensor"),
        "clip_epsilon_missing": _clip_variant("no_eps"),
        "clip_scales_up": _clip_variant("scales_up"),
        "clip_norm_sum_of_norms": _clip_variant("sum_of_norms"),
        **_swaps(_clip_variant("right"), 2),
    },
    "adam_memory_gb": {
        "gb_as_gib": _memory_variant("gib"),
        "mixed_precision_moments_halved": _memory_variant("halved"),
        "memory_total_wrong": _memory_variant("total_without_grads"),
        "memory_total_wrong#2": _memory_variant("total_without_weights"),
    },
}


CONTRACT: dict[str, str] = {
    "sgd_step": "w_new = w - lr * grad",
    "momentum_step": "velocity_new = beta * velocity + grad; w_new = w - lr * velocity_new",
    "adagrad_step": "accum_new = accum + grad**2; w_new = w - lr * grad / (sqrt(accum_new) + eps)",
    "rmsprop_step": "v_new = rho * v + (1 - rho) * grad**2; "
    "w_new = w - lr * grad / (sqrt(v_new) + eps)",
    "bias_correction": "1 - beta**t",
    "adam_step": "m_new = beta1*m + (1-beta1)*grad; v_new = beta2*v + (1-beta2)*grad**2; "
    "w_new = w - lr * (m_new/(1-beta1**t)) / (sqrt(v_new/(1-beta2**t)) + eps), "
    "returned as (w_new, m_new, v_new), all in float64",
    "adam_l2_step": "the Adam step on grad + weight_decay * w",
    "adamw_step": "the Adam step on grad, minus lr * weight_decay * w (w before the step)",
    "warmup_cosine_lr": "lr_max * step / warmup_steps during the warmup, then "
    "lr_min + 0.5*(lr_max-lr_min)*(1+cos(pi*(step-warmup_steps)/"
    "(total_steps-warmup_steps))), lr_min from total_steps on",
    "clip_grad_norm": "total_norm = sqrt(sum of g**2 over every entry of every gradient); "
    "each gradient times min(1, max_norm / (total_norm + 1e-6))",
    "lion_step": "u = sign(beta1*m + (1-beta1)*grad); w_new = w - lr*(u + weight_decay*w); "
    "m_new = beta2*m + (1-beta2)*grad",
    "lamb_step": "u = m_hat/(sqrt(v_hat)+eps) + weight_decay*w; w_new = w - lr*r*u with "
    "r = ||w|| / ||u|| (1 when either is 0)",
    "factored_second_moment": "row_new = beta2*row + (1-beta2)*grad_sq.mean(axis=1), "
    "col_new likewise over axis 0, "
    "v_approx = outer(row_new, col_new) / row_new.mean()",
}
"""What the contract says each NumPy function computes: the last sentence of a failure no
catalogued mistake explains."""

VARIANT_TOL: dict[str, float] = {"float32_intermediate": 1e-4}
"""A floor on the tolerance a variant is compared at (by label): a float32 intermediate is
reproduced grader-side to float32 precision only, not bit for bit."""


def label_of(key: str) -> str:
    """The diagnosis label of a VARIANTS key (``label#2`` -> ``label``)."""
    return key.split("#")[0]


def sentence(label: str) -> str:
    """The student-facing sentence for a diagnosis label ("" when unknown)."""
    return DIAGNOSES.get(label_of(label), "")
