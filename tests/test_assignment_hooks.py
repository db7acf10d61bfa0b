"""What the kit takes from the assignment instead of naming it: the default id (the one folder
under ``solutions/``, or the Makefile's ``ASSIGNMENT``) and the warm-up of the sandbox's warm
parent (the assignment's student-side module ``warm_up``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from autograder.assignment import model
from autograder.inside import worker

REPOSITORY = Path(__file__).resolve().parent.parent


def _assignment_folder(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / model.FILE).write_text(f'id = "{name}"\n', encoding="utf-8")


def test_the_default_is_the_environment_else_the_only_assignment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model, "SOLUTIONS", tmp_path)
    monkeypatch.delenv(model.ENV, raising=False)
    _assignment_folder(tmp_path, "only_one")
    assert model.default_ref() == "only_one"
    _assignment_folder(tmp_path, "second")
    with pytest.raises(model.AssignmentError, match="--assignment") as raised:
        model.default_ref()
    assert "only_one, second" in str(raised.value)
    monkeypatch.setenv(model.ENV, "second")
    assert model.default_ref() == "second"


def test_no_kit_module_warms_up_an_optimizer() -> None:
    """The torch.optim warm-up is the assignment's, not the generic kit's."""
    for path in (REPOSITORY / "autograder").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "torch.optim." not in text and "clip_grad_norm_" not in text, path


def test_the_warm_up_hook_is_student_side_and_leaves_torch_as_it_found_it() -> None:
    spec = model.load("adam_variants").student_side_spec()
    assert {"probes", "stand_ins", "warm_up"} <= set(spec["modules"])
    hook = worker.load_module("_test_adam_variants_warm_up", spec["modules"]["warm_up"])
    try:
        torch.manual_seed(1234)
        expected = torch.rand(3)
        torch.manual_seed(1234)
        hook.warm_up()
        assert torch.equal(torch.rand(3), expected)  # the random state was put back
        assert "torch._dynamo" in sys.modules  # what the first optimizer would import
    finally:
        del sys.modules["_test_adam_variants_warm_up"]
