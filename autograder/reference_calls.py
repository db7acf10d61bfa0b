"""The grader's side of a substitution: run the reference version of a name for a stand-in.

While a question is graded with the reference versions of what it builds on,
the student's process holds only stand-ins (:mod:`autograder.remote`); each of
their calls arrives here as a callback request, runs the reference definitions
(executed in this process from the instructor's solution, never sent to the
student) and answers with plain data. Every request is student-made input:
names outside the substitution are refused, arguments are decoded by
:mod:`autograder.wire` only, and the work a request may ask for is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from autograder import wire

MAX_TRAIN_STEPS = 20_000
"""Samples times epochs one reference ``train_flipnet`` call may run (the chapter's is 480)."""
FLIPNET_KEYS = ("layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias")
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
MAX_MESSAGE = 300


class ReferenceCalls:
    """Runs the reference definitions of ``names`` (from ``source``) for callback requests."""

    def __init__(self, names: list[str], source: str):
        self.names = list(names)
        self.namespace: dict[str, Any] = {"__name__": "__reference__"}
        exec(compile(source, "<reference>", "exec"), self.namespace)  # noqa: S102 - instructor
        self.calls = 0

    def handle(self, request: str) -> str:
        """Answer one request ``{"name", "args", "kwargs"}`` with ``{"ok", "value", "tuple"}``
        or ``{"ok": false, "message"}`` (JSON text)."""
        self.calls += 1
        try:
            data = wire.loads(request, tensors=True)
            if not isinstance(data, dict):
                raise ValueError("malformed request")
            name, args, kwargs = data.get("name"), data.get("args"), data.get("kwargs")
            if name not in self.names or type(args) is not list or type(kwargs) is not dict:
                raise ValueError(f"{name!r} is not substituted")
            value = HANDLERS.get(name, _call)(self.namespace, name, args, kwargs)
            return wire.dumps({"ok": True, "value": value, "tuple": isinstance(value, tuple)})
        except Exception as exc:  # noqa: BLE001 - the student's arguments may be anything
            message = f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE]
            return json.dumps({"ok": False, "message": message})


def _call(namespace: dict[str, Any], name: str, args: list, kwargs: dict) -> Any:
    return namespace[name](*args, **kwargs)


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
    opt.load_state_dict({"param_groups": groups,
                         "state": {int(k): v for k, v in optimizer["state"]}})
    losses = namespace["train_flipnet"](model, opt, X, Y, epochs)
    after = opt.state_dict()
    return {"losses": [float(v) for v in losses],
            "state": {k: v.detach() for k, v in model.state_dict().items()},
            "optimizer": {"type": optimizer["type"], "param_groups": after["param_groups"],
                          "state": [[int(k), v] for k, v in after["state"].items()]}}


HANDLERS: dict[str, Callable[[dict[str, Any], str, list, dict], Any]] = {
    "train_flipnet": _train_flipnet,
}
