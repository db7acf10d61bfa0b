# The kit's commands. Every target creates .venv itself when it is missing.
PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
SUBMISSIONS ?= submissions
GRADES      ?= grades
JOBS        ?=
ARGS        ?=

.PHONY: venv test lint grade release samples bench gradescope nbgrader clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-lock.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(PY) -m pytest -q $(ARGS)

grade: $(STAMP)
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(GRADES) $(if $(JOBS),--jobs $(JOBS),) $(ARGS)

release: $(STAMP)
	$(PY) -m autograder release

samples: $(STAMP)
	$(PY) -m autograder.samples

bench: $(STAMP)
	$(PY) -m autograder.bench $(ARGS)

gradescope: $(STAMP)
	$(PY) -m autograder.otter_build

nbgrader: $(STAMP)
	$(PY) -m autograder.nbgrader_build

clean:
	rm -rf $(GRADES) dist nbgrader_course bench .pytest_cache
