# ruff: noqa  (student code, written the way students write it; not linted)
"""q2 with in-place updates of copies (never of the caller's arrays)."""


# %% adagrad_step
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    grad = np.asarray(grad, dtype=np.float64)
    acc = np.zeros(np.broadcast(w, grad, accum).shape)
    acc += accum
    acc += np.square(grad)
    denom = np.sqrt(acc)
    denom += eps
    w_new = np.zeros_like(acc)
    w_new += w
    w_new -= lr * grad / denom
    return w_new, acc
