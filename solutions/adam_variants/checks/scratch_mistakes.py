"""Known mistakes of a hand-written AdamW optimizer, simulated grader-side in torch.

:func:`run_adamw` replays the probe of ``ScratchAdamW`` (same param groups, same
gradients, float32) with an AdamW written out step by step, where each flag switches on
one known mistake. When the student's optimizer disagrees with ``torch.optim.AdamW``,
the q9 checks replay every variant of :data:`VARIANTS` and name the one that agrees with
the student everywhere. The correct behaviour itself is never taken from here: the
oracle is ``torch.optim.AdamW``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .oracles import memoised

DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}

VARIANTS: dict[str, dict[str, Any]] = {
    "decay_not_scaled_by_lr": {"decay": "unscaled"},
    "decay_after_step": {"decay": "after"},
    "adamw_as_l2": {"decay": "l2"},
    "decay_missing": {"decay": "none"},
    "bias_correction_missing": {"bias": False},
    "bias_correction_off_by_one": {"bias_shift": 1},
    "bias_correction_off_by_one#2": {"bias_shift": -1},
    "step_count_shared": {"shared_t": True},
    "eps_inside_sqrt": {"eps_mode": "inside"},
    "eps_closed_form": {"eps_mode": "closed_form"},
    "grad_none_not_skipped": {"none_grad": "zero"},
    "group_hyperparameters_ignored": {"group_hp": False},
}
"""Diagnosis label -> the flags of :func:`run_adamw` that make that one mistake (a key
``label#2`` registers a second way to make it)."""


@memoised
def run_adamw(
    groups: list[dict],
    grads: list[list[Any]],
    device: str = "cpu",
    *,
    decay: str = "decoupled",
    bias: bool = True,
    bias_shift: int = 0,
    eps_mode: str = "outside",
    none_grad: str = "skip",
    group_hp: bool = True,
    shared_t: bool = False,
) -> dict:
    """AdamW on ``groups`` / ``grads`` (as the probe receives them) with the given mistakes.

    Returns ``{"history": [[param, ...] per step], "state": [{"step", "exp_avg",
    "exp_avg_sq"} or {} per param]}`` with float64 NumPy arrays."""
    import torch

    params, settings = [], []
    for group in groups:
        hp = (
            {**DEFAULTS, **{k: v for k, v in group.items() if k != "params"}}
            if group_hp
            else dict(DEFAULTS)
        )
        for p in group["params"]:
            params.append(torch.tensor(np.asarray(p), dtype=torch.float32, device=device))
            settings.append(hp)
    state: list[dict] = [{} for _ in params]
    history = []
    counter = 0
    with torch.no_grad():
        for step_grads in grads:
            for p, g, hp, st in zip(params, step_grads, settings, state, strict=True):
                if g is None and none_grad == "skip":
                    continue
                grad = (
                    torch.zeros_like(p)
                    if g is None
                    else torch.tensor(np.asarray(g), dtype=torch.float32, device=device)
                )
                counter += 1
                _step(
                    p,
                    grad,
                    hp,
                    st,
                    decay,
                    bias,
                    bias_shift,
                    eps_mode,
                    counter if shared_t else None,
                )
            history.append([p.detach().cpu().double().numpy() for p in params])
    return {
        "history": history,
        "state": [
            {
                "step": float(st["step"]),
                "exp_avg": st["exp_avg"].cpu().double().numpy(),
                "exp_avg_sq": st["exp_avg_sq"].cpu().double().numpy(),
            }
            if st
            else {}
            for st in state
        ],
    }


def _step(
    p,
    grad,
    hp: dict,
    st: dict,
    decay: str,
    bias: bool,
    bias_shift: int,
    eps_mode: str,
    shared_step: int | None = None,
) -> None:
    import torch

    lr, (beta1, beta2), eps, wd = hp["lr"], tuple(hp["betas"]), hp["eps"], hp["weight_decay"]
    if not st:
        st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
    st["step"] = st["step"] + 1 if shared_step is None else shared_step
    t = st["step"] + bias_shift
    if decay == "decoupled":
        p.mul_(1 - lr * wd)
    elif decay == "unscaled":
        p.mul_(1 - wd)
    elif decay == "l2":
        grad = grad + wd * p
    st["exp_avg"].lerp_(grad, 1 - beta1)
    st["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bc1 = 1 - beta1**t if bias else 1.0
    bc2 = 1 - beta2**t if bias else 1.0
    if bc1 == 0 or bc2 == 0:  # t = 0: the corrections divide by zero (inf / nan, as in torch)
        p.sub_(lr * (st["exp_avg"] / bc1) / ((st["exp_avg_sq"] / bc2).sqrt() + eps))
        return
    v_hat = st["exp_avg_sq"] / bc2
    if eps_mode == "inside":
        denom = (v_hat + eps).sqrt()
    elif eps_mode == "closed_form":
        denom = v_hat.sqrt() + eps / math.sqrt(bc2)
    else:
        denom = v_hat.sqrt() + eps
    p.addcdiv_(st["exp_avg"], denom, value=-lr / bc1)
    if decay == "after":
        p.mul_(1 - lr * wd)
