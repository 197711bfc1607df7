# tiktok-ads-sync — the front door. `make` lists the targets.
# Quick start: `make demo` (emulated AWS + local TikTok simulator) and `make test`.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml layers/tiktok_sync/requirements.txt 2>/dev/null | cksum | cut -d' ' -f1)
STACK ?= tiktok-sync
FN ?= split
SAM ?= sam

.DEFAULT_GOAL := help
.PHONY: help install test test-unit test-integration test-e2e lint bench demo simulator payloads build deploy invoke clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml layers/tiktok_sync/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (python3.11/3.12/3.13 on PATH)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==25.3"
	$(PY) -m pip install --quiet -e '.[dev]'
	@# pip compiles the dependencies; the project's own sources are compiled here, once, so a
	@# command does not compile them again each time it starts (under PYTHONDONTWRITEBYTECODE too).
	@$(PY) -m compileall -q layers functions local >/dev/null
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the project with its pinned dependencies

test: $(STAMP) ## Run every test: unit, integration (moto + simulator), end to end (the real state machine)
	$(PY) -m pytest tests

test-unit: $(STAMP) ## Unit tests only (pure, no network)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP) ## Integration tests (moto + the TikTok simulator on 127.0.0.1)
	$(PY) -m pytest tests/integration

test-e2e: $(STAMP) ## End-to-end tests (template.yaml + sync.asl.json executed locally)
	$(PY) -m pytest tests/e2e

lint: $(STAMP) ## cfn-lint on template.yaml, ruff on the code
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/ruff check layers functions local tests

bench: $(STAMP) ## Figures: the split vs a reference loop (1M/4M rows), byte-range scanning, the pacer, the parallel split at scale, a 1M-row local run
	$(PY) -m tiktok_sync_local.bench --dir .bench
	$(PY) -m tiktok_sync_local.bench_ranges
	$(PY) -m tiktok_sync_local.bench_pacer --seconds 20
	$(PY) -m tiktok_sync_local.bench_pipeline --dir .bench

demo: $(STAMP) ## Run the main job locally: emulated AWS, local TikTok simulator, sample files, printed reports
	$(VENV)/bin/tiktok-sync demo

payloads: $(STAMP) ## Regenerate events/functions/*.json (each function's sample event) from a real local run
	$(PY) -m tiktok_sync_local.payloads

simulator: $(STAMP) ## Start the local TikTok API simulator on 127.0.0.1:8765
	$(VENV)/bin/tiktok-sync simulator --port 8765

build: ## sam build: with Python 3.12 (the Lambda runtime) on PATH, else in SAM's build container (Docker)
	@command -v $(SAM) >/dev/null 2>&1 || { \
		echo "make build needs the AWS SAM CLI: pip install aws-sam-cli (or see https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html)"; exit 1; }
	@if python3.12 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then \
		echo "$(SAM) build (the functions' runtime is python3.12: using $$(command -v python3.12))"; \
		$(SAM) build; \
	elif docker info >/dev/null 2>&1; then \
		echo "$(SAM) build --use-container (no python3.12 on PATH; a Docker engine answers)"; \
		$(SAM) build --use-container; \
	else \
		echo "make build: the Lambda functions run on python3.12, and sam build needs that Python to build them."; \
		echo "  Either put Python 3.12 on PATH (e.g. uv python install 3.12, pyenv install 3.12 + pyenv shell,"; \
		echo "  brew install python@3.12, apt install python3.12), or start a Docker engine: make build then"; \
		echo "  builds in SAM's python3.12 build container. (Local runs - make demo, make test - need neither.)"; \
		exit 1; \
	fi

deploy: build ## sam deploy --guided (needs the AWS SAM CLI and AWS credentials)
	$(SAM) deploy --guided --stack-name $(STACK)

invoke: build ## sam local invoke FN=split|prepare|send_audience|send_events|report|refresh_tokens with its sample event
	$(SAM) local invoke $$(echo $(FN) | sed -E 's/(^|_)([a-z])/\U\2/g')Function -e events/functions/$(FN).json

clean: ## Remove the virtualenv, caches and generated bench files
	rm -rf $(VENV) .bench .pytest_cache .hypothesis .ruff_cache .aws-sam
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
