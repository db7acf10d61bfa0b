"""The warm-up of "Adam and Its Variants" in the sandbox's warm parent (a student-side module:
nothing here is hidden, and every student process starts from the memory it leaves).

Every notebook of this assignment builds ``torch.optim`` optimizers, runs backward passes and
clips gradients. ``torch.optim.Optimizer`` imports ``torch._dynamo`` the first time one is made
(1.4 s of CPU per process), and the first backward pass and ``clip_grad_norm_`` have costs of
their own: running them once here, on values of our own, spares every submission. torch's
random state is put back, so that a submission draws what it would in a fresh interpreter.
"""

from __future__ import annotations


def warm_up() -> None:
    """One step of each optimizer the chapter uses (SGD with momentum, Adam, AdamW, RMSprop,
    Adagrad) on a tiny model, with a backward pass and gradient clipping."""
    import torch
    import torch._dynamo  # what the first optimizer would import
    import torch.nn.functional as F

    state = torch.get_rng_state()
    try:
        weight = torch.nn.Parameter(torch.linspace(-1.0, 1.0, 6).reshape(2, 3))
        bias = torch.nn.Parameter(torch.zeros(2))
        for make in (
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
            torch.optim.Adam,
            torch.optim.AdamW,
            torch.optim.RMSprop,
            torch.optim.Adagrad,
        ):
            opt = make([weight, bias])
            opt.zero_grad()
            F.mse_loss(
                torch.tanh(F.linear(torch.ones(4, 3), weight, bias)), torch.zeros(4, 2)
            ).backward()
            torch.nn.utils.clip_grad_norm_([weight, bias], 1.0)
            opt.step()
        with torch.no_grad():
            torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())(torch.ones(1, 3))
    finally:
        torch.set_rng_state(state)
