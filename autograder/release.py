"""``python -m autograder release``: generate the student notebook from the solution.

An nbformat pipeline of small one-job steps, in the style of nbgrader's
preprocessors:

1. :func:`strip_code_solution` replaces every ``### BEGIN SOLUTION`` ...
   ``### END SOLUTION`` block of a code cell by
   ``raise NotImplementedError("<hint>")`` at the block's indentation. The hint
   is the text of a ``# HINT: ...`` comment right above the block, else
   ``implement <function name>``. A module-level block (the q11 constants)
   becomes one ``NAME = None  # one of ...`` line per assigned name.
2. :func:`strip_markdown_solution` replaces a ``<!-- BEGIN SOLUTION -->`` ...
   ``<!-- END SOLUTION -->`` region of a markdown cell by the answer placeholder.
3. :func:`clear_outputs` drops outputs and execution counts.
4. :func:`normalise_metadata` keeps only the kernel and language names, the
   assignment id (``{"autograder": {"assignment": ...}}``, how the grader knows
   the notebook) and the cell tags (and the solution's cell ids), so the output
   is deterministic.

:func:`release_notebook` chains them (pure: the input is not modified) and
:func:`write_release` writes the student folder: the notebook and a copy of
``autograder/public_checks.py``. Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.contract import ASSIGNMENT_ID
from autograder.notebook import RELEASE_DIR, SOLUTION_NOTEBOOK

BEGIN_CODE = "### BEGIN SOLUTION"
END_CODE = "### END SOLUTION"
MARKDOWN_SOLUTION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.DOTALL)
ANSWER_PLACEHOLDER = "_Type your answer here._"
PUBLIC_CHECKS = Path(__file__).resolve().parent / "public_checks.py"

CONSTANT_CHOICES: dict[str, tuple[str, ...]] = {
    "ANSWER_1D_WINNER": ("sgd", "momentum", "adam"),
    "ANSWER_FLIPNET_WINNER": ("momentum", "adam"),
    "ANSWER_DECOUPLED": ("adam_l2", "adamw"),
}
"""The allowed answers of the q11 constants, transcribed from the contract."""

_HINT = re.compile(r"^\s*#\s*HINT:\s*(?P<hint>.+?)\s*$")
_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)")
_CLASS = re.compile(r"^(?P<indent>\s*)class\s+(?P<name>\w+)")


class ReleaseError(ValueError):
    """The solution notebook's markers are malformed."""


def _quote(text: str) -> str:
    """A Python string literal for ``text``, double-quoted where possible."""
    if '"' in text or "\\" in text:
        return repr(text)
    return f'"{text}"'


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _enclosing_name(lines: list[str], block_indent: int) -> str | None:
    """The dotted name of the def enclosing a block at ``block_indent`` (``Class.method``)."""
    func: str | None = None
    func_indent = block_indent
    for line in reversed(lines):
        if not line.strip():
            continue
        width = len(_indent(line))
        if func is None:
            match = _DEF.match(line)
            if match and width < block_indent:
                func, func_indent = match["name"], width
        else:
            match = _CLASS.match(line)
            if match and width < func_indent:
                return f"{match['name']}.{func}"
            if width < func_indent and not line.lstrip().startswith(("@", "#")):
                break
    return func


def _constant_stub(block: list[str], indent: str) -> list[str]:
    """``NAME = None  # one of ...`` for every name a module-level block assigns."""
    try:
        tree = ast.parse("\n".join(line[len(indent):] for line in block))
    except SyntaxError as err:
        raise ReleaseError(f"module-level solution block does not parse: {err}") from err
    stubs: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if not isinstance(target, ast.Name):
                raise ReleaseError("module-level solution blocks may only assign plain names")
            choices = CONSTANT_CHOICES.get(target.id)
            comment = (
                "one of " + ", ".join(f'"{c}"' for c in choices) if choices else "your answer"
            )
            stubs.append(f"{indent}{target.id} = None  # {comment}")
    if not stubs:
        raise ReleaseError("a module-level solution block assigns no names")
    return stubs


