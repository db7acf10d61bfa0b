"""The grader's side of this assignment's stand-ins (see autograder.checks.reference_calls): what
each substituted name accepts from a submission, and the reference ``train_flipnet`` run on
the student's weights and optimizer state, bounded."""

from __future__ import annotations

from typing import Any

MAX_TRAIN_STEPS = 20_000
"""Samples times epochs one reference ``train_flipnet`` call may run (the chapter's is 480)."""
FLIPNET_KEYS = ("layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias")
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")


def _train_flipnet(namespace: dict[str, Any], name: str, args: list, kwargs: dict) -> dict:
    """The reference training loop on the student's weights and optimizer state."""
    import torch

    state, optimizer, X, Y, *rest = args
    epochs = int(rest[0]) if rest else int(kwargs.get("epochs", 30))
    X, Y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y, dtype=torch.float32)
    if X.ndim != 2 or X.shape[1:] != (4,) or Y.shape != X.shape:
        raise ValueError("X and Y should be (n, 4) tensors")
    if not 0 <= epochs * len(X) <= MAX_TRAIN_STEPS:
        raise ValueError(f"at most {MAX_TRAIN_STEPS} training steps per call")
    if not isinstance(state, dict) or sorted(state) != sorted(FLIPNET_KEYS):
        raise ValueError("the model should be a FlipNet (layer1, layer2)")
    if not isinstance(optimizer, dict) or optimizer.get("type") not in OPTIMIZERS:
        raise ValueError(f"the optimizer should be one of torch.optim.{', '.join(OPTIMIZERS)}")
    model = namespace["FlipNet"]()
    model.load_state_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in state.items()})
    groups = optimizer["param_groups"]
    opt = getattr(torch.optim, optimizer["type"])(model.parameters(), lr=groups[0]["lr"])
    opt.load_state_dict(
        {"param_groups": groups, "state": {int(k): v for k, v in optimizer["state"]}}
    )
    losses = namespace["train_flipnet"](model, opt, X, Y, epochs)
    after = opt.state_dict()
    return {
        "losses": [float(v) for v in losses],
        "state": {k: v.detach() for k, v in model.state_dict().items()},
        "optimizer": {
            "type": optimizer["type"],
            "param_groups": after["param_groups"],
            "state": [[int(k), v] for k, v in after["state"].items()],
        },
    }


HANDLERS = {"train_flipnet": _train_flipnet}

_STEP = {"w": "array", "grad": "array", "lr": "number"}
_ADAM = {
    **_STEP,
    "m": "array",
    "v": "array",
    "t": "count",
    "beta1": "number",
    "beta2": "number",
    "eps": "number",
}
ARGUMENTS: dict[str, dict[str, str]] = {
    "sgd_step": _STEP,
    "momentum_step": {**_STEP, "velocity": "array", "beta": "number"},
    "rmsprop_step": {**_STEP, "v": "array", "rho": "number", "eps": "number"},
    "adam_step": _ADAM,
    "bias_correction": {"beta": "number", "t": "count"},
    "rosenbrock_grad": {"x": "array", "y": "array"},
    "make_flip_data": {},
    "train_flipnet": {
        "model": "dict",
        "optimizer": "dict",
        "X": "tensor",
        "Y": "tensor",
        "epochs": "count",
    },
}
"""The argument kinds each substituted name accepts, by parameter (the contract's
signatures; see autograder.checks.argument_kinds). A name not here accepts no call."""
