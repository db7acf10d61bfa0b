# ruff: noqa  (student code, written the way students write it; not linted)
"""q2: math for plain floats, numpy for everything else."""


# %% adagrad_step
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    if all(isinstance(x, float) for x in (w, grad, accum)):
        accum_new = accum + grad * grad
        return w - lr * grad / (math.sqrt(accum_new) + eps), accum_new
    accum_new = np.add(accum, np.power(grad, 2))
    return np.subtract(w, lr * np.divide(grad, np.sqrt(accum_new) + eps)), accum_new
