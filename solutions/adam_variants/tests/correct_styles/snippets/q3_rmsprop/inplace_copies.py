# ruff: noqa  (student code, written the way students write it; not linted)
"""q3: copies first (broadcast to the common shape), then in-place arithmetic on them."""


# %% rmsprop_step
def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    w_new, g, v_new = (np.array(a, dtype=float) for a in np.broadcast_arrays(w, grad, v))
    v_new *= rho
    v_new += (1 - rho) * np.square(g)
    w_new -= lr * g / (np.sqrt(v_new) + eps)
    return w_new, v_new
