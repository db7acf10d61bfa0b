# ruff: noqa  (student code, written the way students write it; not linted)
"""q3 laid out like torch.optim.RMSprop's loop (square_avg, avg), on float64 tensors."""


# %% rmsprop_step
def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    p, g, square_avg = (
        torch.tensor(np.asarray(a, dtype=np.float64)) for a in np.broadcast_arrays(w, grad, v)
    )
    square_avg.mul_(rho).addcmul_(g, g, value=1 - rho)
    avg = square_avg.sqrt().add_(eps)
    p.addcdiv_(g, avg, value=-lr)
    if p.dim() == 0:
        return p.item(), square_avg.item()
    return p.numpy(), square_avg.numpy()
