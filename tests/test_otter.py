"""otter-grader path: ``otter run -a <zip>`` grades in the kit's sandbox, like ``make grade``.

The zip is built once (in a temporary folder, with a fixed seed so the three
paths can be compared) and ``otter run`` grades each sample submission and the
forger in this environment. Expected points come from the native engine
(:func:`autograder.engine.grade_one`), never from otter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import tomllib
from adam import ASSIGNMENT, ASSIGNMENT_ID, POINTS, QUESTION_IDS
from test_otter_nbgrader_common import SEED, leaks, native_result, samples

from autograder.integrations import otter_build
from autograder.integrations.gradescope import PLUGIN

pytestmark = pytest.mark.slow
SAMPLES = samples()
ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def otter_zip(tmp_path_factory) -> Path:
    return otter_build.build_otter_zip(ASSIGNMENT, tmp_path_factory.mktemp("dist"), seed=SEED)


def otter_run(zip_path: Path, notebook: Path, outdir: Path) -> dict:
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "otter",
            "run",
            "-a",
            str(zip_path),
            str(notebook),
            "-o",
            str(outdir),
            "--no-logo",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results = outdir / "results.json"
    assert results.is_file(), f"otter run wrote no results:\n{(proc.stdout + proc.stderr)[-3000:]}"
    text = results.read_text()
    return {
        "json": json.loads(text),
        "text": text,
        "log": proc.stdout + proc.stderr,
        "seconds": time.monotonic() - t0,
    }


@pytest.fixture(scope="module")
def otter_results(otter_zip, tmp_path_factory) -> dict[str, dict]:
    """``otter run`` on every sample: name -> parsed results.json (plus its raw text)."""
    out = {
        name: otter_run(otter_zip, path, tmp_path_factory.mktemp(f"otter-{name}"))
        for name, path in SAMPLES.items()
    }
    sys.stderr.write(
        "\notter run seconds per submission: "
        f"{ {k: round(v['seconds'], 1) for k, v in out.items()} }\n"
    )
    return out


def _points(results: dict) -> dict[str, float]:
    scores = {t["name"].split(" ")[0]: t for t in results["tests"] if "max_score" in t}
    return {qid: round(float(scores[qid]["score"]), 6) for qid in QUESTION_IDS}


def test_zip_holds_the_plugin_the_kit_and_a_lean_setup(otter_zip):
    with zipfile.ZipFile(otter_zip) as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        setup = zf.read("setup.sh").decode()
        run = zf.read("run_autograder").decode()
        requirements = zf.read("requirements.txt").decode()
        tests = {qid: zf.read(f"tests/{qid}.py").decode() for qid in QUESTION_IDS}
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert config["plugins"] == [
        {PLUGIN: {"visibility": "visible", "assignment": ASSIGNMENT_ID, "seed": SEED}}
    ]
    for needed in (
        "kit/autograder/sandbox/jail.py",
        "kit/autograder/checks/run_checks.py",
        "kit/solutions/adam_variants/checks/test_q4_adam_step.py",
        "kit/pyproject.toml",
        "kit/solutions/adam_variants/adam_variants.ipynb",
    ):
        assert needed in names, needed
    assert not any(n.startswith("files/") for n in names)  # nothing beside the submission
    for text in tests.values():  # placeholders: no check is in a test file
        assert "cases': []" in text and "test_" not in text
    project = tomllib.loads((otter_build.ROOT / "pyproject.toml").read_text())["project"]
    (torch_pin,) = [pin for pin in project["dependencies"] if pin.startswith("torch==")]
    assert "download.pytorch.org/whl/cpu" in requirements
    assert torch_pin in requirements.splitlines()
    lock = (otter_build.ROOT / "requirements-lock.txt").read_text().splitlines()
    for line in requirements.splitlines()[1:]:  # each pin as the lock writes it
        assert line in lock, line
    for heavy in ("miniforge", "mamba", "conda", "playwright", "chromium", "texlive", "pandoc"):
        assert heavy not in setup.lower(), heavy
    assert "-e /autograder/source/kit" in setup and "python3.11 -m venv" in setup
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0
    assert "-m autograder gradescope" in run
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111


def test_build_is_idempotent(otter_zip):
    """A second build with unchanged inputs rewrites nothing (retried if a file was edited)."""
    stamp = otter_zip.parent / f".{otter_zip.name}.sha256"
    for _ in range(3):
        otter_build.build_otter_zip(ASSIGNMENT, otter_zip.parent, seed=SEED)
        digest, before = stamp.read_text(), otter_zip.stat().st_mtime_ns
        again = otter_build.build_otter_zip(ASSIGNMENT, otter_zip.parent, seed=SEED)
        if stamp.read_text() == digest:  # the kit's files did not change in between
            assert again == otter_zip and again.stat().st_mtime_ns == before
            return
    raise AssertionError("the kit's files kept changing; cannot check idempotence")


@pytest.mark.parametrize("name", list(SAMPLES))
def test_otter_points_match_native_engine(name, otter_results):
    native = native_result(str(SAMPLES[name]))
    results = otter_results[name]["json"]
    assert _points(results) == native["points"], otter_results[name]["log"][-3000:]
    core = sum(p for q, p in native["points"].items() if q != "bonus_variants")
    assert results["score"] == pytest.approx(core)  # extra credit: a column of its own


def test_the_forger_earns_nothing(otter_results):
    assert otter_results["forger"]["json"]["score"] == 0


def test_results_are_visible_honest_and_leak_nothing(otter_results):
    for name, res in otter_results.items():
        tests = res["json"]["tests"]
        assert "Public Tests" not in [t["name"] for t in tests]
        assert "All test cases passed" not in res["text"]
        for test in tests:
            assert test["visibility"] == "visible", (name, test["name"])
        bonus = next(t for t in tests if t["name"].startswith("bonus_variants"))
        assert bonus["max_score"] == 10 and bonus["tags"] == ["extra credit"]
        assert sum(t.get("max_score", 0) for t in tests if t is not bonus) == 100
        assert leaks(res["text"], SAMPLES[name]) == [], name
    blank = otter_results["blank"]["json"]["tests"]
    for qid, test in zip(QUESTION_IDS, blank, strict=False):
        assert test["score"] == 0 and test["status"] == "failed"
        if qid != "q11_concepts":  # its constants are None: "should be a string, one of ..."
            assert "Not implemented yet" in test["output"], test


def test_failure_output_is_the_diagnosis(otter_results):
    mistaken = [n for n in SAMPLES if n not in ("correct", "blank", "forger")]
    assert mistaken, "no sample with a mistake"
    for name in mistaken:
        tests = {t["name"].split(" ")[0]: t for t in otter_results[name]["json"]["tests"]}
        native = native_result(str(SAMPLES[name]))
        for qid, q in native["questions"].items():
            for check in q.checks:
                if not check.passed:
                    assert check.message.splitlines()[0] in tests[qid]["output"], check.name


def test_an_endless_notebook_ends_within_the_engines_limits(tmp_path_factory):
    """otter's own runner has no limit; the sandbox's apply (here a short cell limit)."""
    quick = otter_build.build_otter_zip(
        ASSIGNMENT,
        tmp_path_factory.mktemp("quick"),
        seed=SEED,
        limits={"cell_timeout": 3, "call_timeout": 3, "total_timeout": 90},
    )
    res = otter_run(quick, CORPUS / "loop_top.ipynb", tmp_path_factory.mktemp("loop"))
    points = _points(res["json"])
    assert points["q1_baselines"] == POINTS["q1_baselines"]  # what survives is credited
    assert points["q2_adagrad"] == POINTS["q2_adagrad"]
    assert "timed out" in json.dumps(res["json"]) or res["json"]["score"] > 0


def test_the_summary_is_the_headline_never_a_full_score(otter_results):
    """otter's own "Total Score" line is off; the plugin prints the kit's headline, so the
    no-bias sample (core 90, bonus 10) never reads 100 / 100; no Python warning."""
    log = otter_results["no_bias_correction"]["log"]
    assert "Total Score" not in log and "100.000 / 100.000" not in log
    assert "Core 90 / 100 · extra credit +10" in log
    assert otter_results["no_bias_correction"]["json"]["score"] == 90
    for name, res in otter_results.items():
        assert "Warning" not in res["log"], (
            name,
            [line for line in res["log"].splitlines() if "Warning" in line],
        )


def test_a_syntax_error_is_named_with_its_line(otter_zip, tmp_path):
    res = otter_run(otter_zip, ROOT / "submissions" / "broken_syntax.ipynb", tmp_path)
    q3 = next(t for t in res["json"]["tests"] if t["name"].startswith("q3_rmsprop"))
    assert (
        "the cell defining `rmsprop_step` has a syntax error (line 1: expected ':')" in q3["output"]
    )
    assert "Core 92 / 100" in res["log"]
