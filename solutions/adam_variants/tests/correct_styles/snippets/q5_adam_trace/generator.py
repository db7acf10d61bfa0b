# ruff: noqa  (student code, written the way students write it; not linted)
"""q5 as a generator of rows collected into a list; the step from the formula."""


# %% adam_trace
def _adam_rows(w, lr, steps, beta1, beta2, eps):
    m = v = 0.0
    t = 0
    while t < steps:
        t += 1
        g = 2.0 * w
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g**2
        m_hat, v_hat = m / (1.0 - beta1**t), v / (1.0 - beta2**t)
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
        w = w - step
        yield dict(t=t, grad=g, m=m, v=v, m_hat=m_hat, v_hat=v_hat, step=step, w=w)


def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    return [
        {key: float(val) for key, val in row.items()}
        for row in _adam_rows(float(w0), lr, steps, beta1, beta2, eps)
    ]
