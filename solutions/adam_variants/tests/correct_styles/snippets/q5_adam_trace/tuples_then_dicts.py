# ruff: noqa  (student code, written the way students write it; not linted)
"""q5: collect tuples first, turn them into dicts at the end; prints the last row."""

# %% adam_trace
TRACE_KEYS = ["t", "grad", "m", "v", "m_hat", "v_hat", "step", "w"]


def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    history = []
    state = {"w": w0, "m": 0.0, "v": 0.0}
    for i in range(steps):
        t = i + 1
        g = 2 * state["w"]
        w_next, m_next, v_next = adam_step(
            state["w"], g, state["m"], state["v"], t, lr, beta1, beta2, eps
        )
        m_hat = m_next / bias_correction(beta1, t)
        v_hat = v_next / bias_correction(beta2, t)
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append((t, g, m_next, v_next, m_hat, v_hat, step, w_next))
        state = {"w": w_next, "m": m_next, "v": v_next}
    table = [dict(zip(TRACE_KEYS, map(float, row), strict=True)) for row in history]
    return table
