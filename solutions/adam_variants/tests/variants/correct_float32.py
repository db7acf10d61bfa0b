# completed by the solution's other definitions (solutions/adam_variants/tests/test_checks.py)
"""Correct solution, style: keep the inputs' precision (float32 stays float32 throughout),
cast every constant to the working dtype; FlipNet losses accumulated as float32 tensors."""

import numpy as np
import torch


def _dtype(*xs):
    return np.result_type(*[np.asarray(x) for x in xs], np.float32)


def _c(value, dt):
    return np.asarray(value, dtype=dt)


def momentum_step(w, grad, velocity, lr, beta=0.9):
    dt = _dtype(w, grad, velocity)
    v = _c(beta, dt) * np.asarray(velocity, dt) + np.asarray(grad, dt)
    return np.asarray(w, dt) - _c(lr, dt) * v, v


def adagrad_step(w, grad, accum, lr, eps=1e-8):
    dt = _dtype(w, grad, accum)
    g = np.asarray(grad, dt)
    acc = np.asarray(accum, dt) + g * g
    return np.asarray(w, dt) - _c(lr, dt) * g / (np.sqrt(acc) + _c(eps, dt)), acc


def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    dt = _dtype(w, grad, v)
    g = np.asarray(grad, dt)
    v_new = _c(rho, dt) * np.asarray(v, dt) + _c(1 - rho, dt) * g * g
    return np.asarray(w, dt) - _c(lr, dt) * g / (np.sqrt(v_new) + _c(eps, dt)), v_new


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    dt = _dtype(w, grad, m, v)
    g = np.asarray(grad, dt)
    m_new = _c(beta1, dt) * np.asarray(m, dt) + _c(1 - beta1, dt) * g
    v_new = _c(beta2, dt) * np.asarray(v, dt) + _c(1 - beta2, dt) * g * g
    m_hat = m_new / _c(1 - beta1**t, dt)
    v_hat = v_new / _c(1 - beta2**t, dt)
    return np.asarray(w, dt) - _c(lr, dt) * m_hat / (np.sqrt(v_hat) + _c(eps, dt)), m_new, v_new


def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    dt = _dtype(w, grad)
    g = np.asarray(grad, dt) + _c(weight_decay, dt) * np.asarray(w, dt)
    return adam_step(w, g, m, v, t, lr, beta1, beta2, eps)


def train_flipnet(model, optimizer, X, Y, epochs=30):
    out = []
    for _ in range(epochs):
        total = torch.zeros((), dtype=torch.float32)
        for i in range(X.shape[0]):
            optimizer.zero_grad()
            loss = ((model(X[i]) - Y[i]) ** 2).mean()
            loss.backward()
            optimizer.step()
            total = total + loss.detach().cpu()
        out.append(float(total / X.shape[0]))
    return out
