"""Build the correct-styles corpus: notebooks that combine independently written styles.

Each file in ``snippets/<question>/`` is one way a student could write that question, from
the contract alone; each file in ``demos/`` holds extra cells a student might add (prints,
comparisons with ``torch.optim``). A snippet or demo file is a list of sections:

* ``# %% <name>`` replaces the released notebook's stub cell that defines ``<name>``;
* ``# %% after <name>`` inserts a new code cell after the cell that defines ``<name>``;
  ``after check <question>`` after the question's ``check(...)`` cell, ``after imports``
  after the first code cell.

Text above the first section (the file's docstring) describes the style and is not copied.
Notebook ``k`` takes, for every question, style ``(k + k // n + j) % n`` of its ``n`` styles
(``j`` the question's position), so every style appears and the combinations vary, and
three distinct demo files (``k % d`` and two more at a stride that changes every ``d``
notebooks; ``d``, the number of demo files, is prime). Deterministic: the same files give the same notebooks.

    python solutions/adam_variants/tests/correct_styles/build_corpus.py OUT      # writes OUT/style_NN.ipynb, OUT/manifest.json
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
RELEASED = ROOT / "assignments" / "adam_variants" / "adam_variants.ipynb"
SNIPPETS = HERE / "snippets"
DEMOS = HERE / "demos"
COUNT = 48
DEMOS_PER_NOTEBOOK = 3

SECTION = re.compile(r"^# %% (?P<head>.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    """One cell's worth of a snippet: replace the stub defining ``anchor`` or insert after it."""

    anchor: str
    insert: bool
    source: str


def read_sections(path: Path) -> list[Section]:
    """The sections of a snippet or demo file, in file order."""
    text = path.read_text()
    heads = list(SECTION.finditer(text))
    if not heads:
        raise ValueError(f"{path}: no '# %%' section")
    sections = []
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        body = text[head.end() : following.start() if following else len(text)].strip("\n")
        words = head["head"].strip()
        insert = words.startswith("after ")
        sections.append(
            Section(
                anchor=words.removeprefix("after ").strip(),
                insert=insert,
                source=body.rstrip() + "\n",
            )
        )
    return sections


def defined_names(source: str) -> set[str]:
    """Top-level names a cell defines (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def cell_text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def anchor_index(cells: list[dict], anchor: str) -> int:
    """Index of the released cell an anchor names."""
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    if anchor == "imports":
        return code[0]
    if anchor.startswith("check "):
        call = f'check("{anchor.removeprefix("check ").strip()}")'
        found = [i for i in code if cell_text(cells[i]).strip() == call]
    else:
        found = [
            i
            for i in code
            if cells[i]["metadata"].get("tags") and anchor in defined_names(cell_text(cells[i]))
        ]
    if len(found) != 1:
        raise ValueError(f"anchor {anchor!r} matches {len(found)} cells of the released notebook")
    return found[0]


def code_cell(source: str, tags: list[str] | None = None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": tags} if tags else {},
        "outputs": [],
        "source": source,
    }


def compose(released: dict, files: list[Path]) -> dict:
    """The released notebook with every stub replaced and every demo inserted."""
    nb = copy.deepcopy(released)
    cells = nb["cells"]
    stub_cells = released["cells"]
    after: dict[int, list[dict]] = {}
    replaced: set[int] = set()
    for path in files:
        for section in read_sections(path):
            index = anchor_index(stub_cells, section.anchor)
            if section.insert:
                after.setdefault(index, []).append(code_cell(section.source))
            else:
                if index in replaced:
                    raise ValueError(f"{path}: cell of {section.anchor!r} replaced twice")
                replaced.add(index)
                cells[index] = code_cell(section.source, cells[index]["metadata"].get("tags"))
    stubs = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and c["metadata"].get("tags") and i not in replaced
    ]
    if stubs:
        names = sorted(n for i in stubs for n in defined_names(cell_text(cells[i])))
        raise ValueError(f"no snippet replaces the stubs of {names}")
    nb["cells"] = [c for i, cell in enumerate(cells) for c in [cell, *after.get(i, [])]]
    return nb


def questions() -> list[str]:
    """Question folders in the order of the released notebook's tags."""
    order = []
    for cell in json.loads(RELEASED.read_text())["cells"]:
        for tag in cell["metadata"].get("tags", []):
            if tag not in order and (SNIPPETS / tag).is_dir():
                order.append(tag)
    return order


def pick(items: list[Path], k: int, shift: int) -> Path:
    n = len(items)
    return items[(k + k // n + shift) % n]


def plan(count: int = COUNT) -> dict[str, list[Path]]:
    """Notebook name -> the snippet and demo files it is built from."""
    styles = {q: sorted((SNIPPETS / q).glob("*.py")) for q in questions()}
    demos = sorted(DEMOS.glob("*.py"))
    result = {}
    for k in range(count):
        files = [pick(styles[q], k, j) for j, q in enumerate(styles)]
        start, stride = k % len(demos), 1 + (k // len(demos)) % (len(demos) - 1)
        chosen = [demos[(start + j * stride) % len(demos)] for j in range(DEMOS_PER_NOTEBOOK)]
        if len(set(chosen)) != len(chosen):
            raise ValueError("the number of demo files must be prime for distinct picks")
        result[f"style_{k:02d}"] = files + chosen
    return result


def build(out: Path, count: int = COUNT) -> dict[str, list[str]]:
    """Write the corpus into ``out``; returns the manifest (notebook -> files it combines)."""
    released = json.loads(RELEASED.read_text())
    out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, files in plan(count).items():
        nb = compose(released, files)
        (out / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        manifest[name] = [str(f.relative_to(HERE)) for f in files]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python solutions/adam_variants/tests/correct_styles/build_corpus.py OUT")
    written = build(Path(sys.argv[1]))
    print(f"{len(written)} notebooks -> {sys.argv[1]}")
