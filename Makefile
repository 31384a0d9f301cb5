# Every job of the project, by name. `make run` and `make test` are the two
# commands of the README; both work on a fresh clone (they create .venv and
# build the Python extension themselves).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Fuzzing budgets for the test command; raise them for a long run, e.g.
# `make fuzz FUZZ_SECONDS=600` or `make python-test HYPOTHESIS_PROFILE=long`.
HYPOTHESIS_PROFILE ?= ci
export HYPOTHESIS_PROFILE
FUZZ_SECONDS ?= 5
CARGO_FUZZ_VERSION := 0.13.2
# The ZPL validator the tests lint every ZPL label with (crates.io's
# zpl_toolchain_cli, TCP-only build: no USB or serial libraries needed).
ZPL_TOOLCHAIN_VERSION := 0.1.16
ZPL_LINT := target/tools/bin/zpl
export DOSEPREP_ZPL_LINT := $(abspath $(ZPL_LINT))
FUZZ_TARGETS := protocol quantity

WHEELS := target/wheels
# Every CPython 3.10-3.13 pyenv has, but the one .venv runs on: the abi3
# wheel is tested on each in a fresh virtual environment.
OTHER_PYTHONS = $(shell for v in 3.10 3.12 3.13; do ls -d $$(pyenv root 2>/dev/null)/versions/$$v.*/bin/python3 2>/dev/null | head -1; done)

# Programs the tests use as users would: poppler renders PDFs and extracts
# their text, Chromium prints the HTML in DejaVu Sans (the font the PDFs
# embed), the sqlite3 shell edits a ledger file behind the library's back,
# zbar and libdmtx decode the printed barcodes.
SYSTEM_TOOLS := pdftoppm pdftotext pdfinfo chromium sqlite3
SYSTEM_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
SYSTEM_LIBRARIES := libzbar.so.0 libdmtx.so.0
SYSTEM_PACKAGES := poppler-utils chromium fonts-dejavu-core sqlite3 libzbar0 libdmtx0b
SUDO := $(shell test "$$(id -u)" -eq 0 || echo sudo)

.PHONY: run test lint rust-test rust-command python-test python-build python-wheels system-tools docs-images fuzz bench bench-rust bench-python bench-ledger clean

run: python-build
	$(VENV)/bin/doseprep demo

test: lint rust-test fuzz python-test python-wheels

lint: $(VENV)/.installed
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(PY) -m ruff check python benches
	$(PY) -m ruff format --check python benches

# The ledger's suite twice: on SQLite, then on a throwaway PostgreSQL server.
rust-test:
	cargo test --locked
	DOSEPREP_TEST_STORE=postgres scripts/with-postgres.sh cargo test --locked -p doseprep-ledger --test ledger

# Installed through apt-get only where one is missing.
system-tools:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	test -f $(SYSTEM_FONT) || missing="$$missing DejaVu Sans"; \
	for library in $(SYSTEM_LIBRARIES); do /sbin/ldconfig -p | grep -q "$$library" || missing="$$missing $$library"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing $(SYSTEM_PACKAGES) (missing:$$missing)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	fi

$(ZPL_LINT):
	cargo install zpl_toolchain_cli --version $(ZPL_TOOLCHAIN_VERSION) --locked --no-default-features --features tcp --root target/tools

# pytest last, so its summary line closes the test command's output.
python-test: python-build system-tools rust-command $(ZPL_LINT)
	$(PY) -m mypy.stubtest doseprep._core --mypy-config-file python/pyproject.toml
	$(PY) -m mypy --config-file python/pyproject.toml python/tests python/doseprep/__main__.py
	MYPYPATH=python/tests $(PY) -m mypy --config-file python/pyproject.toml benches
	scripts/with-postgres.sh $(PY) -m pytest -q python/tests

# The command as a Rust binary (what `cargo install --path crates/doseprep-cli`
# installs), which the Python suite runs beside the package's entry point.
rust-command:
	cargo build --locked -p doseprep-cli --bin doseprep

$(VENV)/.installed: python/requirements-dev.txt python/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r python/requirements-dev.txt
	touch $@

# One cp310-abi3 wheel for every CPython from 3.10, installed into .venv.
# Always rebuilt: cargo makes it quick when nothing changed.
python-build: $(VENV)/.installed
	rm -rf $(WHEELS)
	cd python && ../$(PY) -m maturin build --release --quiet --out ../$(WHEELS)
	$(PY) -m pip install -q --disable-pip-version-check --force-reinstall --no-deps $(WHEELS)/doseprep-*-cp310-abi3-*.whl

# The same wheel, in a fresh virtual environment of each other CPython.
python-wheels: python-build system-tools rust-command $(ZPL_LINT)
	@test -n "$(OTHER_PYTHONS)" || echo "no other CPython 3.10-3.13 found by pyenv"
	for python in $(OTHER_PYTHONS); do \
		version=$$($$python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
		env=target/venv-$$version; rm -rf $$env; \
		$$python -m venv $$env && \
		$$env/bin/python -m pip install -q --disable-pip-version-check -r python/requirements-test.txt $(WHEELS)/doseprep-*-cp310-abi3-*.whl && \
		echo "Python $$version, wheel $$(ls $(WHEELS))" && \
		scripts/with-postgres.sh $$env/bin/python -m pytest -q -p no:cacheprovider python/tests || exit 1; \
	done

# libFuzzer over the protocol/lot/record parsers and the quantity parsers.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain
# (the only one here) accept them. New corpus entries go to the ignored
# crates/fuzz/corpus; crates/fuzz/seeds holds the committed seeds.
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked
	for target in $(FUZZ_TARGETS); do \
		mkdir -p crates/fuzz/corpus/$$target && \
		RUSTC_BOOTSTRAP=1 cargo fuzz run -O --fuzz-dir crates/fuzz $$target \
			crates/fuzz/corpus/$$target crates/fuzz/seeds/$$target \
			-- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 \
			| grep -E '^(Done|stat::number_of_executed_units|==|SUMMARY)|panicked|ERROR' ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

bench: bench-rust bench-python bench-ledger

bench-rust:
	cargo bench -p doseprep-benches

bench-python: python-build
	$(PY) benches/bench_python.py

bench-ledger: python-build
	DOSEPREP_TEST_POSTGRES_FSYNC=on scripts/with-postgres.sh $(PY) benches/bench_ledger.py

# The pictures of a label and a worksheet in the README, from the built-in
# protocol, rendered by poppler.
docs-images: python-build system-tools
	$(PY) python/tools/docs_images.py docs/images

clean:
	rm -rf target $(VENV)
