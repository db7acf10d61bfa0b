# ruff: noqa: F821 - completed by the solution's other definitions (solutions/adam_variants/tests/test_checks.py)
"""Correct solution, style: vectorised NumPy (padding, einsum, concatenation, bit tricks)."""

import numpy as np
import torch


def clip_grad_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g).astype(float) for g in grads])
    total = float(np.linalg.norm(flat))
    scale = np.minimum(1.0, max_norm / (total + 1e-6))
    return [np.asarray(g, dtype=float) * scale for g in grads], total


def adam_memory_gb(n_params, mixed_precision=False):
    keys = np.array(["weights", "adam_m", "adam_v", "grads"])
    width = np.array([2, 4, 4, 2] if mixed_precision else [4, 4, 4, 4], dtype=float)
    gb = n_params * width / 1e9
    out = {str(k): float(x) for k, x in zip(keys, gb, strict=True)}
    out["total"] = float(gb.sum())
    return out


def make_flip_data():
    bits = (np.arange(16)[:, None] >> np.array([3, 2, 1, 0])) & 1
    X = torch.from_numpy(bits.astype(np.float32))
    return X, torch.flip(X, dims=[1])


def rosenbrock(x, y):
    return float(np.square(1 - x) + 100 * np.square(y - np.square(x)))


def rosenbrock_grad(x, y):
    r = y - x * x
    return float(2 * (x - 1) - 400 * x * r), float(200 * r)


def factored_second_moment(grad_sq, row, col, beta2=0.999):
    n, k = grad_sq.shape
    row_new = beta2 * row + (1 - beta2) * np.einsum("ij->i", grad_sq) / k
    col_new = beta2 * col + (1 - beta2) * np.einsum("ij->j", grad_sq) / n
    return np.einsum("i,j->ij", row_new, col_new) / row_new.mean(), row_new, col_new


def quantize_blockwise(x, block=64):
    flat = np.asarray(x, dtype=float).ravel()
    n_blocks = -(-flat.size // block)
    padded = np.zeros(n_blocks * block)
    padded[: flat.size] = flat
    blocks = padded.reshape(n_blocks, block)
    scales = np.abs(blocks).max(axis=1)
    safe = np.where(scales == 0, 1.0, scales)[:, None]
    codes = np.rint(blocks / safe * 127).clip(-127, 127).astype(np.int8).ravel()[: flat.size]
    return codes, scales


def dequantize_blockwise(codes, scales, shape, block=64):
    codes = np.asarray(codes, dtype=float)
    n_blocks = len(scales)
    padded = np.zeros(n_blocks * block)
    padded[: codes.size] = codes
    values = padded.reshape(n_blocks, block) * (np.asarray(scales, dtype=float)[:, None] / 127)
    return values.ravel()[: codes.size].reshape(tuple(shape))


def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    c = np.interp(beta1, [0, 1], [0, 1]) * m + (1 - beta1) * grad
    return w * (1 - lr * weight_decay) - lr * np.sign(c), beta2 * m + (1 - beta2) * grad


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    path = np.empty((steps + 1, 2))
    path[0] = start
    m = np.zeros(2)
    v = np.zeros(2)
    for t in range(1, steps + 1):
        w = path[t - 1]
        g = np.array(rosenbrock_grad(w[0], w[1]))
        if optimizer == "sgd":
            path[t] = sgd_step(w, g, lr)
        elif optimizer == "momentum":
            path[t], m = momentum_step(w, g, m, lr, **hparams)
        elif optimizer == "rmsprop":
            path[t], v = rmsprop_step(w, g, v, lr, **hparams)
        else:
            path[t], m, v = adam_step(w, g, m, v, t, lr, **hparams)
    return path
