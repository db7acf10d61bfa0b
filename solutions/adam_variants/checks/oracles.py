"""Expected values for the hidden checks, never taken from the code under test.

Three kinds of oracle live here:

* the chapter's printed numbers (``CHAPTER_*``), transcribed from the text of the chapter
  "Adam and Its Variants" (each constant names its table);
* ``torch.optim`` / ``torch.nn.utils`` run grader-side on the same inputs
  (multi-step trajectories of SGD+momentum, Adagrad, RMSprop, Adam, Adam with
  weight decay, AdamW; Rosenbrock paths; the FlipNet experiment);
* independent NumPy formulas for single steps and for the bonus variants
  (Lion, LAMB, Adafactor's factored moment, blockwise quantisation), where
  PyTorch has no implementation.

All NumPy oracles compute in float64.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

MEMO_SIZE = 4096
"""Oracle results kept per function (the inputs of a check depend only on the grading seed,
so a grader that grades many submissions with one seed computes each oracle once)."""


def _frozen(value: Any) -> Any:
    """A hashable stand-in for plain inputs (arrays by dtype, shape and bytes)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, (float, int, str, bool, type(None), np.generic)):
        return (type(value).__name__, value)
    raise TypeError(f"cannot memoise an input of type {type(value).__name__}")


def memoised(fn: Callable) -> Callable:
    """Cache ``fn`` on its (plain) inputs; every call gets its own copy of the result."""
    cache: dict = {}

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        key = (_frozen(args), _frozen(kwargs))
        if key not in cache:
            if len(cache) >= MEMO_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = fn(*args, **kwargs)
        return copy.deepcopy(cache[key])

    return wrapper


# --------------------------------------------------------------------------- the chapter's numbers
# Section 1 comparison table ("SGD 4.2538", "SGD + Momentum 2.4421"): f(w)=w^2, w0=5, lr=0.01.
CHAPTER_SGD_W8 = 4.2538
CHAPTER_MOMENTUM_W8 = 2.4421
# The AdaGrad table: constant gradient 10 -> accumulator after n steps.
CHAPTER_ADAGRAD_TABLE = ((100, 10_000.0), (1_000, 100_000.0), (10_000, 1_000_000.0))
# "The Second Moment Bias Is Much Worse" table: 1 - beta**t, printed to 3 decimals.
CHAPTER_BIAS_TABLE = {
    0.9: {1: 0.100, 5: 0.410, 10: 0.651, 50: 0.995},
    0.999: {1: 0.001, 5: 0.005, 10: 0.010, 50: 0.049, 100: 0.095, 1000: 0.632},
}
# "Interactive: Adam Step by Step", LOOP TRACE: t, g, m, v, m_hat, v_hat, step, w.
CHAPTER_ADAM_TRACE = (
    (1, 10.000, 1.0000, 0.1000, 10.000, 100.0, 0.0100, 4.9900),
    (2, 9.980, 1.8980, 0.1995, 9.989, 99.8, 0.0100, 4.9800),
    (3, 9.960, 2.7042, 0.2985, 9.978, 99.6, 0.0100, 4.9700),
    (4, 9.940, 3.4278, 0.3970, 9.968, 99.4, 0.0100, 4.9600),
    (5, 9.920, 4.0770, 0.4950, 9.956, 99.2, 0.0100, 4.9500),
    (6, 9.900, 4.6593, 0.5926, 9.943, 99.0, 0.0100, 4.9400),
    (7, 9.880, 5.1814, 0.6897, 9.931, 98.8, 0.0100, 4.9300),
    (8, 9.860, 5.6492, 0.7863, 9.919, 98.6, 0.0100, 4.9200),
)
# Half-width of the printed rounding per trace column (t, g, m, v, m_hat, v_hat, step, w).
# m_hat gets 1.2e-3: the printed m_hat of steps 3, 4, 6, 7 is off by up to 9e-4 from
# m / (1 - 0.9**t) (e.g. t=4: 3.4278 / 0.3439 = 9.9674, printed 9.968), and the printed v of
# steps 6-8 is up to 2.2e-4 too large (t=8: 0.78609, printed 0.7863): chapter errata.
CHAPTER_TRACE_TOL = (0, 6e-4, 6e-5, 3e-4, 1.2e-3, 6e-2, 6e-5, 6e-5)
TRACE_KEYS = ("t", "grad", "m", "v", "m_hat", "v_hat", "step", "w")
# The memory table for a 7B model (GB): fp32 and mixed precision.
CHAPTER_MEMORY_7B = {
    False: {"weights": 28.0, "adam_m": 28.0, "adam_v": 28.0, "grads": 28.0, "total": 112.0},
    True: {"weights": 14.0, "adam_m": 28.0, "adam_v": 28.0, "grads": 14.0, "total": 84.0},
}


