# completed by the solution's other definitions (solutions/adam_variants/tests/test_checks.py)
"""Correct solution, style: copy the inputs, then update the copies in place."""

import numpy as np


def _copy(x):
    return np.array(x, copy=True)


def sgd_step(w, grad, lr):
    w = _copy(w)
    w -= lr * np.asarray(grad)
    return w


def momentum_step(w, grad, velocity, lr, beta=0.9):
    v = _copy(velocity) if np.ndim(velocity) or np.ndim(w) == 0 else np.zeros_like(w) + velocity
    v *= beta
    v += grad
    w = _copy(w)
    w -= lr * v
    return w, v


def adagrad_step(w, grad, accum, lr, eps=1e-8):
    acc = _copy(accum) + np.zeros_like(np.asarray(grad))
    acc += np.square(grad)
    w = _copy(w)
    w -= lr * grad / (np.sqrt(acc) + eps)
    return w, acc


def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    v = _copy(v) + np.zeros_like(np.asarray(grad))
    v *= rho
    v += (1 - rho) * np.square(grad)
    w = _copy(w)
    w -= lr * grad / (np.sqrt(v) + eps)
    return w, v


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    zeros = np.zeros_like(np.asarray(grad))
    m = _copy(m) + zeros
    v = _copy(v) + zeros
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * np.square(grad)
    denom = np.sqrt(v / (1 - beta2**t))
    denom += eps
    w = _copy(w)
    w -= lr * (m / (1 - beta1**t)) / denom
    return w, m, v


def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    decayed = _copy(w)
    decayed *= 1 - lr * weight_decay
    w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
    decayed += w_adam - w
    return decayed, m_new, v_new


def clip_grad_norm(grads, max_norm):
    copies = [np.array(g, dtype=float, copy=True) for g in grads]
    total = float(np.sqrt(sum(float((c * c).sum()) for c in copies)))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for c in copies:
            c *= coef
    return copies, total
