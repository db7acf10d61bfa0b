# ruff: noqa  (student code, written the way students write it; not linted)
"""q3 computed in float64, answered in the dtype the caller used (float32 stays float32)."""


# %% rmsprop_step
def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    kind = np.result_type(np.asarray(w), np.asarray(grad), np.asarray(v))
    if kind.kind != "f":
        kind = np.dtype(np.float64)
    w64, g64, v64 = (np.asarray(a, dtype=np.float64) for a in (w, grad, v))
    v_next = rho * v64 + (1.0 - rho) * np.power(g64, 2)
    w_next = w64 - lr * g64 / (np.sqrt(v_next) + eps)
    return w_next.astype(kind), v_next.astype(kind)