def f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------- NumPy step formulas
def sgd(w, g, lr):
    """w - lr g."""
    return f64(w) - lr * f64(g)


def momentum(w, g, vel, lr, beta=0.9):
    """PyTorch heavy ball: v' = beta v + g, w' = w - lr v'."""
    v_new = beta * f64(vel) + f64(g)
    return f64(w) - lr * v_new, v_new


def adagrad(w, g, acc, lr, eps=1e-8):
    """A' = A + g^2, w' = w - lr g / (sqrt(A') + eps)."""
    a_new = f64(acc) + f64(g) ** 2
    return f64(w) - lr * f64(g) / (np.sqrt(a_new) + eps), a_new


def rmsprop(w, g, v, lr, rho=0.9, eps=1e-8):
    """v' = rho v + (1-rho) g^2, w' = w - lr g / (sqrt(v') + eps)."""
    v_new = rho * f64(v) + (1 - rho) * f64(g) ** 2
    return f64(w) - lr * f64(g) / (np.sqrt(v_new) + eps), v_new


def adam(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
    w' = w - lr (m'/(1-b1^t)) / (sqrt(v'/(1-b2^t)) + eps)."""
    g = f64(g)
    m_new = beta1 * f64(m) + (1 - beta1) * g
    v_new = beta2 * f64(v) + (1 - beta2) * g * g
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return f64(w) - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new


def adam_l2(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """Adam on g + wd * w (torch.optim.Adam(weight_decay=wd))."""
    return adam(w, f64(g) + weight_decay * f64(w), m, v, t, lr, beta1, beta2, eps)


def adamw(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """Adam step minus lr * wd * w, with w the weight before the step."""
    w_adam, m_new, v_new = adam(w, g, m, v, t, lr, beta1, beta2, eps)
    return w_adam - lr * weight_decay * f64(w), m_new, v_new


def adam_trace_rows(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8) -> list[dict]:
    """Adam on f(w)=w^2 (grad 2w) from :func:`adam`, one dict per step with the trace's keys."""
    w, m, v = float(w0), 0.0, 0.0
    rows = []
    for t in range(1, steps + 1):
        g = 2.0 * w
        w_new, m, v = (float(x) for x in adam(w, g, m, v, t, lr, beta1, beta2, eps))
        rows.append(
            {
                "t": t,
                "grad": g,
                "m": m,
                "v": v,
                "m_hat": m / (1 - beta1**t),
                "v_hat": v / (1 - beta2**t),
                "step": w - w_new,
                "w": w_new,
            }
        )
        w = w_new
    return rows


def lion(w, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    """u = sign(b1 m + (1-b1) g); w' = w - lr (u + wd w); m' = b2 m + (1-b2) g."""
    w, g, m = f64(w), f64(g), f64(m)
    u = np.sign(beta1 * m + (1 - beta1) * g)
    return w - lr * (u + weight_decay * w), beta2 * m + (1 - beta2) * g


def lamb(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01):
    """LAMB with one trust ratio ||w|| / ||u|| over the whole array, written with torch."""
    import torch

    wt, gt = torch.as_tensor(f64(w)), torch.as_tensor(f64(g))
    m_new = torch.as_tensor(f64(m)).mul(beta1).add(gt, alpha=1 - beta1)
    v_new = torch.as_tensor(f64(v)).mul(beta2).addcmul(gt, gt, value=1 - beta2)
    u = (m_new / (1 - beta1**t)) / ((v_new / (1 - beta2**t)).sqrt() + eps) + weight_decay * wt
    wn, un = torch.linalg.vector_norm(wt).item(), torch.linalg.vector_norm(u).item()
    ratio = wn / un if wn > 0 and un > 0 else 1.0
    return (wt - lr * ratio * u).numpy(), m_new.numpy(), v_new.numpy()


def factored(grad_sq, row, col, beta2=0.999):
    """Running row/column means of grad^2; v ~ outer(row, col) / mean(row), with explicit loops."""
    gs = f64(grad_sq)
    n, k = gs.shape
    row_new = np.array([beta2 * float(row[i]) + (1 - beta2) * sum(gs[i, :]) / k for i in range(n)])
    col_new = np.array([beta2 * float(col[j]) + (1 - beta2) * sum(gs[:, j]) / n for j in range(k)])
    mean = sum(row_new) / n
    v = np.array([[row_new[i] * col_new[j] / mean for j in range(k)] for i in range(n)])
    return v, row_new, col_new


def block_absmax(x, block: int) -> np.ndarray:
    """Each block's absolute maximum, by explicit slicing of the flat array."""
    flat = f64(x).reshape(-1)
    return np.array(
        [float(np.max(np.abs(flat[i : i + block]))) for i in range(0, flat.size, block)]
    )


# --------------------------------------------------------------------------- schedules and clipping
def warmup_cosine(step, lr_max, total_steps, warmup_steps, lr_min=0.0) -> float:
    """Linear warmup 0 -> lr_max, cosine lr_max -> lr_min, then lr_min."""
    if step < warmup_steps:
        return lr_max * step / warmup_steps
    if step >= total_steps:
        return lr_min
    frac = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * frac))


@memoised
def torch_clip(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """torch.nn.utils.clip_grad_norm_ on float64 copies of ``grads``."""
    import torch

    params = []
    for g in grads:
        p = torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True)
        p.grad = torch.as_tensor(f64(g)).clone()
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy().copy() for p in params], float(total)


def memory_gb(n_params: float, mixed_precision: bool = False) -> dict[str, float]:
    """Bytes per value: weights/grads 4 (2 mixed), m and v 4; GB = 1e9 bytes."""
    low = 2 if mixed_precision else 4
    out = {
        "weights": n_params * low / 1e9,
        "adam_m": n_params * 4 / 1e9,
        "adam_v": n_params * 4 / 1e9,
        "grads": n_params * low / 1e9,
    }
    out["total"] = sum(out.values())
    return out


# --------------------------------------------------------------------------- torch.optim trajectories
_STATE_KEYS = {
    "momentum": ("momentum_buffer",),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg",),
    "adam": ("exp_avg", "exp_avg_sq"),
    "adam_l2": ("exp_avg", "exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq"),
}


def _make_torch_opt(kind: str, params, hp: dict):
    import torch

    if kind == "momentum":
        return torch.optim.SGD(params, lr=hp["lr"], momentum=hp.get("beta", 0.9))
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=hp["lr"], eps=hp.get("eps", 1e-8))
    if kind == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=hp["lr"], alpha=hp.get("rho", 0.9), eps=hp.get("eps", 1e-8)
        )
    betas = (hp.get("beta1", 0.9), hp.get("beta2", 0.999))
    common = {"lr": hp.get("lr", 1e-3), "betas": betas, "eps": hp.get("eps", 1e-8)}
    if kind == "adam":
        return torch.optim.Adam(params, **common)
    if kind == "adam_l2":
        return torch.optim.Adam(params, weight_decay=hp.get("weight_decay", 0.01), **common)
    if kind == "adamw":
        return torch.optim.AdamW(params, weight_decay=hp.get("weight_decay", 0.01), **common)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=hp["lr"])
    raise KeyError(kind)


