import math

import numpy as np
import torch
import torch.nn as nn


# ---------------------------------------------------------------- q1_baselines
def sgd_step(w, grad, lr):
    """Plain gradient descent: w_new = w - lr * grad."""
    ### BEGIN SOLUTION
    return w - lr * grad
    ### END SOLUTION


def momentum_step(w, grad, velocity, lr, beta=0.9):
    """Heavy-ball momentum, PyTorch's convention: v = beta*v + g; w = w - lr*v."""
    ### BEGIN SOLUTION
    velocity_new = beta * velocity + grad
    return w - lr * velocity_new, velocity_new
    ### END SOLUTION


# ---------------------------------------------------------------- q2_adagrad
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    """AdaGrad: accum = accum + g**2; w = w - lr * g / (sqrt(accum) + eps)."""
    ### BEGIN SOLUTION
    accum_new = accum + grad**2
    return w - lr * grad / (np.sqrt(accum_new) + eps), accum_new
    ### END SOLUTION


# ---------------------------------------------------------------- q3_rmsprop
def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    """RMSprop: v = rho*v + (1-rho)*g**2; w = w - lr * g / (sqrt(v) + eps)."""
    ### BEGIN SOLUTION
    v_new = rho * v + (1 - rho) * grad**2
    return w - lr * grad / (np.sqrt(v_new) + eps), v_new
    ### END SOLUTION


# ---------------------------------------------------------------- q4_adam_step
def bias_correction(beta, t):
    """The divisor 1 - beta**t that removes the zero-initialisation bias."""
    ### BEGIN SOLUTION
    return 1 - beta**t
    ### END SOLUTION


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (Kingma & Ba): returns (w_new, m_new, v_new)."""
    ### BEGIN SOLUTION
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    m_hat = m_new / bias_correction(beta1, t)
    v_hat = v_new / bias_correction(beta2, t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    ### END SOLUTION


# ---------------------------------------------------------------- q5_adam_trace
def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam on f(w) = w**2, one dict per step with t, grad, m, v, m_hat, v_hat, step, w."""
    ### BEGIN SOLUTION
    w, m, v = float(w0), 0.0, 0.0
    rows = []
    for t in range(1, steps + 1):
        grad = 2 * w
        w_new, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
        rows.append({
            "t": t, "grad": float(grad), "m": float(m), "v": float(v),
            "m_hat": float(m / bias_correction(beta1, t)),
            "v_hat": float(v / bias_correction(beta2, t)),
            "step": float(w - w_new), "w": float(w_new),
        })
        w = w_new
    return rows
    ### END SOLUTION


# ---------------------------------------------------------------- q6_weight_decay
def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.01):
    """Adam with L2 folded into the gradient (torch.optim.Adam(weight_decay=...))."""
    ### BEGIN SOLUTION
    return adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, beta2, eps)
    ### END SOLUTION


def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
               weight_decay=0.01):
    """AdamW: the Adam step plus a decoupled decay lr * weight_decay * w."""
    ### BEGIN SOLUTION
    w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
    return w_adam - lr * weight_decay * w, m_new, v_new
    ### END SOLUTION


# ---------------------------------------------------------------- q7_rosenbrock
def rosenbrock(x, y):
    """f(x, y) = (1 - x)**2 + 100 (y - x**2)**2."""
    ### BEGIN SOLUTION
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    ### END SOLUTION


def rosenbrock_grad(x, y):
    """(df/dx, df/dy) of the Rosenbrock function."""
    ### BEGIN SOLUTION
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)
    ### END SOLUTION


def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    """Run one of "sgd", "momentum", "rmsprop", "adam" on Rosenbrock; return the path."""
    ### BEGIN SOLUTION
    w = np.array(start, dtype=float)
    state = [np.zeros(2), np.zeros(2)]
    path = [w.copy()]
    for t in range(1, steps + 1):
        g = np.array(rosenbrock_grad(w[0], w[1]))
        if optimizer == "sgd":
            w = sgd_step(w, g, lr)
        elif optimizer == "momentum":
            w, state[0] = momentum_step(w, g, state[0], lr, **hparams)
        elif optimizer == "rmsprop":
            w, state[0] = rmsprop_step(w, g, state[0], lr, **hparams)
        elif optimizer == "adam":
            w, state[0], state[1] = adam_step(w, g, state[0], state[1], t, lr, **hparams)
        else:
            raise ValueError(f"unknown optimizer {optimizer!r}")
        path.append(w.copy())
    return np.array(path)
    ### END SOLUTION


# ---------------------------------------------------------------- q8_flipnet
class FlipNet(nn.Module):
    """The chapter's 4-3-4 network: layer1 -> ReLU -> layer2 (31 parameters)."""

    ### BEGIN SOLUTION
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        return self.layer2(self.relu(self.layer1(x)))
    ### END SOLUTION


def make_flip_data():
    """The 16 binary 2x2 images (flattened) and their diagonal flips."""
    ### BEGIN SOLUTION
    X = torch.tensor([[a, b, c, d] for a in [0, 1] for b in [0, 1]
                      for c in [0, 1] for d in [0, 1]], dtype=torch.float32)
    return X, X[:, [3, 2, 1, 0]]
    ### END SOLUTION


