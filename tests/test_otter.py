"""otter-grader path: the zip built by ``autograder.otter_build`` grades like ``make grade``.

The zip is built once (in a temporary folder) and ``otter run`` grades each
sample submission in this environment. Expected points come from the native
engine (:func:`autograder.engine.grade_one`), never from otter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from test_otter_nbgrader_common import leaks, native_result, samples

from autograder import otter_build
from autograder.check_catalog import collect_checks
from autograder.contract import POINTS, QUESTION_IDS

pytestmark = pytest.mark.slow
SAMPLES = samples()
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def otter_zip(tmp_path_factory) -> Path:
    return otter_build.build_otter_zip(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def otter_results(otter_zip, tmp_path_factory) -> dict[str, dict]:
    """``otter run`` on every sample: name -> parsed results.json (plus its raw text)."""
    out: dict[str, dict] = {}
    for name, path in SAMPLES.items():
        outdir = tmp_path_factory.mktemp(f"otter-{name}")
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "otter", "run", "-a", str(otter_zip), str(path),
             "-o", str(outdir), "--no-logo"],
            capture_output=True, text=True, timeout=600, check=False)
        TIMINGS[name] = time.monotonic() - t0
        results = outdir / "results.json"
        assert results.is_file(), f"otter run wrote no results for {name}:\n{proc.stdout[-3000:]}"
        text = results.read_text()
        out[name] = {"json": json.loads(text), "text": text, "log": proc.stdout + proc.stderr}
    sys.stderr.write(f"\notter run seconds per submission: "
                     f"{ {k: round(v, 1) for k, v in TIMINGS.items()} }\n")
    return out


def _points(results: dict) -> dict[str, float]:
    by_name = {t["name"]: t for t in results["tests"]}
    return {qid: round(float(by_name[qid]["score"]), 6) if qid in by_name else 0.0
            for qid in QUESTION_IDS}


def test_zip_holds_tests_kit_and_requirements(otter_zip):
    catalog = collect_checks()
    with zipfile.ZipFile(otter_zip) as zf:
        names = set(zf.namelist())
        env = zf.read("environment.yml").decode()
        config = json.loads(zf.read("otter_config.json"))
        tests = {qid: zf.read(f"tests/{qid}.py").decode() for qid in QUESTION_IDS}
    for needed in ("files/adam_kit/autograder/in_kernel.py",
                   "files/adam_kit/autograder/run_checks.py",
                   "files/adam_kit/autograder/reference_source.py",
                   "files/adam_kit/autograder/checks/test_q4_adam_step.py",
                   "files/adam_kit/solutions/adam_variants/adam_variants.ipynb",
                   "files/adam_kit_hidden.py", "files/public_checks.py",
                   "setup.sh", "run_autograder"):
        assert needed in names, needed
    assert "torch==2.13.0" in env and "download.pytorch.org/whl/cpu" in env
    assert config["show_hidden"] is False
    from otter.test_files import OKTestFile

    for qid, text in tests.items():
        ns: dict = {}
        exec(text, ns)
        assert ns["OK_FORMAT"] is True
        test = OKTestFile.from_spec(ns["test"], path=f"tests/{qid}.py")
        assert [c.name for c in test.test_cases] == [c.name for c in catalog[qid]]
        assert all(c.hidden for c in test.test_cases)
        assert sum(c.points for c in test.test_cases) == pytest.approx(POINTS[qid])
        for case, check in zip(test.test_cases, catalog[qid], strict=True):
            assert f"hidden_check({qid!r}, {check.name!r})" in case.body


def test_build_is_idempotent(otter_zip):
    """A second build with unchanged inputs rewrites nothing (retried if a file was edited)."""
    stamp = otter_zip.parent / f".{otter_zip.name}.sha256"
    for _ in range(3):
        otter_build.build_otter_zip(otter_zip.parent)
        digest, before = stamp.read_text(), otter_zip.stat().st_mtime_ns
        again = otter_build.build_otter_zip(otter_zip.parent)
        if stamp.read_text() == digest:  # the kit's files did not change in between
            assert again == otter_zip and again.stat().st_mtime_ns == before
            return
    raise AssertionError("the kit's files kept changing; cannot check idempotence")


@pytest.mark.parametrize("name", list(SAMPLES))
def test_otter_points_match_native_engine(name, otter_results):
    native = native_result(str(SAMPLES[name]))
    results = otter_results[name]["json"]
    if native["status"] != "graded":
        assert results.get("score", 0) == 0, "an ungradable notebook scores nothing in otter"
        return
    assert _points(results) == native["points"], otter_results[name]["log"][-3000:]


def test_otter_results_mark_checks_hidden_and_leak_nothing(otter_results):
    for name, res in otter_results.items():
        for test in res["json"]["tests"]:
            if test["name"] in QUESTION_IDS:
                assert test["visibility"] == "hidden", (name, test["name"])
        assert leaks(res["text"], SAMPLES[name]) == [], name


def test_otter_failure_message_is_the_diagnosis(otter_results):
    mistaken = [n for n in SAMPLES if n not in ("correct", "blank")]
    assert mistaken, "no sample with a mistake"
    for name in mistaken:
        tests = {t["name"]: t for t in otter_results[name]["json"]["tests"]}
        native = native_result(str(SAMPLES[name]))
        for qid, q in native["questions"].items():
            failed = [c for c in q.checks if not c.passed]
            for check in failed:
                assert check.message.splitlines()[0] in tests[qid]["output"], (name, check.name)
                # graded by the kit shipped in the zip, not by the one installed here
                assert "submission/adam_kit/autograder/in_kernel.py" in tests[qid]["output"]
