"""Known mistakes, computed grader-side, so a failed check can name what went wrong.

``VARIANTS[function]`` maps a diagnosis label to a NumPy implementation of the
function *with that one mistake*. When a submission's result disagrees with the
oracle, a check evaluates these variants on the same inputs and reports the
first whose result matches. ``DIAGNOSES[label]`` is the plain sentence shown to
the student; it never mentions hidden inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.checks.oracles import f64

DIAGNOSES: dict[str, str] = {
    "bias_correction_missing": (
        "Adam's bias correction seems to be missing: m and v must be divided by "
        "1 - beta1**t and 1 - beta2**t before the update."),
    "bias_correction_off_by_one": (
        "the bias correction looks off by one step: use 1 - beta**t with t the 1-based "
        "step number (the first update has t=1)."),
    "one_moment_corrected": (
        "only one of the two moments is bias-corrected: both m and v need their own "
        "correction."),
    "eps_inside_sqrt": (
        "eps seems to be inside the square root: the update divides by sqrt(v_hat) + eps, "
        "not sqrt(v_hat + eps) (the difference shows with tiny gradients)."),
    "v_from_abs_grad": (
        "the second moment seems to be built from |g| instead of g**2."),
    "v_from_grad": (
        "the second moment seems to be built from g instead of g**2."),
    "rho_swapped": (
        "RMSprop's rho and 1 - rho look swapped: v_new = rho * v + (1 - rho) * grad**2."),
    "rmsprop_bias_corrected": (
        "RMSprop has no bias correction; the running average is used as it is."),
    "momentum_dampened": (
        "the momentum update looks dampened by (1 - beta): PyTorch's convention is "
        "velocity = beta * velocity + grad."),
    "momentum_other_convention": (
        "the velocity seems to include the learning rate (v = beta*v - lr*g); the contract "
        "uses PyTorch's convention velocity = beta * velocity + grad, w = w - lr * velocity."),
    "adagrad_accumulates_grad": (
        "AdaGrad seems to accumulate g (or |g|) instead of g**2."),
    "adagrad_old_accumulator": (
        "the AdaGrad step seems to use the accumulator before adding this step's g**2."),
    "adamw_as_l2": (
        "the AdamW decay seems folded into the gradient: that is Adam with L2, not "
        "decoupled weight decay."),
    "decay_after_step": (
        "the weight decay seems applied to the already-updated weight; decay the weight "
        "from before the step: w - lr*update - lr*weight_decay*w."),
    "decay_not_scaled_by_lr": (
        "the decoupled decay seems not scaled by the learning rate: subtract "
        "lr * weight_decay * w."),
    "l2_as_decoupled": (
        "Adam with L2 seems implemented as decoupled decay; L2 adds weight_decay * w to the "
        "gradient before the moments are updated."),
    "flipnet_loss_summed": (
        "the loss seems summed instead of averaged: use torch.mean((model(x) - y) ** 2)."),
    "epoch_loss_not_averaged": (
        "each epoch's loss should be the mean over the 16 steps, not their sum."),
    "missing_zero_grad": (
        "gradients seem to accumulate across steps: call optimizer.zero_grad() before "
        "each backward()."),
    "flipnets_not_identical": (
        "the two FlipNets do not seem to start from identical weights: copy the first "
        "model's weights into the second (load_state_dict or copy.deepcopy)."),
    "warmup_off_by_one": (
        "the warmup looks off by one step: the rate is lr_max * step / warmup_steps, 0 at "
        "step 0 and lr_max at step warmup_steps."),
    "cosine_ignores_lr_min": (
        "the cosine part seems to ignore lr_min: lr_min + 0.5*(lr_max - lr_min)*(1 + cos(...))."),
    "clip_per_tensor": (
        "the gradients seem clipped tensor by tensor; clip_grad_norm uses one global norm "
        "over all of them."),
    "biases_in_decay_group": (
        "biases or normalisation parameters (ndim < 2) are in the decay group; they belong "
        "in the group with weight_decay 0."),
    "decay_group_missing_params": (
        "some parameters are missing from the groups or appear twice; every parameter "
        "must appear exactly once."),
    "gb_as_gib": (
        "the sizes look computed in GiB (2**30 bytes); the contract uses GB = 1e9 bytes."),
    "lion_sign_of_momentum": (
        "Lion's update should be the sign of beta1*m + (1-beta1)*grad, computed before m is "
        "updated with beta2."),
    "lamb_trust_ratio_per_element": (
        "LAMB's trust ratio is one number per array (norm(w) / norm(u)), not per element."),
    "lamb_no_trust_ratio": (
        "LAMB's trust ratio norm(w) / norm(u) seems missing."),
    "adafactor_no_normalisation": (
        "the factored estimate must be divided by the mean of the row statistics."),
    "adafactor_rows_cols_swapped": (
        "rows and columns look swapped: row statistics are means over axis 1."),
}


def _adam(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, bc1=True, bc2=True,
          t_shift=0, eps_inside=False, square="sq"):
    g = f64(g)
    g2 = {"sq": g * g, "abs": np.abs(g), "raw": g}[square]
    m_new = beta1 * f64(m) + (1 - beta1) * g
    v_new = beta2 * f64(v) + (1 - beta2) * g2
    tt = t + t_shift
    with np.errstate(all="ignore"):
        m_hat = m_new / f64(1 - beta1**tt) if bc1 else m_new
        v_hat = v_new / f64(1 - beta2**tt) if bc2 else v_new
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return f64(w) - lr * m_hat / denom, m_new, v_new


def _adam_family(**flags) -> Callable:
    return lambda w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8: _adam(
        w, g, m, v, t, lr, beta1, beta2, eps, **flags)


ADAM_VARIANTS: dict[str, Callable] = {
    "bias_correction_missing": _adam_family(bc1=False, bc2=False),
    "bias_correction_off_by_one": _adam_family(t_shift=1),
    "bias_correction_off_by_one#2": _adam_family(t_shift=-1),
    "one_moment_corrected": _adam_family(bc2=False),
    "one_moment_corrected#2": _adam_family(bc1=False),
    "eps_inside_sqrt": _adam_family(eps_inside=True),
    "v_from_abs_grad": _adam_family(square="abs"),
    "v_from_grad": _adam_family(square="raw"),
}
"""A key ``label#2`` registers a second variant under the same label."""


