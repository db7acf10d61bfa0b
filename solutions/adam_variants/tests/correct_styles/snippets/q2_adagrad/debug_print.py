# ruff: noqa  (student code, written the way students write it; not linted)
"""q2 with a debugging print left inside the function (it runs on every call)."""


# %% adagrad_step
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    new_accum = accum + grad * grad
    step = lr * grad / (np.sqrt(new_accum) + eps)
    print("adagrad: accum =", new_accum, "step =", step)
    return w - step, new_accum
