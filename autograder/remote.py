"""Stand-ins that replace a submission's names with the reference versions, from outside.

No double jeopardy: a question that builds on another (AdamW on ``adam_step``,
the Rosenbrock race on the step functions, the FlipNet comparison on
``train_flipnet``) is graded with the reference versions of what it builds on.
The reference code never enters the student's process: each substituted name
is bound to a stand-in whose calls travel to the grader over the JSON channel
(:func:`callback`), where the reference runs; only plain data comes back.

* a function becomes a :class:`RemoteFunction` (arguments and results through
  :mod:`autograder.wire`; tensors stay tensors);
* ``train_flipnet`` sends the model's weights and the optimizer's
  ``state_dict`` and loads back what the reference training left;
* the ``FlipNet`` class becomes :class:`ContractFlipNet`, the architecture the
  contract states (``nn.Linear(4, 3)``, ReLU, ``nn.Linear(3, 4)``), built from
  torch's own layers: nothing of the solution notebook.

This module runs in the student's process; nothing here is trusted by the grader.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from autograder import wire

Channel = Callable[[str], Any]
"""Sends one callback request (JSON text) to the grader and returns its reply (parsed JSON)."""


class RemoteError(RuntimeError):
    """The reference call failed on the grader's side; ``str()`` says why."""


def call_remote(channel: Channel, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the reference ``name`` on the grader; tensors come back as tensors."""
    request = json.dumps({"name": name, "args": wire.encode(list(args)),
                          "kwargs": wire.encode(kwargs)})
    reply = wire.decode(channel(request), tensors=True)
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        message = reply.get("message", "") if isinstance(reply, dict) else ""
        raise RemoteError(f"the reference {name} could not run: {message}")
    value = reply.get("value")
    return tuple(value) if reply.get("tuple") is True and isinstance(value, list) else value


class RemoteFunction:
    """A function whose every call runs the reference version on the grader."""

    def __init__(self, name: str, channel: Channel):
        self.__name__ = self.__qualname__ = name
        self._channel = channel

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return call_remote(self._channel, self.__name__, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<reference {self.__name__} (runs in the grader)>"


def _contract_flipnet():
    import torch.nn as nn

    class ContractFlipNet(nn.Module):
        """The contract's FlipNet: layer1 = Linear(4, 3), ReLU, layer2 = Linear(3, 4)."""

        def __init__(self):
            super().__init__()
            self.layer1 = nn.Linear(4, 3)
            self.relu = nn.ReLU()
            self.layer2 = nn.Linear(3, 4)

        def forward(self, x):
            return self.layer2(self.relu(self.layer1(x)))

    return ContractFlipNet


def _optimizer_state(optimizer: Any) -> dict:
    """A torch optimizer as plain data: its class name and ``state_dict`` (state as pairs)."""
    import torch

    cls = type(optimizer)
    if getattr(torch.optim, cls.__name__, None) is not cls:
        raise RemoteError("the reference train_flipnet takes torch.optim optimizers only, "
                          f"not {cls.__name__}")
    state = optimizer.state_dict()
    return {"type": cls.__name__, "param_groups": state["param_groups"],
            "state": [[int(k), v] for k, v in state["state"].items()]}


def _load_optimizer_state(optimizer: Any, data: dict) -> None:
    optimizer.load_state_dict({"param_groups": data["param_groups"],
                               "state": {int(k): v for k, v in data["state"]}})


def remote_train_flipnet(channel: Channel) -> Callable[..., list[float]]:
    """``train_flipnet(model, optimizer, X, Y, epochs=30)`` run by the reference on the grader."""
    import torch

    def train_flipnet(model, optimizer, X, Y, epochs=30):
        device = next(model.parameters()).device
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        reply = call_remote(channel, "train_flipnet", state, _optimizer_state(optimizer),
                            torch.as_tensor(X).detach().cpu(), torch.as_tensor(Y).detach().cpu(),
                            epochs)
        model.load_state_dict({k: torch.as_tensor(v).to(device) for k, v in
                               reply["state"].items()})
        _load_optimizer_state(optimizer, reply["optimizer"])
        return [float(x) for x in reply["losses"]]

    return train_flipnet


SPECIAL: dict[str, Callable[[Channel], Any]] = {
    "FlipNet": lambda channel: _contract_flipnet(),
    "train_flipnet": remote_train_flipnet,
}


def stand_in(name: str, channel: Channel) -> Any:
    """What ``name`` is bound to in the student's namespace while it is substituted."""
    make = SPECIAL.get(name)
    return make(channel) if make is not None else RemoteFunction(name, channel)