@memoised
def torch_trajectory(
    kind: str, w0: np.ndarray, grads: list[np.ndarray], hp: dict
) -> list[list[np.ndarray]]:
    """Run torch.optim ``kind`` in float64 on pre-drawn gradients.

    Returns, per step, ``[w, *state]`` in the order of the contract's return
    tuple (momentum: velocity; adagrad: accum; rmsprop: v; adam*: m, v).
    """
    import torch

    p = torch.tensor(f64(w0), dtype=torch.float64, requires_grad=True)
    opt = _make_torch_opt(kind, [p], hp)
    out = []
    for g in grads:
        p.grad = torch.tensor(f64(g), dtype=torch.float64)
        opt.step()
        state = opt.state[p]
        out.append(
            [
                p.detach().numpy().copy(),
                *[state[k].detach().numpy().copy() for k in _STATE_KEYS[kind]],
            ]
        )
    return out


def rosenbrock_f(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_grad(x: float, y: float) -> tuple[float, float]:
    """Gradient by torch autograd (independent of any hand-derived formula)."""
    import torch

    p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    rosenbrock_f(p[0], p[1]).backward()
    return float(p.grad[0]), float(p.grad[1])


@memoised
def torch_rosenbrock_path(
    optimizer: str, lr: float, steps: int, start: tuple[float, float], hp: dict
) -> np.ndarray:
    """The path of torch.optim on Rosenbrock (autograd gradients), start first."""
    import torch

    kind = {"sgd": "sgd", "momentum": "momentum", "rmsprop": "rmsprop", "adam": "adam"}[optimizer]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = _make_torch_opt(kind, [p], {"lr": lr, **hp})
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        rosenbrock_f(p[0], p[1]).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


@memoised
def torch_adamw(groups: list[dict], grads: list[list], device: str) -> dict:
    """torch.optim.AdamW (float32, on ``device``) on the probe's param groups and gradients
    (None: no gradient at that step); per step every parameter, and the final state."""
    import torch

    tensors, torch_groups = [], []
    for group in groups:
        params = [
            torch.tensor(p, dtype=torch.float32, device=device, requires_grad=True)
            for p in group["params"]
        ]
        tensors += params
        spec = {k: (tuple(v) if k == "betas" else v) for k, v in group.items() if k != "params"}
        torch_groups.append({**spec, "params": params})
    opt = torch.optim.AdamW(torch_groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    history = []
    for step_grads in grads:
        for p, g in zip(tensors, step_grads, strict=True):
            p.grad = None if g is None else torch.tensor(g, dtype=torch.float32, device=device)
        opt.step()
        history.append([p.detach().cpu().double().numpy() for p in tensors])
    state = [
        {
            "step": float(opt.state[p]["step"]),
            "exp_avg": opt.state[p]["exp_avg"].detach().cpu().double().numpy(),
            "exp_avg_sq": opt.state[p]["exp_avg_sq"].detach().cpu().double().numpy(),
        }
        if p in opt.state
        else {}
        for p in tensors
    ]
    return {"history": history, "state": state}


# --------------------------------------------------------------------------- FlipNet
def flip_data() -> tuple[np.ndarray, np.ndarray]:
    """The 16 binary 2x2 images in the chapter's order and their diagonal flips."""
    X = np.array(list(itertools.product([0, 1], repeat=4)), dtype=np.float32)
    Y = np.stack([X[:, 3], X[:, 2], X[:, 1], X[:, 0]], axis=1)
    return X, Y


def ref_flipnet():
    """The grader's own 4-3-4 FlipNet (layer1, ReLU, layer2)."""
    import torch

    nn = torch.nn

    class RefFlipNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = nn.Linear(4, 3)
            self.layer2 = nn.Linear(3, 4)

        def forward(self, x):
            return self.layer2(torch.relu(self.layer1(x)))

    return RefFlipNet()


def flipnet_state(seed: int, layer2_first: bool = False) -> dict[str, np.ndarray]:
    """A FlipNet's initial weights right after ``torch.manual_seed(seed)`` (``layer2_first``:
    as a network that creates its layers in the other order would have them)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if layer2_first:
            second = torch.nn.Linear(3, 4)
            first = torch.nn.Linear(4, 3)
            layers = {"layer1": first, "layer2": second}
            return {
                f"{n}.{k}": v.detach().double().numpy()
                for n, layer in layers.items()
                for k, v in layer.state_dict().items()
            }
        model = ref_flipnet()
    return {k: v.detach().double().numpy() for k, v in model.state_dict().items()}


def load_state(model, state: dict, device: str = "cpu"):
    import torch

    model.load_state_dict(
        {k: torch.as_tensor(np.asarray(v), dtype=torch.float32) for k, v in state.items()}
    )
    return model.to(device)


def flipnet_forward(state: dict, x: np.ndarray) -> np.ndarray:
    import torch

    model = load_state(ref_flipnet(), state)
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float32)).double().numpy()


def make_optimizer(params, spec: dict):
    """The same optimizer spec the probe uses: {"name": sgd|adam|adamw, **kwargs}."""
    import torch

    spec = dict(spec)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[
        spec.pop("name")
    ]
    return cls(params, **spec)


def train(
    model,
    opt,
    X,
    Y,
    epochs: int,
    *,
    summed: bool = False,
    zero_grad: bool = True,
    epoch_total: bool = False,
    loss_after_epoch: bool = False,
    last_sample: bool = False,
    step_first: bool = False,
) -> list[float]:
    """The chapter's training loop (batch size 1, in order); flags build known mistakes."""
    import torch

    history = []
    for _ in range(epochs):
        total = 0.0
        for i in range(X.shape[0]):
            err = (model(X[i]) - Y[i]) ** 2
            loss = err.sum() if summed else err.mean()
            if zero_grad:
                opt.zero_grad()
            if step_first:
                opt.step()
                loss.backward()
            else:
                loss.backward()
                opt.step()
            total += float(loss.detach())
        if loss_after_epoch:
            with torch.no_grad():
                history.append(float(torch.mean((model(X) - Y) ** 2)))
        elif last_sample:
            history.append(float(loss.detach()))
        else:
            history.append(total if epoch_total else total / X.shape[0])
    return history


@memoised
def train_from_state(
    state: dict, spec: dict, epochs: int, device: str = "cpu", **flags: bool
) -> dict:
    """Train a FlipNet loaded with ``state``; returns losses and the final weights."""
    import torch

    model = load_state(ref_flipnet(), state, device)
    opt = make_optimizer(model.parameters(), spec)
    X, Y = flip_data()
    Xt, Yt = torch.as_tensor(X, device=device), torch.as_tensor(Y, device=device)
    losses = train(model, opt, Xt, Yt, epochs, **flags)
    return {
        "losses": losses,
        "state": {k: v.detach().cpu().double().numpy() for k, v in model.state_dict().items()},
    }


@functools.lru_cache(maxsize=32)
def _compare_cached(
    epochs: int, seed: int, device: str, identical: bool, shared: bool = False
) -> tuple:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        first = ref_flipnet()
        second = first if shared else ref_flipnet()
    if identical and not shared:
        second.load_state_dict(first.state_dict())
    first.to(device)
    second.to(device)
    X, Y = flip_data()
    Xt, Yt = torch.as_tensor(X, device=device), torch.as_tensor(Y, device=device)
    mom = train(first, torch.optim.SGD(first.parameters(), lr=0.05, momentum=0.9), Xt, Yt, epochs)
    ada = train(second, torch.optim.Adam(second.parameters(), lr=0.001), Xt, Yt, epochs)
    return tuple(mom), tuple(ada)


def compare(
    epochs: int = 30,
    seed: int = 42,
    device: str = "cpu",
    identical: bool = True,
    shared: bool = False,
) -> dict[str, list[float]]:
    """The chapter's experiment (cached per process): SGD(0.05, momentum 0.9) vs Adam(0.001).
    ``identical=False``: two independently initialised models; ``shared``: both optimizers
    train one model, one after the other (known mistakes)."""
    mom, ada = _compare_cached(int(epochs), int(seed), str(device), bool(identical), bool(shared))
    return {"momentum": list(mom), "adam": list(ada)}


# --------------------------------------------------------------------------- decay groups
def decay_probe_model_ndims() -> dict[str, int]:
    """ndim of each parameter of the fixed model in ``probes.probe_decay_param_groups``."""
    import torch

    nn = torch.nn
    model = nn.Sequential(
        nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 2), nn.Embedding(5, 3)
    )
    return {name: p.ndim for name, p in model.named_parameters()}
