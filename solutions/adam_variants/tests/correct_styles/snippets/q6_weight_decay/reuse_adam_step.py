# ruff: noqa  (student code, written the way students write it; not linted)
"""q6 through adam_step: L2 in the gradient; AdamW as the Adam step minus the decay."""


# %% adam_l2_step
def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    return adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, beta2, eps)


# %% adamw_step
def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return w_adam - lr * weight_decay * w, m_new, v_new
