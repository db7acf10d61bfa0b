# ruff: noqa  (student code, written the way students write it; not linted)
"""q5 with a small class that holds the optimizer state and records each step."""


# %% adam_trace
class AdamOnParabola:
    """Adam on f(w) = w**2; ``advance`` makes one step and returns its record."""

    KEYS = ("t", "grad", "m", "v", "m_hat", "v_hat", "step", "w")

    def __init__(self, w0, lr, beta1, beta2, eps):
        self.w, self.m, self.v, self.t = float(w0), 0.0, 0.0, 0
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps

    def advance(self):
        self.t += 1
        grad = 2.0 * self.w
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad * grad
        m_hat = self.m / bias_correction(self.beta1, self.t)
        v_hat = self.v / bias_correction(self.beta2, self.t)
        step = self.lr * m_hat / (math.sqrt(v_hat) + self.eps)
        self.w -= step
        values = (self.t, grad, self.m, self.v, m_hat, v_hat, step, self.w)
        return {k: float(x) for k, x in zip(self.KEYS, values, strict=True)}


def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    opt = AdamOnParabola(w0, lr, beta1, beta2, eps)
    return [opt.advance() for _ in range(steps)]
