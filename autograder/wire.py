"""Plain-data encoding between the grader and a student process.

Only JSON crosses the boundary: numbers, strings, booleans, None, lists and
dicts with string keys, plus NumPy arrays and torch tensors written as
``{"__ndarray__": [...flat...], "shape": [...], "dtype": "float32"}`` (with
``"torch": true`` when the value was a tensor). Nothing produced by student code
is unpickled or imported into the grader; decoding rebuilds fresh NumPy arrays
and Python builtins only (torch tensors only where the caller asks for them),
so an object that lies about equality can never reach a comparison.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 2_000_000
_ALLOWED_DTYPES = {
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
}


class WireError(ValueError):
    """A value that cannot cross the boundary (too big, too deep, not plain data)."""


def encode(value: Any, _depth: int = 0) -> Any:
    """Turn ``value`` into JSON-able plain data, or raise WireError."""
    if _depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float, bool):
        return value
    if isinstance(value, np.generic):
        return encode(value.item(), _depth + 1)
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return {**_encode_array(value.detach().cpu().numpy()), "torch": True}
    if isinstance(value, (list, tuple)):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                k = str(k)
            out[k] = encode(v, _depth + 1)
        return out
    if isinstance(value, (int, float)):  # subclasses of int/float: keep the plain value only
        return float(value) if isinstance(value, float) else int(value)
    raise WireError(f"cannot send a value of type {type(value).__name__}")


def _encode_array(arr: np.ndarray) -> dict:
    if arr.size > MAX_ELEMENTS:
        raise WireError(f"array of {arr.size} elements is too large")
    dtype = str(arr.dtype)
    if dtype not in _ALLOWED_DTYPES:
        raise WireError(f"arrays of dtype {dtype} are not supported")
    return {"__ndarray__": arr.ravel().tolist(), "shape": list(arr.shape), "dtype": dtype}


def decode(obj: Any, _depth: int = 0, tensors: bool = False) -> Any:
    """Rebuild plain Python/NumPy values from JSON-decoded data, checking every type.

    ``tensors``: arrays that were torch tensors come back as (CPU) torch tensors.
    """
    if _depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if obj is None or type(obj) in (bool, int, str):
        return obj
    if type(obj) is float:
        return obj
    if type(obj) is list:
        return [decode(v, _depth + 1, tensors) for v in obj]
    if type(obj) is dict:
        if "__ndarray__" in obj:
            array = _decode_array(obj)
            if tensors and obj.get("torch") is True:
                import torch

                return torch.from_numpy(array)
            return array
        return {str(k): decode(v, _depth + 1, tensors) for k, v in obj.items()}
    raise WireError(f"unexpected {type(obj).__name__} in message")


def _decode_array(obj: dict) -> np.ndarray:
    dtype = obj.get("dtype")
    shape = obj.get("shape")
    data = obj.get("__ndarray__")
    if dtype not in _ALLOWED_DTYPES or type(shape) is not list or type(data) is not list:
        raise WireError("malformed array")
    if not all(type(s) is int and 0 <= s <= MAX_ELEMENTS for s in shape):
        raise WireError("malformed array shape")
    if math.prod(shape) != len(data) or len(data) > MAX_ELEMENTS:
        raise WireError("array data does not match its shape")
    if not all(type(x) in (int, float, bool) for x in data):
        raise WireError("array holds something other than numbers")
    return np.array(data, dtype=dtype).reshape(shape)


def dumps(value: Any) -> str:
    """Encode and serialise one message."""
    return json.dumps(encode(value), allow_nan=True, separators=(",", ":"))


def loads(text: str | bytes, tensors: bool = False) -> Any:
    """Parse and decode one message, refusing oversized input (see :func:`decode`)."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(text)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"not valid JSON: {exc}") from None
    return decode(raw, tensors=tensors)
