# The two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean chromium deploy-check node

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,aws]'
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

# deploy-check: cfn-lint on the SAM template (it cannot see state machines referenced by
# DefinitionUri), npm's asl-validator on each state machine, and our own transition test.
# Node comes from Debian when missing; asl-validator is installed once under .cache/.
ASL_VALIDATOR := .cache/node/node_modules/.bin/asl-validator

node:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y nodejs npm; \
		else sudo apt-get update && sudo apt-get install -y nodejs npm; fi; }

$(ASL_VALIDATOR):
	@$(MAKE) --no-print-directory node
	npm install --prefix .cache/node --no-audit --no-fund --silent asl-validator@4

deploy-check: $(STAMP) $(ASL_VALIDATOR)
	$(BIN)/cfn-lint deploy/aws/template.yaml
	@for f in deploy/aws/*.asl.json; do $(ASL_VALIDATOR) --json-path $$f || exit 1; done
	$(BIN)/pytest -q tests/aws/test_state_machines.py tests/aws/test_template.py

test: lint typecheck chromium deploy-check unit

# `sam build` (Metadata BuildMethod: makefile, CodeUri: the repository root) runs these:
# the package as a wheel, installed with its [aws] extra for Lambda's Linux x86_64 Python.
LAMBDA_FUNCTIONS := ApiFunction WorkerFunction InboxFunction OptinValidateFunction \
	OptinLogErrorsFunction OptinDedupeFunction OptinStoreFunction OrderFunction \
	OrderDeadLetterFunction EnrichFunction AlarmFunction SweeperFunction

$(addprefix build-,$(LAMBDA_FUNCTIONS)):
	$(PYTHON) -m pip wheel --quiet --no-deps --wheel-dir "$(ARTIFACTS_DIR)/.wheel" .
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)" --platform manylinux2014_x86_64 \
		--implementation cp --python-version 3.12 --only-binary=:all: \
		"$$(ls "$(ARTIFACTS_DIR)"/.wheel/*.whl)[aws]"
	rm -rf "$(ARTIFACTS_DIR)/.wheel"


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
