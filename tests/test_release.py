"""The release pipeline: stubs and hints, determinism, the committed copies, no leaked solution."""

from __future__ import annotations

import copy
from pathlib import Path

import adam
import nbformat
import pytest
from adam import ASSIGNMENT, RELEASE_DIR, RELEASED_NOTEBOOK, SOLUTION_NOTEBOOK
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.assignment import release
from autograder.assignment.model import SUBMISSIONS as SUBMISSIONS_DIR
from autograder.assignment.notebook import read_notebook
from autograder.cli import release as release_command

FUNC = '''def f(x):
    """Doc."""
    # HINT: square it
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION


def g(x, y=2):
    ### BEGIN SOLUTION
    total = x + y
    return total
    ### END SOLUTION'''


def test_blocks_become_raises_with_hint_or_name() -> None:
    out = release.strip_code_solution(FUNC, ASSIGNMENT.choices)
    assert '    # HINT: square it\n    raise NotImplementedError("square it")' in out
    assert '    raise NotImplementedError("implement g")' in out
    assert "x * x" not in out and "total" not in out and "SOLUTION" not in out
    ns: dict = {}
    exec(out, ns)  # stubs raise only when called
    with pytest.raises(NotImplementedError, match="implement g"):
        ns["g"](1)


def test_method_blocks_name_the_class() -> None:
    src = """class A(object):
    def __init__(self, a=1):
        super().__init__()
        ### BEGIN SOLUTION
        self.a = a
        ### END SOLUTION

    @staticmethod
    def go():
        ### BEGIN SOLUTION
        return 1
        ### END SOLUTION"""
    out = release.strip_code_solution(src, ASSIGNMENT.choices)
    assert (
        '        super().__init__()\n        raise NotImplementedError("implement A.__init__")'
        in out
    )
    assert 'raise NotImplementedError("implement A.go")' in out


def test_module_level_block_becomes_none_constants() -> None:
    src = '### BEGIN SOLUTION\nANSWER_DECOUPLED = "adamw"\nOTHER = 3\n### END SOLUTION'
    assert release.strip_code_solution(src, ASSIGNMENT.choices).split("\n") == [
        'ANSWER_DECOUPLED = None  # one of "adam_l2", "adamw"',
        "OTHER = None  # your answer",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n",
        "def f():\n    return 1\n    ### END SOLUTION\n",
        "### BEGIN SOLUTION\nprint(1)\n### END SOLUTION",
    ],
)
def test_malformed_markers_are_refused(bad: str) -> None:
    with pytest.raises(release.ReleaseError):
        release.strip_code_solution(bad, ASSIGNMENT.choices)


def test_markdown_answer_is_replaced() -> None:
    md = "Intro\n<!-- BEGIN SOLUTION -->\nsecret answer\n<!-- END SOLUTION -->"
    assert release.strip_markdown_solution(md) == "Intro\n_Type your answer here._"


def test_release_is_pure_and_normalises_metadata() -> None:
    code = new_code_cell(
        FUNC,
        metadata={"tags": ["q1"], "collapsed": True, "scrolled": True},
        execution_count=3,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="hi")],
    )
    nb = new_notebook(
        cells=[new_markdown_cell("x", metadata={"foo": 1}), code],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "P"},
            "widgets": {"a": 1},
            "language_info": {"name": "python", "version": "3.12"},
        },
    )
    before = copy.deepcopy(nb)
    out = release.release_notebook(nb, ASSIGNMENT)
    assert nb == before
    assert set(out.metadata) == {"kernelspec", "language_info", "autograder"}
    assert dict(out.metadata.language_info) == {"name": "python"}
    assert dict(out.metadata.autograder) == {"assignment": "adam_variants"}
    assert out.cells[0].metadata == {} and out.cells[1].metadata == {"tags": ["q1"]}
    assert out.cells[1].outputs == [] and out.cells[1].execution_count is None
    assert [c.id for c in out.cells] == [c.id for c in nb.cells]
    assert release.notebook_text(out) == release.notebook_text(
        release.release_notebook(nb, ASSIGNMENT)
    )


