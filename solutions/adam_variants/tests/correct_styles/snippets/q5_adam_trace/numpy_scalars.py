# ruff: noqa  (student code, written the way students write it; not linted)
"""q5 on 0-d float64 arrays, the step taken with adam_step, values read with .item()."""


# %% adam_trace
def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    w = np.float64(w0)
    m = np.zeros(())
    v = np.zeros(())
    out = []
    for t in range(1, steps + 1):
        g = 2.0 * w
        w_after, m, v = adam_step(w, g, m, v, t, lr, beta1, beta2, eps)
        out.append(
            {
                "t": float(t),
                "grad": np.asarray(g).item(),
                "m": np.asarray(m).item(),
                "v": np.asarray(v).item(),
                "m_hat": np.asarray(m / bias_correction(beta1, t)).item(),
                "v_hat": np.asarray(v / bias_correction(beta2, t)).item(),
                "step": np.asarray(w - w_after).item(),
                "w": np.asarray(w_after).item(),
            }
        )
        w = w_after
    return out
