# chiso — the two commands: `make demo` and `make test`. Everything else is `chiso …`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-all bench lint install clean-state

$(BIN)/chiso: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	@touch $(BIN)/chiso

install: $(BIN)/chiso

demo: install
	$(BIN)/chiso demo

# The suite CI runs: unit + integration + a small bench (national-scale bench: `make bench`).
# Temporary files under the checkout: no other pytest on the machine rotates them away
# (pytest keeps only its last three /tmp/pytest-of-* dirs, embedded servers' data included).
# Two workers (pytest-xdist), each with its own embedded server, take whole files: most of
# the suite's time is dbt and PostgreSQL waiting on each other, which two runs overlap.
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -q --durations=15 --basetemp=.pytest-tmp -n $(TEST_WORKERS) --dist loadfile

bench: install
	$(BIN)/chiso bench --workers --incremental

lint: install
	$(BIN)/ruff check src tests dags

clean-state:
	rm -rf .chiso submissions
