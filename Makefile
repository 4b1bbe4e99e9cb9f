# Set-up, tests and the demo. `make demo` and `make test` each set up what they need first.
# The distribution's interpreter where there is one: Debian builds it with PGO and LTO, and the chip benchmark
# spends 10-25% less CPU on it than on a Python built without them (pyenv's default). PY=... picks another.
PY      ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp

.PHONY: setup bytecode test lint unit demo bench fuzz clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-packages.sh mrtd/service/pages/vendor.json mrtd/issuance/photo/models.json
	PY=$(PY) bash scripts/install-system-packages.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	if [ -f /usr/include/PCSC/winscard.h ]; then \
	  $(BIN)/pip install -q -e '.[dev,pcsc]'; \
	else \
	  echo "libpcsclite-dev missing: pyscard not installed (chip tests through PC/SC will skip)"; \
	  $(BIN)/pip install -q -e '.[dev]'; \
	fi
	$(BIN)/python scripts/vendor_web.py
	touch $@

# The package's bytecode, compiled as a regular (non-editable) install compiles it: each `mrtd` command then
# loads it instead of compiling every module it imports at every start (where PYTHONDONTWRITEBYTECODE is
# set, Python never writes it itself). Only what changed since is compiled again.
bytecode: setup
	$(BIN)/python -m compileall -q -j 0 mrtd

lint: setup
	$(BIN)/ruff check mrtd tests benchmarks scripts fuzz
	$(BIN)/mypy --strict mrtd
	$(BIN)/lint-imports

unit: bytecode
	$(BIN)/pytest

test: lint unit

demo: bytecode
	bash scripts/demo.sh

bench: bytecode
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Every fuzz target for FUZZ_SECONDS each (default 60), or until FUZZ_RUNS inputs; escapes are saved in
# fuzz/crashes/TARGET/ (replayed by tests/test_fuzz_crashes.py) and fail the run.
fuzz: bytecode
	status=0; for t in $$($(BIN)/python -c "from fuzz.targets import TARGETS; print(' '.join(TARGETS))"); do \
	  $(BIN)/python -m fuzz.run $$t --seconds $${FUZZ_SECONDS:-60} $${FUZZ_RUNS:+--runs $$FUZZ_RUNS} || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
