"""``python -m autograder release``: generate the student notebook from the solution.

An nbformat pipeline of small one-job steps, in the style of nbgrader's
preprocessors:

1. :func:`strip_code_solution` replaces every ``### BEGIN SOLUTION`` ...
   ``### END SOLUTION`` block of a code cell by
   ``raise NotImplementedError("<hint>")`` at the block's indentation. The hint
   is the text of a ``# HINT: ...`` comment right above the block, else
   ``implement <function name>``. A module-level block (the q11 constants)
   becomes one ``NAME = None  # one of ...`` line per assigned name (the choices
   the assignment file gives it).
2. :func:`strip_markdown_solution` replaces a ``<!-- BEGIN SOLUTION -->`` ...
   ``<!-- END SOLUTION -->`` region of a markdown cell by the answer placeholder.
3. :func:`clear_outputs` drops outputs and execution counts.
4. :func:`normalise_metadata` keeps only the kernel and language names, the
   assignment id (``{"autograder": {"assignment": ...}}``, how the grader knows
   the notebook) and the cell tags (and the solution's cell ids), so the output
   is deterministic.

:func:`release_notebook` chains them (pure: the input is not modified) and
:func:`write_release` checks the points (the notebook's headings and the hidden
checks' markers against the assignment file) and writes the student folder
``assignments/<id>/``: the notebook, and copies of the assignment's
``public_checks.py`` and ``contract.md``. Running it twice gives byte-identical
files.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat

from autograder.assignment.consistency import verify
from autograder.assignment.model import Assignment

BEGIN_CODE = "### BEGIN SOLUTION"
END_CODE = "### END SOLUTION"
MARKDOWN_SOLUTION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.DOTALL)
ANSWER_PLACEHOLDER = "_Type your answer here._"

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


def _constant_stub(
    block: list[str], indent: str, choices: Mapping[str, Sequence[str]]
) -> list[str]:
    """``NAME = None  # one of ...`` for every name a module-level block assigns (``choices``:
    the answers the assignment file lists for a name)."""
    try:
        tree = ast.parse("\n".join(line[len(indent) :] for line in block))
    except SyntaxError as err:
        raise ReleaseError(f"module-level solution block does not parse: {err}") from err
    stubs: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if not isinstance(target, ast.Name):
                raise ReleaseError("module-level solution blocks may only assign plain names")
            listed = choices.get(target.id)
            comment = "one of " + ", ".join(f'"{c}"' for c in listed) if listed else "your answer"
            stubs.append(f"{indent}{target.id} = None  # {comment}")
    if not stubs:
        raise ReleaseError("a module-level solution block assigns no names")
    return stubs


def strip_code_solution(source: str, choices: Mapping[str, Sequence[str]]) -> str:
    """Replace every solution block of a code cell's source by its stub (``choices``: the
    assignment's, ``Assignment.choices``, named in a module-level constant's stub)."""
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
            out += _constant_stub(block, indent, choices)
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


def strip_solutions(
    nb: nbformat.NotebookNode, choices: Mapping[str, Sequence[str]]
) -> nbformat.NotebookNode:
    """Step 1: stub out the solution of every code and markdown cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_code_solution(cell.source, choices)
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


def normalise_metadata(nb: nbformat.NotebookNode, assignment_id: str) -> nbformat.NotebookNode:
    """Step 3: keep only kernel/language names, the assignment's id and cell tags; keep cell
    ids (number missing ones).

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
        autograder=nbformat.NotebookNode(assignment=assignment_id),
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        cell.metadata = nbformat.NotebookNode(tags=tags) if tags else nbformat.NotebookNode()
        cell.id = cell.get("id") or f"cell-{index:03d}"
        cell.pop("attachments", None)
    return nb


def release_notebook(
    solution_nb: nbformat.NotebookNode, assignment: Assignment
) -> nbformat.NotebookNode:
    """The student version of ``assignment``'s solution notebook (the input is left
    untouched)."""
    nb = copy.deepcopy(solution_nb)
    nb = strip_solutions(nb, assignment.choices)
    nb = clear_outputs(nb)
    nb = normalise_metadata(nb, assignment.id)
    nbformat.validate(nb)
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The canonical serialisation used for every released file."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def released_files(assignment: Assignment, solution: Path) -> dict[str, bytes]:
    """What the student folder holds: the notebook, the public checks and the contract."""
    student = release_notebook(nbformat.read(str(solution), as_version=4), assignment)
    files = {solution.name: notebook_text(student).encode("utf-8")}
    for path in (assignment.public_checks, assignment.contract):
        if path.is_file():
            files[path.name] = path.read_bytes()
    return files


def write_release(
    assignment: Assignment,
    solution: str | Path | None = None,
    out_dir: str | Path | None = None,
) -> list[Path]:
    """Check the points, then write the student folder of ``assignment``
    (``assignments/<id>/``)."""
    solution = Path(solution or assignment.solution_notebook)
    out_dir = Path(out_dir or assignment.release_dir)
    verify(assignment, solution)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in released_files(assignment, solution).items():
        (out_dir / name).write_bytes(data)
        written.append(out_dir / name)
    return written


def is_stale(
    assignment: Assignment,
    solution: str | Path | None = None,
    out_dir: str | Path | None = None,
) -> bool:
    """Whether the released files differ from what the solution would produce now."""
    solution = Path(solution or assignment.solution_notebook)
    out_dir = Path(out_dir or assignment.release_dir)
    for name, data in released_files(assignment, solution).items():
        path = out_dir / name
        if not path.is_file() or path.read_bytes() != data:
            return True
    return False
