# The kit's commands. Every target creates .venv itself when it is missing.
PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
ASSIGNMENT  ?= adam_variants
SUBMISSIONS ?= submissions
GRADES      ?= grades
JOBS        ?=
ARGS        ?=
ROSTER      ?=
TIMESTAMPS  ?=

# The variables a command line may set (make grade SUBMISSIONS=...). Any other name
# given on the command line is a typo (make grade SUBMISSION=x would silently grade
# submissions/), so make stops. Add a new variable here, one name per line.
KNOWN_VARIABLES := PYTHON
KNOWN_VARIABLES += ASSIGNMENT
KNOWN_VARIABLES += SUBMISSIONS
KNOWN_VARIABLES += GRADES
KNOWN_VARIABLES += JOBS
KNOWN_VARIABLES += ARGS
KNOWN_VARIABLES += ROSTER
KNOWN_VARIABLES += TIMESTAMPS
UNKNOWN_VARIABLES := $(filter-out $(KNOWN_VARIABLES),$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
ifneq ($(UNKNOWN_VARIABLES),)
$(error unknown variable $(UNKNOWN_VARIABLES) on the command line; known: $(KNOWN_VARIABLES))
endif

# Every command works on one assignment: its folder solutions/$(ASSIGNMENT)/ (an id), or
# any folder path holding an assignment.toml.
export AUTOGRADER_ASSIGNMENT := $(ASSIGNMENT)

.PHONY: venv test test-all lint lock grade release samples bench gradescope nbgrader mutants clean

# Before .venv exists, the interpreter that would build it must lie in pyproject.toml's
# requires-python: else make stops here, before venv or pip run, with one line saying why.
ifeq ($(wildcard $(PY)),)
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),venv)),)
PYTHON_CHECK := $(shell sh tools/check_python.sh '$(PYTHON)' $(firstword $(MAKECMDGOALS) venv) 2>&1)
ifneq ($(PYTHON_CHECK),)
$(error $(PYTHON_CHECK))
endif
endif
endif

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-lock.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

# The fast tier: every test not marked slow (units, one path of each integration, a few
# hostile notebooks). test-all: the whole suite, slow tier included (what CI runs).
test: $(STAMP) lint
	$(PY) -m pytest -q -m "not slow" $(ARGS)

test-all: $(STAMP) lint
	$(PY) -m pytest -q $(ARGS)

# Regenerate requirements-lock.txt from pyproject.toml (see tools/lock.py).
lock: $(STAMP)
	$(PY) tools/lock.py $(ARGS)

grade: $(STAMP)
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(GRADES) $(if $(JOBS),--jobs $(JOBS),) $(if $(ROSTER),--roster $(ROSTER),) $(if $(TIMESTAMPS),--timestamps $(TIMESTAMPS),) $(ARGS)

release: $(STAMP)
	$(PY) -m autograder release

samples: $(STAMP)
	$(PY) -m autograder samples

bench: $(STAMP)
	$(PY) benchmarks/bench.py $(ARGS)

mutants: $(STAMP)
	$(PY) solutions/adam_variants/tests/mutation_report.py $(ARGS)

gradescope: $(STAMP)
	$(PY) -m autograder.integrations.otter_build $(ARGS)

nbgrader: $(STAMP)
	$(PY) -m autograder.integrations.nbgrader_build $(ARGS)

clean:
	rm -rf $(GRADES) dist nbgrader_course bench .pytest_cache
