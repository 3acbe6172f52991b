# One command each: run, test, lint, protos, bench. Every target sets up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUF_VERSION := 1.75.0
BUF := $(VENV)/buf/node_modules/.bin/buf
PRISM_VERSION := 5.16.0
PRISM := $(VENV)/prism/node_modules/.bin/prism
# protoc writes modules only: make every directory a package and mark it typed.
finish_generated = find $(1) -type d -exec touch {}/__init__.py \; && touch $(1)/py.typed
PROTO_FILES = $(shell find protos -name '*.proto' | sort)

.PHONY: run test test-sqlite test-postgres lint format protos protos-check bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(BUF): | $(STAMP)
	@mkdir -p $(VENV)/buf
	npm install --silent --no-audit --no-fund --prefix $(VENV)/buf @bufbuild/buf@$(BUF_VERSION)

# Prism: the mock server the Plaid and Square contract tests run against (npm registry).
$(PRISM): | $(STAMP)
	@mkdir -p $(VENV)/prism
	npm install --silent --no-audit --no-fund --prefix $(VENV)/prism @stoplight/prism-cli@$(PRISM_VERSION)

## run: migrate the store and start the gRPC server and the webhook relay (defaults: SQLite file, sandbox, dev client)
run: setup
	$(BIN)/isa migrate
	$(BIN)/isa serve

## test: the whole suite, on SQLite and on PostgreSQL (ISA_TEST_DATABASE_URL)
test: setup $(PRISM)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff, mypy on the hand-written packages, buf lint, and generated/ is current
lint: setup $(BUF)
	@if git grep -nE '^(<<<<<<<|>>>>>>>) |^=======$$' -- . ':!generated' 2>/dev/null; then \
		echo "merge conflict markers left in the files above"; exit 1; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd protos && ../$(BUF) lint
	$(MAKE) --no-print-directory protos-check

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## protos: regenerate generated/ from protos/ (messages, gRPC stubs, .pyi stubs)
protos: setup
	rm -rf generated/isa
	mkdir -p generated
	cd protos && ../$(BIN)/python -m grpc_tools.protoc -I. \
		--python_out=../generated --pyi_out=../generated --grpc_python_out=../generated \
		$(patsubst protos/%,%,$(PROTO_FILES))
	$(call finish_generated,generated/isa)

## protos-check: fail when generated/ is not what `make protos` writes
protos-check: setup
	@rm -rf .protos-check && mkdir -p .protos-check
	@cd protos && ../$(BIN)/python -m grpc_tools.protoc -I. \
		--python_out=../.protos-check --pyi_out=../.protos-check --grpc_python_out=../.protos-check \
		$(patsubst protos/%,%,$(PROTO_FILES))
	@$(call finish_generated,.protos-check/isa)
	@if diff -r .protos-check/isa generated/isa >/dev/null; then echo "generated/ is current"; \
	 else diff -r .protos-check/isa generated/isa | head -20; echo "generated/ is stale: run 'make protos'"; rm -rf .protos-check; exit 1; fi
	@rm -rf .protos-check

## bench: start the server as users run it, load it from a separate process, print the table
bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
