# ruff: noqa  (student code, written the way students write it; not linted)
"""q2 with torch tensors inside."""


# %% adagrad_step
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    w_t = torch.tensor(np.asarray(w, dtype=np.float64))
    g_t = torch.tensor(np.asarray(grad, dtype=np.float64))
    a_t = torch.tensor(np.asarray(accum, dtype=np.float64))
    a_t = a_t + g_t.pow(2)
    w_t = w_t - lr * g_t / (torch.sqrt(a_t) + eps)
    if w_t.dim() == 0:
        return w_t.item(), a_t.item()
    return w_t.numpy(), a_t.numpy()
