# The two commands a newcomer needs: `make serve` and `make test`.
# Everything is installed from this repository's own files into .venv.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SOURCES := ledger projections consumers api tests bench

.PHONY: install serve test lint format bench bench-quick bench-tools browser-tools soak fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.dev-installed

# The API on the embedded default: SQLite file ./consent-ledger.db, in-process projections.
serve: $(VENV)/.runtime-installed
	$(BIN)/consent-ledger serve

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

# Lint, then every test tier against real PostgreSQL and a real Kafka-protocol broker.
# PostgreSQL: $$DATABASE_URL, else 127.0.0.1:5432, else a throwaway embedded server.
test: lint browser-tools
	$(BIN)/pytest -n 4 --dist loadfile tests/unit tests/integration tests/e2e tests/browser

# The browser the console's tests drive (tests/browser/): Debian's chromium and its
# driver, installed here when missing (as root, else through sudo). Nothing downloads a
# browser build of its own.
browser-tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y chromium chromium-driver; \
		else sudo apt-get update -qq && sudo apt-get install -y chromium chromium-driver; fi

# Ten minutes of steady mixed traffic through serve, publish and consume on PostgreSQL and
# a broker of its own, with a broker outage and a consumer restart in the middle; prints
# the report (positions, answers, RSS of each process before and after). `make test`
# runs the same test for 50 s.
soak: $(VENV)/.dev-installed
	SOAK_SECONDS=600 $(BIN)/pytest tests/e2e/test_soak.py -s -q

# Schemathesis against /openapi.json of a real `serve`, every /v1 operation: the run in
# `make test` is 80 repeatable cases per operation on SQLite; this one is 1,000 random
# ones each, on SQLite and on PostgreSQL.
.PHONY: fuzz
fuzz: $(VENV)/.dev-installed
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} FUZZ_RANDOM=1 FUZZ_BACKENDS=sqlite,postgres \
		$(BIN)/pytest tests/e2e/test_schemathesis.py

bench: $(VENV)/.dev-installed bench-tools
	$(BIN)/python -m bench

bench-quick: $(VENV)/.dev-installed bench-tools
	$(BIN)/python -m bench --quick

# The compiled load generators the benchmarks drive: wrk (HTTP, a Debian package,
# installed here when missing: as root, else through sudo) and pgbench (PostgreSQL's
# own client, shipped with the PostgreSQL server packages).
bench-tools:
	@command -v wrk >/dev/null || \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
	@command -v pgbench >/dev/null || \
		{ echo "pgbench is missing: install PostgreSQL's server package (Debian: postgresql)"; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