def train_flipnet(model, optimizer, X, Y, epochs=30):
    """Batch size 1, samples in order; returns the mean MSE of each epoch."""
    ### BEGIN SOLUTION
    history = []
    for _ in range(epochs):
        total = 0.0
        for i in range(len(X)):
            loss = torch.mean((model(X[i]) - Y[i]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(total / len(X))
    return history
    ### END SOLUTION


def compare_optimizers(epochs=30, seed=42, device="cpu"):
    """The chapter's experiment: SGD+momentum (lr=0.05) vs Adam (lr=0.001)."""
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    model_mom = FlipNet()
    model_adam = FlipNet()
    model_adam.load_state_dict(model_mom.state_dict())
    model_mom.to(device)
    model_adam.to(device)
    X, Y = make_flip_data()
    X, Y = X.to(device), Y.to(device)
    opt_mom = torch.optim.SGD(model_mom.parameters(), lr=0.05, momentum=0.9)
    opt_adam = torch.optim.Adam(model_adam.parameters(), lr=0.001)
    return {
        "momentum": train_flipnet(model_mom, opt_mom, X, Y, epochs),
        "adam": train_flipnet(model_adam, opt_adam, X, Y, epochs),
    }
    ### END SOLUTION


# ---------------------------------------------------------------- q9_scratch_adamw
class ScratchAdamW(torch.optim.Optimizer):
    """AdamW from tensor operations, matching torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        ### BEGIN SOLUTION
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        ### END SOLUTION

    @torch.no_grad()
    def step(self, closure=None):
        ### BEGIN SOLUTION
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"].item()
                p.mul_(1 - group["lr"] * group["weight_decay"])
                state["exp_avg"].lerp_(p.grad, 1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt_().add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1**t))
        return loss
        ### END SOLUTION


# ---------------------------------------------------------------- q10_recipe
def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    """Linear warmup to lr_max, then cosine decay to lr_min at total_steps."""
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return lr_max * step / warmup_steps
    if step >= total_steps:
        return lr_min
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))
    ### END SOLUTION


def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one factor so their global L2 norm is at most max_norm."""
    ### BEGIN SOLUTION
    total_norm = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=float) ** 2) for g in grads)))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    return [np.asarray(g) * scale for g in grads], total_norm
    ### END SOLUTION


def decay_param_groups(model, weight_decay):
    """Two param groups: matrices decay, biases and norm parameters do not."""
    ### BEGIN SOLUTION
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]
    ### END SOLUTION


def adam_memory_gb(n_params, mixed_precision=False):
    """Memory of weights, Adam's m and v, and gradients, in GB (1e9 bytes)."""
    ### BEGIN SOLUTION
    low = 2 if mixed_precision else 4
    sizes = {"weights": low, "adam_m": 4, "adam_v": 4, "grads": low}
    out = {k: n_params * b / 1e9 for k, b in sizes.items()}
    out["total"] = sum(out.values())
    return out
    ### END SOLUTION


# ---------------------------------------------------------------- bonus_variants
def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    """Lion: step along the sign of an interpolated momentum."""
    ### BEGIN SOLUTION
    u = np.sign(beta1 * m + (1 - beta1) * grad)
    return w - lr * (u + weight_decay * w), beta2 * m + (1 - beta2) * grad
    ### END SOLUTION


def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    """LAMB: the Adam direction (plus decay) rescaled by the trust ratio ||w|| / ||u||."""
    ### BEGIN SOLUTION
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    u = (m_new / (1 - beta1**t)) / (np.sqrt(v_new / (1 - beta2**t)) + eps) + weight_decay * w
    w_norm, u_norm = np.linalg.norm(w), np.linalg.norm(u)
    ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
    return w - lr * ratio * u, m_new, v_new
    ### END SOLUTION


def factored_second_moment(grad_sq, row, col, beta2=0.999):
    """Adafactor: running row/column means of grad**2 and their rank-1 reconstruction."""
    ### BEGIN SOLUTION
    row_new = beta2 * row + (1 - beta2) * grad_sq.mean(axis=1)
    col_new = beta2 * col + (1 - beta2) * grad_sq.mean(axis=0)
    return np.outer(row_new, col_new) / row_new.mean(), row_new, col_new
    ### END SOLUTION


def quantize_blockwise(x, block=64):
    """int8 absmax quantisation in blocks of ``block`` values: (codes, scales)."""
    ### BEGIN SOLUTION
    flat = np.asarray(x, dtype=np.float64).ravel()
    scales = np.array([np.abs(flat[i:i + block]).max(initial=0.0)
                       for i in range(0, flat.size, block)])
    per_value = np.repeat(scales, block)[:flat.size]
    safe = np.where(per_value > 0, per_value, 1.0)
    codes = np.clip(np.round(flat / safe * 127), -127, 127).astype(np.int8)
    return codes, scales
    ### END SOLUTION


def dequantize_blockwise(codes, scales, shape, block=64):
    """Invert quantize_blockwise: codes * absmax / 127, reshaped."""
    ### BEGIN SOLUTION
    codes = np.asarray(codes, dtype=np.float64)
    per_value = np.repeat(np.asarray(scales, dtype=np.float64), block)[:codes.size]
    return (codes * per_value / 127).reshape(shape)
    ### END SOLUTION


# ---------------------------------------------------------------- q11_concepts
### BEGIN SOLUTION
ANSWER_1D_WINNER = "momentum"
ANSWER_FLIPNET_WINNER = "momentum"
ANSWER_DECOUPLED = "adamw"
### END SOLUTION
