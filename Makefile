# Every job of the project, by name. `make run` and `make test` are the two
# commands of the README; both work on a fresh clone (they create .venv and
# build the Python extension themselves).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Fuzz/property budgets for the test command; raise them for a long run,
# e.g. `make test HYPOTHESIS_PROFILE=long PROPTEST_CASES=100000`.
HYPOTHESIS_PROFILE ?= ci
export HYPOTHESIS_PROFILE

.PHONY: run test lint rust-test python-test python-build bench bench-rust bench-python clean

run: python-build
	$(VENV)/bin/doseprep demo

test: lint rust-test python-test

lint: $(VENV)/.installed
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(PY) -m ruff check python benches
	$(PY) -m ruff format --check python benches

rust-test:
	cargo test --locked

# pytest last, so its summary line closes the test command's output.
python-test: python-build
	$(PY) -m mypy.stubtest doseprep._core --mypy-config-file python/pyproject.toml
	$(PY) -m mypy --config-file python/pyproject.toml python/tests python/doseprep/cli.py
	$(PY) -m pytest -q python/tests

$(VENV)/.installed: python/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r python/requirements-dev.txt
	touch $@

# Always rebuilt: cargo makes it quick when nothing changed.
python-build: $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python

bench: bench-rust bench-python

bench-rust:
	cargo bench -p doseprep-benches

bench-python: python-build
	$(PY) -m pip install -q --disable-pip-version-check pint
	$(PY) benches/bench_python.py

clean:
	rm -rf target $(VENV)
