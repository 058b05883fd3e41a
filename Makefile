# Powerwatch entry points. The README names two: `make up` and `make test`.
# Every target installs what it needs itself (venv from the hash-locked
# requirements, npm from package-lock.json, Debian packages via apt-get).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# Python packages of this repository, installed editable into the venv.
LOCAL_PACKAGES := $(wildcard apps/gateway/pyproject.toml api/pyproject.toml kusto/pyproject.toml)
# Typed sources (mypy --strict) and the Python that bandit scans.
SRC_DIRS := $(wildcard apps/gateway/src api/src kusto/src)
# Debian packages the tests need (graphviz: diagrams; chromium: page tests;
# buildah/podman/runc/mmdebstrap: real image builds; openssl: cert checks).
APT_PACKAGES := graphviz chromium chromium-driver buildah podman runc mmdebstrap uidmap fuse-overlayfs openssl

.PHONY: help
help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements/lock.txt $(LOCAL_PACKAGES)
	@# flock: several shells (or helpers) may bootstrap at once.
	flock .venv.lock bash -euc '\
	  [ -x $(PY) ] || $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements/lock.txt; \
	  for p in $(dir $(LOCAL_PACKAGES)); do \
	    $(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e $$p; done; \
	  touch $(VENV_STAMP)'

.PHONY: venv
venv: $(VENV_STAMP)  ## create .venv from requirements/lock.txt

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: node
node: $(NODE_STAMP)  ## install the locked npm tools (KQL analyzer, tekton-lint)

.PHONY: apt
apt:  ## install the Debian packages the tests need (skips what is present)
	bash scripts/ensure-apt.sh $(APT_PACKAGES)

.PHONY: lock
lock:  ## re-resolve requirements/*.in into requirements/lock.txt (needs the venv's uv)
	$(BIN)/uv pip compile --python-version 3.11 --generate-hashes --no-header -q \
	  requirements/*.in -o requirements/lock.txt

.PHONY: up
up: venv  ## start the platform locally (driver-sim -> gateway -> local sink)
	$(PY) -m powerwatch_gateway.local_stack

.PHONY: lint
lint: venv  ## ruff, format check, mypy, bandit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(if $(SRC_DIRS),$(BIN)/mypy $(SRC_DIRS))
	$(BIN)/bandit -q -c pyproject.toml -r $(wildcard apps api kusto bench tests)

.PHONY: test
test: apt venv node lint  ## run every test (installs everything first)
	$(BIN)/pytest

.PHONY: bench
bench: venv  ## run the benchmarks; each prints project vs baseline ratio
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b; done

.PHONY: clean
clean:  ## remove the venv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