def strip_code_solution(source: str) -> str:
    """Replace every solution block of a code cell's source by its stub."""
    lines = source.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() != BEGIN_CODE:
            if line.strip() == END_CODE:
                raise ReleaseError(f"{END_CODE} without {BEGIN_CODE}")
            out.append(line)
            i += 1
            continue
        indent = _indent(line)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == END_CODE), None)
        if end is None:
            raise ReleaseError(f"{BEGIN_CODE} without {END_CODE}")
        block = lines[i + 1 : end]
        if any(b.strip() == BEGIN_CODE for b in block):
            raise ReleaseError("nested solution blocks")
        if not indent:
            out += _constant_stub(block, indent)
        else:
            hint_match = _HINT.match(out[-1]) if out else None
            if hint_match:
                hint = hint_match["hint"]
            else:
                name = _enclosing_name(out, len(indent))
                hint = f"implement {name}" if name else "implement this"
            out.append(f"{indent}raise NotImplementedError({_quote(hint)})")
        i = end + 1
    return "\n".join(out)


def strip_markdown_solution(source: str) -> str:
    """Replace a markdown cell's solution region by the answer placeholder."""
    return MARKDOWN_SOLUTION.sub(ANSWER_PLACEHOLDER, source)


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Step 1: stub out the solution of every code and markdown cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_code_solution(cell.source)
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown_solution(cell.source)
    return nb


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Step 2: drop every output and execution count."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def normalise_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Step 3: keep only kernel/language names and cell tags; keep cell ids (number missing ones).

    The solution's cell ids are kept so that tools can match a released cell with
    the solution cell it came from.
    """
    kernel = nb.metadata.get("kernelspec", {})
    nb.metadata = nbformat.NotebookNode(
        kernelspec=nbformat.NotebookNode(
            name=kernel.get("name", "python3"),
            display_name=kernel.get("display_name", "Python 3"),
            language="python",
        ),
        language_info=nbformat.NotebookNode(name="python"),
        autograder=nbformat.NotebookNode(assignment=ASSIGNMENT_ID),
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        cell.metadata = nbformat.NotebookNode(tags=tags) if tags else nbformat.NotebookNode()
        cell.id = cell.get("id") or f"cell-{index:03d}"
        cell.pop("attachments", None)
    return nb


PIPELINE: tuple[Callable[[nbformat.NotebookNode], nbformat.NotebookNode], ...] = (
    strip_solutions,
    clear_outputs,
    normalise_metadata,
)


def release_notebook(solution_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a solution notebook (the input is left untouched)."""
    nb = copy.deepcopy(solution_nb)
    for step in PIPELINE:
        nb = step(nb)
    nbformat.validate(nb)
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The canonical serialisation used for every released file."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write_release(
    solution: str | Path = SOLUTION_NOTEBOOK, out_dir: str | Path = RELEASE_DIR
) -> list[Path]:
    """Write the student notebook and ``public_checks.py`` into ``out_dir``."""
    solution = Path(solution)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    student = release_notebook(nbformat.read(str(solution), as_version=4))
    notebook_path = out_dir / solution.name
    notebook_path.write_text(notebook_text(student), encoding="utf-8")
    checks_path = out_dir / PUBLIC_CHECKS.name
    shutil.copyfile(PUBLIC_CHECKS, checks_path)
    return [notebook_path, checks_path]


def is_stale(solution: str | Path = SOLUTION_NOTEBOOK, out_dir: str | Path = RELEASE_DIR) -> bool:
    """Whether the released files differ from what the solution would produce now."""
    solution = Path(solution)
    out_dir = Path(out_dir)
    student = release_notebook(nbformat.read(str(solution), as_version=4))
    notebook_path = out_dir / solution.name
    checks_path = out_dir / PUBLIC_CHECKS.name
    if not notebook_path.is_file() or not checks_path.is_file():
        return True
    return (
        notebook_path.read_text(encoding="utf-8") != notebook_text(student)
        or checks_path.read_bytes() != PUBLIC_CHECKS.read_bytes()
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: ``release [--solution PATH] [--out DIR] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m autograder release", description=__doc__)
    parser.add_argument("--solution", default=str(SOLUTION_NOTEBOOK), help="solution notebook")
    parser.add_argument("--out", default=str(RELEASE_DIR), help="student folder to write")
    parser.add_argument(
        "--check", action="store_true", help="only report whether the release is stale (exit 1)"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = is_stale(args.solution, args.out)
        print(f"release in {args.out} is {'STALE: run make release' if stale else 'up to date'}")
        return 1 if stale else 0
    for path in write_release(args.solution, args.out):
        print(f"wrote {path}")
    return 0
