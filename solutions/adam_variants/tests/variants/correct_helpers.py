# ruff: noqa: F821 - completed by the solution's other definitions (solutions/adam_variants/tests/test_checks.py)
"""Correct solution, style: small helpers reused everywhere, positional-free calls."""

import math

import numpy as np
import torch


def ema(old, new, beta):
    """Exponential moving average beta * old + (1 - beta) * new."""
    return beta * old + (1 - beta) * new


def debias(moment, beta, t):
    return moment / bias_correction(beta, t)


def bias_correction(beta, t):
    return 1.0 - math.pow(beta, t)


def adam_moments(grad, m, v, beta1, beta2):
    return ema(m, grad, beta1), ema(v, np.square(grad), beta2)


def adam_direction(m_new, v_new, t, beta1, beta2, eps):
    return debias(m_new, beta1, t) / (np.sqrt(debias(v_new, beta2, t)) + eps)


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new, v_new = adam_moments(grad, m, v, beta1, beta2)
    return w - lr * adam_direction(m_new, v_new, t, beta1, beta2, eps), m_new, v_new


def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    return adam_step(
        w=w, grad=grad + weight_decay * w, m=m, v=v, t=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps
    )


def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    m_new, v_new = adam_moments(grad, m, v, beta1, beta2)
    update = adam_direction(m_new, v_new, t, beta1, beta2, eps) + weight_decay * w
    return w - lr * update, m_new, v_new


def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    v_new = ema(v, np.square(grad), rho)
    return w - lr * grad / (np.sqrt(v_new) + eps), v_new


def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    rows, w, m, v = [], w0, 0.0, 0.0
    for t in range(1, steps + 1):
        g = 2.0 * w
        m, v = adam_moments(g, m, v, beta1, beta2)
        step = lr * adam_direction(m, v, t, beta1, beta2, eps)
        w = w - step
        rows.append(
            dict(
                t=t,
                grad=g,
                m=m,
                v=v,
                m_hat=debias(m, beta1, t),
                v_hat=debias(v, beta2, t),
                step=step,
                w=w,
            )
        )
    return [{k: float(x) for k, x in row.items()} for row in rows]


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    def sgd(w, g, state, t):
        return sgd_step(w, g, lr), state

    def mom(w, g, state, t):
        w, vel = momentum_step(w, g, state.get("v", np.zeros(2)), lr, **hparams)
        return w, {"v": vel}

    def rms(w, g, state, t):
        w, v = rmsprop_step(w, g, state.get("v", np.zeros(2)), lr, **hparams)
        return w, {"v": v}

    def adam(w, g, state, t):
        w, m, v = adam_step(
            w, g, state.get("m", np.zeros(2)), state.get("v", np.zeros(2)), t, lr, **hparams
        )
        return w, {"m": m, "v": v}

    step = {"sgd": sgd, "momentum": mom, "rmsprop": rms, "adam": adam}[optimizer]
    w, state, path = np.asarray(start, dtype=float), {}, []
    path.append(w)
    for t in range(1, steps + 1):
        w, state = step(w, np.asarray(rosenbrock_grad(*w)), state, t)
        path.append(w)
    return np.stack(path)


def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    if step >= total_steps:
        return float(lr_min)
    if step < warmup_steps:
        return lr_max * (step / warmup_steps)
    cos = math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps))
    return float(lr_min + (lr_max - lr_min) * (1 + cos) / 2)


def decay_param_groups(model, weight_decay):
    groups = {True: [], False: []}
    for _, p in model.named_parameters():
        groups[p.dim() >= 2].append(p)
    return [
        dict(params=groups[True], weight_decay=weight_decay),
        dict(params=groups[False], weight_decay=0.0),
    ]


def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    direction = np.sign(ema(m, grad, beta1))
    return w - lr * direction - lr * weight_decay * w, ema(m, grad, beta2)


def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    m_new, v_new = adam_moments(grad, m, v, beta1, beta2)
    u = adam_direction(m_new, v_new, t, beta1, beta2, eps) + weight_decay * w
    w_norm = float(np.sqrt(np.sum(np.square(w))))
    u_norm = float(np.sqrt(np.sum(np.square(u))))
    trust = 1.0 if w_norm == 0 or u_norm == 0 else w_norm / u_norm
    return w - lr * trust * u, m_new, v_new


def make_flip_data():
    images = [[a, b, c, d] for a in (0, 1) for b in (0, 1) for c in (0, 1) for d in (0, 1)]
    X = torch.tensor(images, dtype=torch.float32)
    Y = torch.stack([X[:, 3], X[:, 2], X[:, 1], X[:, 0]], dim=1)
    return X, Y
