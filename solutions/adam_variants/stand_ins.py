"""Stand-ins of "Adam and Its Variants" that need more than plain data (see autograder.inside.remote).

* ``train_flipnet`` sends the model's weights and the optimizer's ``state_dict``
  and loads back what the reference training left;
* the ``FlipNet`` class becomes the architecture the contract states
  (``nn.Linear(4, 3)``, ReLU, ``nn.Linear(3, 4)``), built from torch's own layers:
  nothing of the solution notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.inside.remote import Channel, RemoteError, call_remote


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
        raise RemoteError(
            f"the reference train_flipnet takes torch.optim optimizers only, not {cls.__name__}"
        )
    state = optimizer.state_dict()
    return {
        "type": cls.__name__,
        "param_groups": state["param_groups"],
        "state": [[int(k), v] for k, v in state["state"].items()],
    }


def _load_optimizer_state(optimizer: Any, data: dict) -> None:
    optimizer.load_state_dict(
        {"param_groups": data["param_groups"], "state": {int(k): v for k, v in data["state"]}}
    )


def remote_train_flipnet(channel: Channel) -> Callable[..., list[float]]:
    """``train_flipnet(model, optimizer, X, Y, epochs=30)`` run by the reference on the grader."""
    import torch

    def train_flipnet(model, optimizer, X, Y, epochs=30):
        device = next(model.parameters()).device
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        reply = call_remote(
            channel,
            "train_flipnet",
            state,
            _optimizer_state(optimizer),
            torch.as_tensor(X).detach().cpu(),
            torch.as_tensor(Y).detach().cpu(),
            epochs,
        )
        model.load_state_dict({k: torch.as_tensor(v).to(device) for k, v in reply["state"].items()})
        _load_optimizer_state(optimizer, reply["optimizer"])
        return [float(x) for x in reply["losses"]]

    return train_flipnet


SPECIAL: dict[str, Callable[[Channel], Any]] = {
    "FlipNet": lambda channel: _contract_flipnet(),
    "train_flipnet": remote_train_flipnet,
}
