# ruff: noqa  (student code, written the way students write it; not linted)
"""q1 with in-place arithmetic on float64 copies of the inputs (broadcast first)."""


# %% sgd_step
def sgd_step(w, grad, lr):
    shape = np.broadcast_shapes(np.shape(w), np.shape(grad))
    out = np.array(np.broadcast_to(w, shape), dtype=np.float64)  # a copy, never the caller's w
    out -= lr * np.asarray(grad, dtype=np.float64)
    return out


# %% momentum_step
def momentum_step(w, grad, velocity, lr, beta=0.9):
    shape = np.broadcast_shapes(np.shape(w), np.shape(grad), np.shape(velocity))
    vel = np.array(np.broadcast_to(velocity, shape), dtype=np.float64)
    vel *= beta
    vel += grad
    w_new = np.array(np.broadcast_to(w, shape), dtype=np.float64)
    w_new -= lr * vel
    return w_new, vel
