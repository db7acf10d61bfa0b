"""The numbers of the public checks' worked examples, recomputed from independent sources.

``solutions/adam_variants/public_checks.py`` ships two tables next to its worked examples (EXAMPLES):
EXPECTED, what a correct function returns, and KNOWN, what each known mistake returns. This
module recomputes both: EXPECTED from the hidden suite's oracles (torch.optim and the
contract's formulas), KNOWN from the hidden suite's catalogue of known mistakes
(``solutions/adam_variants/checks/mistakes.py``, ``scratch_mistakes.py``). ``solutions/adam_variants/tests/test_public_checks.py``
fails when the shipped tables differ;

    .venv/bin/python solutions/adam_variants/tests/public_tables.py --write

rewrites the block between the markers in ``solutions/adam_variants/public_checks.py`` (then run
``make release``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from adam import checks_module, public_checks

mistakes, oracles, scratch_mistakes = (
    checks_module(name) for name in ("mistakes", "oracles", "scratch_mistakes")
)

BEGIN = "# BEGIN GENERATED TABLES (public_tables.py --write, in the assignment folder's tests/)"
END = "# END GENERATED TABLES"
PUBLIC_FILE = Path(public_checks.__file__)

ORACLES: dict[str, Callable] = {
    "sgd_step": oracles.sgd,
    "momentum_step": oracles.momentum,
    "adagrad_step": oracles.adagrad,
    "rmsprop_step": oracles.rmsprop,
    "bias_correction": lambda beta, t: 1 - beta**t,
    "adam_step": oracles.adam,
    "adam_l2_step": oracles.adam_l2,
    "adamw_step": oracles.adamw,
    "adam_trace": oracles.adam_trace_rows,
    "optimize_rosenbrock": lambda optimizer, lr, steps, start=(-1.2, 1.0), **hp: (
        oracles.torch_rosenbrock_path(optimizer, lr, steps, tuple(start), hp)
    ),
    "warmup_cosine_lr": oracles.warmup_cosine,
    "clip_grad_norm": oracles.torch_clip,
    "adam_memory_gb": oracles.memory_gb,
    "lion_step": oracles.lion,
    "lamb_step": oracles.lamb,
    "factored_second_moment": oracles.factored,
}
RTOL = {"ScratchAdamW": 1e-5}


def _outputs(fn: Callable, calls: list[tuple[tuple, dict]]) -> list[float]:
    out: list[float] = []
    with np.errstate(all="ignore"):
        for args, kwargs in calls:
            out += public_checks._flat(fn(*args, **kwargs))
    return out


def _scratch_probe_format() -> tuple[list[dict], list[list]]:
    example = public_checks.SCRATCH_EXAMPLE
    groups = [
        {
            **{k: v for k, v in g.items() if k != "params"},
            "params": [np.asarray(p, dtype=np.float32) for p in g["params"]],
        }
        for g in example["groups"]
    ]
    grads = [
        [None if g is None else np.asarray(g, dtype=np.float32) for g in step]
        for step in example["grads"]
    ]
    return groups, grads


def computed() -> tuple[dict[str, list[float]], dict[str, dict[str, list[float]]]]:
    """(EXPECTED, KNOWN) recomputed for the examples of ``public_checks``."""
    expected: dict[str, list[float]] = {}
    known: dict[str, dict[str, list[float]]] = {}
    for name, calls in public_checks.EXAMPLES.items():
        expected[name] = _outputs(ORACLES[name], calls)
        known[name] = _known(
            expected[name],
            {
                key: (lambda variant=variant, calls=calls: _outputs(variant, calls))
                for key, variant in mistakes.VARIANTS.get(name, {}).items()
            },
            1e-6,
        )
    groups, grads = _scratch_probe_format()
    right = public_checks._flat(scratch_mistakes.run_adamw(groups, grads)["history"][-1])
    known["ScratchAdamW"] = _known(
        right,
        {
            key: (
                lambda flags=flags: public_checks._flat(
                    scratch_mistakes.run_adamw(groups, grads, **flags)["history"][-1]
                )
            )
            for key, flags in scratch_mistakes.VARIANTS.items()
        },
        RTOL["ScratchAdamW"],
    )
    return expected, {k: v for k, v in known.items() if v}


def _known(
    right: list[float], variants: dict[str, Callable[[], list[float]]], rtol: float
) -> dict[str, list[float]]:
    """The variants' outputs that differ from ``right`` and from every earlier variant."""
    out: dict[str, list[float]] = {}
    for key, compute in variants.items():
        try:
            got = compute()
        except Exception:  # a variant may not apply to the example
            continue
        if public_checks._agree(got, right, rtol) or any(
            public_checks._agree(got, other, rtol) for other in out.values()
        ):
            continue
        out[key] = got
    return out


def _number(x: float) -> str:
    if math.isnan(x):
        return 'float("nan")'
    if math.isinf(x):
        return 'float("inf")' if x > 0 else '-float("inf")'
    return repr(float(x))


def _numbers(values: list[float], indent: str) -> str:
    items = [_number(v) for v in values]
    lines, line = [], ""
    for item in items:
        if len(indent) + len(line) + len(item) + 2 > 96:
            lines.append(line.rstrip())
            line = ""
        line += item + ", "
    lines.append(line.rstrip().rstrip(","))
    return "[" + f"\n{indent} ".join(lines) + "]"


def block() -> str:
    """The generated block of ``public_checks.py`` (markers included)."""
    expected, known = computed()
    out = [BEGIN, "EXPECTED: dict[str, list[float]] = {"]
    for name, values in expected.items():
        out.append(f'    "{name}": {_numbers(values, " " * (8 + len(name)))},')
    out.append("}")
    out.append('"""What each worked example gives when the function is right, flattened."""')
    out.append("")
    out.append("KNOWN: dict[str, dict[str, list[float]]] = {")
    for name, table in known.items():
        out.append(f'    "{name}": {{')
        for key, values in table.items():
            out.append(f'        "{key}": {_numbers(values, " " * (12 + len(key)))},')
        out.append("    },")
    out.append("}")
    out.append(
        '"""What each known mistake gives on the same examples (label#n: another way to '
        'make it)."""'
    )
    out.append(END)
    return "\n".join(out) + "\n"


def write() -> None:
    text = PUBLIC_FILE.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END) + 1
    PUBLIC_FILE.write_text(text[:start] + block() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        print(block())
