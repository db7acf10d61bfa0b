# ruff: noqa  (student code, written the way students write it; not linted)
"""q5 reusing adam_step and bias_correction; the step is the difference of weights."""


# %% adam_trace
def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    rows = []
    w, m, v = w0, 0.0, 0.0
    for t in range(1, steps + 1):
        grad = 2 * w
        w_new, m, v = adam_step(w, grad, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        rows.append(
            {
                "t": float(t),
                "grad": float(grad),
                "m": float(m),
                "v": float(v),
                "m_hat": float(m / bias_correction(beta1, t)),
                "v_hat": float(v / bias_correction(beta2, t)),
                "step": float(w - w_new),
                "w": float(w_new),
            }
        )
        w = w_new
    return rows