def _decay_variant(mode: str) -> Callable:
    def step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        w, g = f64(w), f64(g)
        if mode == "l2":
            return _adam(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps)
        w_adam, m_new, v_new = _adam(w, g, m, v, t, lr, beta1, beta2, eps)
        if mode == "decoupled":
            return w_adam - lr * weight_decay * w, m_new, v_new
        if mode == "after":
            return w_adam - lr * weight_decay * w_adam, m_new, v_new
        if mode == "after_mul":
            return w_adam * (1 - lr * weight_decay), m_new, v_new
        if mode == "unscaled":
            return w_adam - weight_decay * w, m_new, v_new
        raise KeyError(mode)

    return step


def _with_adam_bugs(kind: str) -> dict[str, Callable]:
    """The Adam mistakes carried into adam_l2_step / adamw_step written from scratch."""
    out = {}
    for label, flags in (("bias_correction_missing", {"bc1": False, "bc2": False}),
                         ("bias_correction_off_by_one", {"t_shift": 1}),
                         ("eps_inside_sqrt", {"eps_inside": True})):
        def step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
                 _flags=flags):
            w, g = f64(w), f64(g)
            if kind == "l2":
                return _adam(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps, **_flags)
            w_adam, m_new, v_new = _adam(w, g, m, v, t, lr, beta1, beta2, eps, **_flags)
            return w_adam - lr * weight_decay * w, m_new, v_new

        out[label] = step
    return out


def _rmsprop(swap=False, eps_inside=False, square="sq", bias=False) -> Callable:
    def step(w, g, v, lr, rho=0.9, eps=1e-8, _t=1):
        g = f64(g)
        g2 = {"sq": g * g, "abs": np.abs(g), "raw": g}[square]
        a, b = (1 - rho, rho) if swap else (rho, 1 - rho)
        v_new = a * f64(v) + b * g2
        use = v_new / (1 - rho) if bias else v_new
        with np.errstate(all="ignore"):
            denom = np.sqrt(use + eps) if eps_inside else np.sqrt(use) + eps
            return f64(w) - lr * g / denom, v_new

    return step


def _adagrad(square="sq", eps_inside=False, old=False) -> Callable:
    def step(w, g, acc, lr, eps=1e-8):
        g = f64(g)
        g2 = {"sq": g * g, "abs": np.abs(g), "raw": g}[square]
        a_new = f64(acc) + g2
        use = f64(acc) if old else a_new
        with np.errstate(all="ignore"):
            denom = np.sqrt(use + eps) if eps_inside else np.sqrt(use) + eps
            return f64(w) - lr * g / denom, a_new

    return step


