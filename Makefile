# Foundry: generate a demo service, test the template, lint the template's own code.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

COPIER := copier==9.19.*
DEMO_DIR := build/demo
# Extra pytest arguments, e.g. `make test PYTEST_ARGS='-m "not slow"'`.
PYTEST_ARGS ?=
# Parallel pytest workers; every combination stays on one worker (--dist loadgroup).
PYTEST_WORKERS ?= auto
# Options of the benchmark, e.g. `make bench ARGS="--quick --project build/demo"`.
ARGS ?=

# When the machine has no working uv, `ensure-uv` installs one into a private virtual
# environment (pip refuses to install outside one on Debian 12 and Ubuntu 24.04) and links
# its uv and uvx, and nothing else of that environment, into TOOLS_BIN.
TOOLS_VENV := $(CURDIR)/.cache/uv-venv
TOOLS_BIN := $(CURDIR)/.cache/bin
# Every recipe, and everything it starts (Copier's copy-time tasks, the tests, the demo's own
# Makefile), looks up uv on this PATH: the private one, the user's, then `pip install --user`'s.
export PATH := $(TOOLS_BIN):$(PATH):$(HOME)/.local/bin

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.PHONY: ensure-uv
ensure-uv: ## Install uv privately (in .cache) unless a working uv is on PATH
	@if ! uv --version >/dev/null 2>&1; then \
	  echo "uv was not found: installing it with pip into $(TOOLS_VENV)."; \
	  rm -rf "$(TOOLS_VENV)" "$(TOOLS_BIN)"; \
	  if python3 -m venv "$(TOOLS_VENV)" && "$(TOOLS_VENV)/bin/python" -m pip install --quiet uv; then \
	    mkdir -p "$(TOOLS_BIN)"; \
	    ln -s "$(TOOLS_VENV)/bin/uv" "$(TOOLS_VENV)/bin/uvx" "$(TOOLS_BIN)/"; \
	  else \
	    rm -rf "$(TOOLS_VENV)"; \
	    python3 -m pip install --user --quiet uv || { \
	      echo "Could not install uv: python3 can neither create a virtual environment nor install with pip." >&2; \
	      echo "On Debian/Ubuntu run: sudo apt-get install python3-venv, then try again;" >&2; \
	      echo "or install uv as described in https://docs.astral.sh/uv/getting-started/installation/" >&2; \
	      exit 1; }; \
	  fi; \
	  echo "Installed $$(uv --version) at $$(command -v uv)."; \
	fi

.PHONY: demo
demo: demo-project ## Generate build/demo with the default answers, migrate it and serve it on 127.0.0.1:8000
	$(MAKE) -C "$(DEMO_DIR)" migrate run

.PHONY: demo-project
demo-project: ensure-uv ## Generate build/demo with the default answers (reused when it exists)
	@if [ -d "$(DEMO_DIR)" ]; then \
	  echo "$(DEMO_DIR) already exists: reusing it (delete it to generate again)."; \
	  exit 0; \
	fi; \
	python=""; \
	for version in 3.12 3.13 3.11; do \
	  if UV_PYTHON_DOWNLOADS=never uv python find "$$version" >/dev/null 2>&1; then python="$$version"; break; fi; \
	done; \
	if [ -z "$$python" ]; then echo "uv found no Python 3.11, 3.12 or 3.13 here: it will download Python 3.12."; fi; \
	uvx --from '$(COPIER)' --with copier-template-extensions \
	  copier copy --trust --defaults --vcs-ref HEAD \
	  $${python:+--data python_version=$$python} . "$(DEMO_DIR)"

.PHONY: test
test: ensure-uv ## Run the template's tests (all of them; see docs/contributing.md)
	uv run --locked pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

.PHONY: bench
bench: ensure-uv ## Benchmark a generated service against a raw floor app (ARGS="--quick", ...)
	uv run --locked python -m bench $(ARGS)

.PHONY: release
release: ensure-uv ## Tag a release after checking CHANGELOG.md and the tests: make release VERSION=0.6.0
	@test -n "$(VERSION)" || { echo 'usage: make release VERSION=0.6.0' >&2; exit 2; }
	uv run --locked python -m tools.release "$(VERSION)"

.PHONY: lint
lint: ensure-uv ## Lint and format-check extensions/, tests/ and bench/
	uv run --locked ruff check . && uv run --locked ruff format --check .

.PHONY: fmt
fmt: ensure-uv ## Fix lint findings and format extensions/, tests/ and bench/
	uv run --locked ruff check --fix . && uv run --locked ruff format .

.PHONY: clean
clean: ## Remove build/ and the test caches (keeps the shared uv cache and a private uv)
	rm -rf build .pytest_cache .ruff_cache .cache/pythons .cache/timings-*.jsonl
