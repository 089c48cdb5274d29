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

# Sets $uv to the uv executable: on PATH, in ~/.local/bin, or in the private tool folder.
FIND_UV = uv="$$(command -v uv || ls "$(HOME)/.local/bin/uv" "$(CURDIR)/.cache/tools/bin/uv" 2>/dev/null | head -n 1 || true)"

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: ensure-uv
ensure-uv:
	@$(FIND_UV); \
	if [ -z "$$uv" ]; then \
	  echo "uv is not installed: installing it with pip."; \
	  python3 -m pip install --user --quiet uv 2>/dev/null \
	    || { python3 -m venv .cache/tools && .cache/tools/bin/python -m pip install --quiet uv; } \
	    || { echo "Could not install uv: Python has neither pip nor venv here." >&2; \
	         echo "On Debian/Ubuntu run: sudo apt-get install python3-venv, then try again." >&2; \
	         exit 1; }; \
	fi

.PHONY: demo
demo: ensure-uv ## Generate build/demo with the default answers, migrate it and serve it on 127.0.0.1:8000
	@$(FIND_UV); export PATH="$$(dirname "$$uv"):$$PATH"; \
	if [ -d "$(DEMO_DIR)" ]; then \
	  echo "$(DEMO_DIR) already exists: reusing it (delete it to generate again)."; \
	else \
	  python=""; \
	  for version in 3.12 3.13 3.11; do \
	    if UV_PYTHON_DOWNLOADS=never uv python find "$$version" >/dev/null 2>&1; then python="$$version"; break; fi; \
	  done; \
	  uvx --from '$(COPIER)' --with copier-template-extensions \
	    copier copy --trust --defaults --vcs-ref HEAD \
	    $${python:+--data python_version=$$python} . "$(DEMO_DIR)"; \
	fi; \
	$(MAKE) -C "$(DEMO_DIR)" migrate run

.PHONY: test
test: ensure-uv ## Run the template's tests (all of them; see docs/contributing.md)
	@$(FIND_UV); "$$uv" run --locked pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

.PHONY: lint
lint: ensure-uv ## Lint and format-check extensions/ and tests/
	@$(FIND_UV); "$$uv" run --locked ruff check . && "$$uv" run --locked ruff format --check .

.PHONY: fmt
fmt: ensure-uv ## Fix lint findings and format extensions/ and tests/
	@$(FIND_UV); "$$uv" run --locked ruff check --fix . && "$$uv" run --locked ruff format .

.PHONY: clean
clean: ## Remove build/ and the test caches (keeps the shared uv cache)
	rm -rf build .pytest_cache .ruff_cache .cache/pythons .cache/timings-*.jsonl