def _momentum(mode: str) -> Callable:
    def step(w, g, vel, lr, beta=0.9):
        g, vel = f64(g), f64(vel)
        if mode == "dampened":
            v_new = beta * vel + (1 - beta) * g
            return f64(w) - lr * v_new, v_new
        v_new = beta * vel - lr * g
        return f64(w) + v_new, v_new

    return step


def _lion_sign_of_m(w, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    w, g, m = f64(w), f64(g), f64(m)
    m_new = beta2 * m + (1 - beta2) * g
    return w - lr * (np.sign(m_new) + weight_decay * w), m_new


def _lamb(mode: str) -> Callable:
    def step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
        w, g = f64(w), f64(g)
        m_new = beta1 * f64(m) + (1 - beta1) * g
        v_new = beta2 * f64(v) + (1 - beta2) * g * g
        u = (m_new / (1 - beta1**t)) / (np.sqrt(v_new / (1 - beta2**t)) + eps) + weight_decay * w
        with np.errstate(all="ignore"):
            ratio = np.abs(w) / np.abs(u) if mode == "elementwise" else 1.0
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
        if step < warmup_steps:
            return lr_max * step / warmup_steps
        if step >= total_steps:
            return lr_min if mode != "no_min" else 0.0
        frac = (step - warmup_steps) / (total_steps - warmup_steps)
        if mode == "no_min":
            return 0.5 * lr_max * (1 + math.cos(math.pi * frac))
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * frac))

    return lr_at


def _clip_per_tensor(grads, max_norm):
    out = []
    for g in grads:
        n = float(np.sqrt(np.sum(f64(g) ** 2)))
        out.append(f64(g) * min(1.0, max_norm / (n + 1e-6)))
    total = float(np.sqrt(sum(np.sum(f64(g) ** 2) for g in grads)))
    return out, total


VARIANTS: dict[str, dict[str, Callable]] = {
    "momentum_step": {"momentum_dampened": _momentum("dampened"),
                      "momentum_other_convention": _momentum("lr_inside")},
    "adagrad_step": {"adagrad_accumulates_grad": _adagrad(square="raw"),
                     "adagrad_accumulates_grad#2": _adagrad(square="abs"),
                     "eps_inside_sqrt": _adagrad(eps_inside=True),
                     "adagrad_old_accumulator": _adagrad(old=True)},
    "rmsprop_step": {"rho_swapped": _rmsprop(swap=True),
                     "eps_inside_sqrt": _rmsprop(eps_inside=True),
                     "v_from_abs_grad": _rmsprop(square="abs"),
                     "v_from_grad": _rmsprop(square="raw"),
                     "rmsprop_bias_corrected": _rmsprop(bias=True)},
    "adam_step": ADAM_VARIANTS,
    "adam_l2_step": {"l2_as_decoupled": _decay_variant("decoupled"),
                     **_with_adam_bugs("l2")},
    "adamw_step": {"adamw_as_l2": _decay_variant("l2"),
                   "decay_after_step": _decay_variant("after"),
                   "decay_after_step#2": _decay_variant("after_mul"),
                   "decay_not_scaled_by_lr": _decay_variant("unscaled"),
                   **_with_adam_bugs("decoupled")},
    "lion_step": {"lion_sign_of_momentum": _lion_sign_of_m},
    "lamb_step": {"lamb_trust_ratio_per_element": _lamb("elementwise"),
                  "lamb_no_trust_ratio": _lamb("none")},
    "factored_second_moment": {"adafactor_no_normalisation": _factored("plain"),
                               "adafactor_rows_cols_swapped": _factored("swapped")},
    "warmup_cosine_lr": {"warmup_off_by_one": _warmup_variant("off_by_one"),
                         "warmup_off_by_one#2": _warmup_variant("off_by_one_le"),
                         "cosine_ignores_lr_min": _warmup_variant("no_min")},
    "clip_grad_norm": {"clip_per_tensor": _clip_per_tensor},
}


def label_of(key: str) -> str:
    """The diagnosis label of a VARIANTS key (``label#2`` -> ``label``)."""
    return key.split("#")[0]


def sentence(label: str) -> str:
    """The student-facing sentence for a diagnosis label ("" when unknown)."""
    return DIAGNOSES.get(label_of(label), "")
