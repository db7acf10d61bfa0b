"""What a substituted name accepts: the argument kinds its reference version declares.

A stand-in's call carries arguments the student chose. Before the reference runs
on them, each argument is bound to the reference's own signature and checked
against the kind the assignment declares for that parameter (``ARGUMENTS`` in its
``references.py``: parameter name -> kind); a name with no declaration accepts no
call. A refused call fails with a message that says which argument and why,
which costs the student the check that made the call and nothing else.

Kinds:

* ``number``: an int or a float (a bool is not), passed on as a float;
* ``count``: an int (or a float with an integer value) in ``[0, MAX_COUNT]``;
* ``array``: a number (as a float) or a NumPy array of an integer or floating
  dtype; the arrays of one call must broadcast together to at most
  :data:`autograder.wire.MAX_ELEMENTS` elements;
* ``tensor``: a torch tensor of an integer or floating dtype;
* ``dict``: a dict of plain data (the assignment's handler checks what is in it).

Sizes are bounded before this by :mod:`autograder.wire` (message bytes, elements
per array, nesting).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder import wire

MAX_COUNT = 10**9
NUMERIC_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8"}
KINDS = ("number", "count", "array", "tensor", "dict")
DESCRIBED = {
    "number": "a number (int or float)",
    "count": f"a whole number from 0 to {MAX_COUNT:,}",
    "array": "a number or a NumPy array of numbers",
    "tensor": "a torch tensor of numbers",
    "dict": "a dict",
}


class ArgumentRefused(ValueError):
    """An argument is not of the kind the name declares; ``str()`` says which and why."""


def _what(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {tuple(value.shape)}"
    if type(value).__module__.startswith("torch"):
        return f"a tensor of dtype {str(value.dtype).removeprefix('torch.')}"
    name = type(value).__name__
    if type(value) in (int, float):
        return f"{name} {value:.6g}" if type(value) is float else f"int {value}"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _accept(kind: str, value: Any) -> Any:
    """``value`` as the reference gets it, or raise ArgumentRefused (no message)."""
    if kind == "number" and type(value) in (int, float):
        return float(value) if abs(value) <= 1e308 else float("inf") * (1 if value > 0 else -1)
    if kind == "count":
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is int and 0 <= value <= MAX_COUNT:
            return value
    if kind == "array":
        if type(value) in (int, float):
            return _accept("number", value)
        if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
            return value
    if (
        kind == "tensor"
        and type(value).__module__.startswith("torch")
        and str(getattr(value, "dtype", "")).removeprefix("torch.") in NUMERIC_DTYPES
    ):
        return value
    if kind == "dict" and type(value) is dict:
        return value
    raise ArgumentRefused


def check_call(
    name: str,
    function: Callable[..., Any],
    declared: dict[str, str] | None,
    args: list,
    kwargs: dict,
) -> tuple[list, dict]:
    """``args`` and ``kwargs`` bound to ``function``'s signature and checked against the
    ``declared`` kinds; returned as the reference should get them. Raises ArgumentRefused."""
    if declared is None:
        raise ArgumentRefused(f"the reference {name} accepts no calls from a submission")
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except TypeError as exc:
        raise ArgumentRefused(f"{name}(): {exc}") from None
    shapes = []
    for param, value in bound.arguments.items():
        kind = declared.get(param)
        if kind is None:
            raise ArgumentRefused(
                f"the reference {name} takes no argument {param!r} from a submission"
            )
        try:
            bound.arguments[param] = _accept(kind, value)
        except ArgumentRefused:
            raise ArgumentRefused(
                f"the reference {name} takes {param} as {DESCRIBED[kind]}, not {_what(value)}"
            ) from None
        if kind == "array" and isinstance(value, np.ndarray):
            shapes.append(value.shape)
    if shapes:
        try:
            size = math.prod(np.broadcast_shapes(*shapes))
        except ValueError:
            raise ArgumentRefused(
                f"the arrays given to the reference {name} have shapes "
                f"that do not fit together: {shapes}"
            ) from None
        if size > wire.MAX_ELEMENTS:
            raise ArgumentRefused(
                f"the arrays given to the reference {name} broadcast to "
                f"{size:,} elements, more than {wire.MAX_ELEMENTS:,}"
            )
    return list(bound.args), dict(bound.kwargs)


def check_declarations(arguments: dict[str, dict[str, str]]) -> None:
    """Raise ValueError on a kind that is not one of :data:`KINDS` (an assignment's typo)."""
    for name, params in arguments.items():
        for param, kind in params.items():
            if kind not in KINDS:
                raise ValueError(
                    f"ARGUMENTS[{name!r}][{param!r}] = {kind!r}: not one of {', '.join(KINDS)}"
                )
