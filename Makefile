# The two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/leadflow serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

# The browser tests drive Debian's chromium (never a downloaded browser): install it once.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		else sudo apt-get update && sudo apt-get install -y chromium; fi; }

test: lint typecheck chromium unit

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/import_bench.py --rows 100000
	$(BIN)/python bench/import_vs_pandas.py --rows 100000
	$(BIN)/python bench/xlsx_read_bench.py --rows 50000
	$(BIN)/python bench/import_bench.py --rows 1048576 --repeat 1
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/mixed_load.py --clients 8 --duration 30
	$(BIN)/python bench/export_bench.py --rows 50000
	$(BIN)/python bench/upload_bench.py --rows 100000
	$(BIN)/python bench/llm_bench.py
	$(BIN)/python bench/inbox_bench.py --files 1000
	$(BIN)/python bench/web_bench.py
	$(BIN)/python bench/search_bench.py --leads 1000000

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