def test_release_reproduces_the_committed_folder(tmp_path: Path) -> None:
    paths = release.write_release(ASSIGNMENT, SOLUTION_NOTEBOOK, tmp_path)
    for path in paths:
        assert path.read_bytes() == (RELEASE_DIR / path.name).read_bytes(), (
            f"{path.name} is stale: run `make release`"
        )
    first = [p.read_bytes() for p in paths]
    assert [
        p.read_bytes() for p in release.write_release(ASSIGNMENT, SOLUTION_NOTEBOOK, tmp_path)
    ] == first
    assert not release.is_stale(ASSIGNMENT)
    assert release_command.main(["--check"]) == 0


def _solution_lines() -> set[str]:
    """Non-trivial lines found only between the markers of the solution notebook."""
    lines: set[str] = set()
    public: set[str] = set()
    for cell in read_notebook(SOLUTION_NOTEBOOK).cells:
        inside = False
        for line in cell.source.split("\n"):
            text = line.strip()
            if text in (release.BEGIN_CODE, "<!-- BEGIN SOLUTION -->"):
                inside = True
            elif text in (release.END_CODE, "<!-- END SOLUTION -->"):
                inside = False
            elif inside and len(text) >= 12 and not text.startswith("#"):
                lines.add(text)
            elif not inside:
                public.add(text)
    return lines - public


def test_no_solution_line_is_released() -> None:
    secret = _solution_lines()
    assert len(secret) > 60
    for path in RELEASE_DIR.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            body = [nbformat.reads(text, as_version=4)] if path.suffix == ".ipynb" else None
            released_lines = (
                {ln.strip() for c in body[0].cells for ln in c.source.split("\n")}
                if body
                else {ln.strip() for ln in text.split("\n")}
            )
            leaked = secret & released_lines
            assert not leaked, f"{path.name} leaks {sorted(leaked)[:3]}"


def test_released_stubs_and_answer_placeholder() -> None:
    nb = read_notebook(RELEASED_NOTEBOOK)
    source = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in source and "END SOLUTION" not in source
    assert source.count("raise NotImplementedError(") >= 25
    free = [c for c in nb.cells if "free_response" in c.metadata.get("tags", [])]
    assert [c.source for c in free] == [release.ANSWER_PLACEHOLDER]
    assert 'ANSWER_FLIPNET_WINNER = None  # one of "momentum", "adam"' in source


def test_samples_are_regenerated_byte_for_byte() -> None:
    samples = adam.ASSIGNMENT.module("samples")
    built = samples.build_samples(
        read_notebook(SOLUTION_NOTEBOOK), read_notebook(RELEASED_NOTEBOOK)
    )
    assert set(built) == set(samples.SAMPLE_NAMES)
    for name, nb in built.items():
        committed = (SUBMISSIONS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
        assert release.notebook_text(nb) == committed, (
            f"{name} is stale: python -m autograder samples"
        )
    assert release.notebook_text(built["blank"]) == RELEASED_NOTEBOOK.read_text(encoding="utf-8")


def test_samples_differ_where_intended() -> None:
    def code(name: str) -> str:
        nb = read_notebook(SUBMISSIONS_DIR / f"{name}.ipynb")
        return "\n".join(c.source for c in nb.cells if c.cell_type == "code")

    correct = code("correct")
    assert "NotImplementedError(" not in correct
    compile(correct, "correct", "exec")
    assert (
        "bias_correction(beta1, t)"
        not in code("no_bias_correction").split("def adam_step")[1][:400]
    )
    assert "torch.sum(" in code("adamw_as_l2")
    with pytest.raises(SyntaxError):
        compile(code("broken_syntax"), "broken", "exec")
