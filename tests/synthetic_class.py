"""A synthetic class: N notebooks of independently written (random) code, for the batch,
export and similarity tests, and for timing the similarity report.

Each student's notebook is the released notebook with every stub replaced by code
drawn from that student's own random stream (names, expressions, loop shapes), about
as long as the instructor solution, plus a first cell with a stand-in grading
directive (``# FAKE score=<x>``, see ``test_batch_standin.py``). Two students share
no more code than chance gives. ``disguise`` makes the copy a student would hand
in: variables renamed, comments added, functions reordered.

    python tests/synthetic_class.py OUT_DIR N     # writes OUT_DIR/s0000.ipynb ...
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "assignments" / "adam_variants" / "adam_variants.ipynb"
_STUB = re.compile(r"^(\s*)raise NotImplementedError\(.*\)\s*$", re.MULTILINE)
_WORDS = (
    "acc",
    "buf",
    "state",
    "tmp",
    "val",
    "vec",
    "mom",
    "sq",
    "ratio",
    "delta",
    "corr",
    "rate",
    "step",
    "norm",
    "part",
    "block",
    "row",
    "col",
    "sum",
    "gain",
    "decay",
)
_CALLS = (
    "np.sqrt",
    "np.abs",
    "np.square",
    "np.sign",
    "np.exp",
    "np.tanh",
    "float",
    "np.maximum",
    "np.minimum",
    "np.clip",
    "torch.as_tensor",
    "np.asarray",
    "abs",
)
_OPS = ("+", "-", "*", "/")


def _expr(rng: random.Random, names: list[str], depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.3:
        return (
            rng.choice(names)
            if rng.random() < 0.7
            else f"{rng.choice((1, 2, 0.5, 1e-8, 0.9, 3, 10, 127))}"
        )
    if roll < 0.55:
        call = rng.choice(_CALLS)
        args = ", ".join(
            _expr(rng, names, depth + 1)
            for _ in range(2 if call in ("np.maximum", "np.minimum") else 1)
        )
        if call == "np.clip":
            args += f", {rng.choice((-1, -127, 0))}, {rng.choice((1, 127, 10))}"
        return f"{call}({args})"
    left, right = _expr(rng, names, depth + 1), _expr(rng, names, depth + 1)
    return f"({left} {rng.choice(_OPS)} {right})"


def _body(rng: random.Random, indent: str, params: list[str]) -> str:
    names = params[:] or ["x"]
    lines = []
    for _ in range(rng.randint(4, 9)):
        target = f"{rng.choice(_WORDS)}_{rng.randint(0, 99)}"
        if rng.random() < 0.2:
            lines.append(f"{indent}for i_{len(lines)} in range({rng.randint(2, 9)}):")
            lines.append(f"{indent}    {target} = {_expr(rng, names)}")
        elif rng.random() < 0.15:
            lines.append(f"{indent}if {_expr(rng, names)} > {rng.choice((0, 1, 0.5))}:")
            lines.append(f"{indent}    {target} = {_expr(rng, names)}")
            lines.append(f"{indent}else:")
            lines.append(f"{indent}    {target} = {_expr(rng, names)}")
        else:
            lines.append(f"{indent}{target} = {_expr(rng, names)}")
        names.append(target)
    lines.append(f"{indent}return {', '.join(rng.sample(names[-4:], k=min(2, len(names[-4:]))))}")
    return "\n".join(lines)


def _params(source: str, offset: int) -> list[str]:
    head = source.rfind("def ", 0, offset)
    signature = source[head : source.find(":", source.find(")", head))] if head >= 0 else ""
    inside = signature[signature.find("(") + 1 : signature.rfind(")")]
    names = [p.split("=")[0].strip(" *") for p in inside.split(",")]
    return [n for n in names if n.isidentifier() and n != "self"]


def student_code(source: str, rng: random.Random) -> str:
    """``source`` (a template cell) with every stub replaced by this student's code."""
    parts, last = [], 0
    for match in _STUB.finditer(source):
        parts.append(source[last : match.start()])
        parts.append(_body(rng, match.group(1), _params(source, match.start())))
        last = match.end()
    parts.append(source[last:])
    return "".join(parts)


def student_notebook(seed: int, score: float = 1.0) -> str:
    """The notebook of synthetic student ``seed`` (nbformat JSON text)."""
    rng = random.Random(seed)
    nb = nbformat.read(str(TEMPLATE), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "NotImplementedError" in cell.source:
            cell.source = student_code(cell.source, rng)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"# FAKE score={score}"))
    return nbformat.writes(nb)


def disguise(code: str, seed: int = 0) -> str:
    """A copy of ``code`` as a student hides it: locals renamed, comments added, the
    top-level functions in another order."""
    rng = random.Random(seed)
    local = sorted({m for m in re.findall(r"\b([a-z]+_\d+|[a-z]+_new|[a-z]+_hat)\b", code)})
    for i, name in enumerate(local):
        code = re.sub(rf"\b{name}\b", f"renamed_{i}_{rng.randint(0, 999)}", code)
    blocks = re.split(r"\n(?=(?:def |class |@))", code)
    rng.shuffle(blocks)
    out = []
    for block in blocks:
        lines = []
        for i, line in enumerate(block.splitlines()):
            lines.append(line)
            if i % 3 == 1 and line.strip() and not line.rstrip().endswith((",", "(", "[", "\\")):
                indent = len(line) - len(line.lstrip())
                lines.append(" " * indent + f"# my note {i}: this part works out the update")
        out.append("\n".join(lines))
    return "\n\n\n".join(out)


def copied_notebook(original: str, seed: int = 0) -> str:
    """A notebook whose every student cell is a disguised copy of ``original``'s, in
    reverse cell order (functions moved between cells)."""
    nb = nbformat.reads(original, as_version=4)
    template = {
        c.source.strip()
        for c in nbformat.read(str(TEMPLATE), as_version=4).cells
        if c.cell_type == "code"
    }
    own = [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and c.source.strip() not in template
        and not c.source.startswith("# FAKE")
    ]
    copied = disguise("\n\n\n".join(c.source for c in reversed(own)), seed)
    for cell in own:
        nb.cells.remove(cell)
    nb.cells.append(nbformat.v4.new_code_cell(copied))
    return nbformat.writes(nb)


def write_class(folder: Path, n: int, score: float = 1.0) -> list[str]:
    """``n`` synthetic notebooks ``s0000.ipynb`` ... in ``folder``; their ids."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        ids.append(f"s{i:04d}")
        (folder / f"{ids[-1]}.ipynb").write_text(student_notebook(i, score), encoding="utf-8")
    return ids


if __name__ == "__main__":
    write_class(Path(sys.argv[1]), int(sys.argv[2]))
