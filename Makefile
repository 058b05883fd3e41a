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
LOCAL_PACKAGES := $(wildcard apps/gateway/pyproject.toml api/pyproject.toml kusto/pyproject.toml apps/local/pyproject.toml)
# Typed sources (mypy --strict) and the Python that bandit scans.
SRC_DIRS := $(wildcard apps/gateway/src apps/local/src api/src kusto/src tekton/runner tekton/checks infra/checks)
# Debian packages the tests need (graphviz: diagrams; chromium: page tests;
# buildah/podman/runc/mmdebstrap: real image builds; openssl: cert checks;
# shellcheck: the Tekton Tasks' step scripts).
APT_PACKAGES := graphviz chromium chromium-driver buildah podman runc mmdebstrap uidmap fuse-overlayfs openssl shellcheck

.PHONY: help
help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The lock is the complete set, so pip installs it without resolving anything:
# --no-deps (pip never reads a package's own requirements, so an extra such as
# coverage[toml] cannot send the bundled pip 23.2.1 to the index for a newer release),
# --require-hashes (every file is the locked one), --only-binary (no sdist build that
# would fetch its build backend's newest release). `pip check` then fails loudly if the
# lock misses a dependency. This works with the pip that python3 -m venv bundles, so no
# pip upgrade (itself a moving target) is needed. tests/contracts/test_fresh_venv.py
# builds a venv this way from scratch.
PIP_LOCKED := -m pip install -q --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes

$(VENV_STAMP): requirements/lock.txt $(LOCAL_PACKAGES)
	@# flock: several shells (or helpers) may bootstrap at once.
	flock .venv.lock bash -euc '\
	  [ -x $(PY) ] || $(PYTHON) -m venv $(VENV); \
	  $(PY) $(PIP_LOCKED) -r requirements/lock.txt 2> >(grep -v "^WARNING: Location" >&2); \
	  for p in $(dir $(LOCAL_PACKAGES)); do \
	    $(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e $$p; done; \
	  $(PY) -m pip check; \
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
lock: venv  ## re-resolve requirements/*.in into lock.txt, ci-{lint,test,build}.lock (its subsets), infra-tools.lock
	$(BIN)/uv pip compile --python-version 3.11 --generate-hashes --no-header -q \
	  $(filter-out requirements/ci-%.in requirements/infra-tools.in,$(wildcard requirements/*.in)) \
	  -o requirements/lock.txt
	@# One lock per CI task, so a task's venv holds only its own tools (a test cannot
	@# import build or bandit); -c lock.txt: the versions the repository's tests run.
	for task in lint test build; do \
	  $(BIN)/uv pip compile --python-version 3.11 --generate-hashes --no-header -q \
	    -c requirements/lock.txt requirements/ci-$$task.in -o requirements/ci-$$task.lock \
	    || exit 1; \
	done
	@# checkov pins versions that clash with lock.txt: the infra tools are locked on their own.
	$(BIN)/uv pip compile --python-version 3.11 --generate-hashes --no-header -q \
	  requirements/infra-tools.in -o requirements/infra-tools.lock

.PHONY: up
up: venv  ## start the platform locally (driver-sim -> gateway -> ingestion -> API + live page)
	$(PY) -m powerwatch_local

.PHONY: lint
lint: venv  ## ruff, format check, mypy, bandit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(if $(SRC_DIRS),$(BIN)/mypy $(SRC_DIRS))
	$(BIN)/bandit -q -c pyproject.toml -r $(wildcard apps api kusto bench tests tekton infra)

.PHONY: test
test: apt venv node lint actionlint infra-venv infra-build  ## run every test (installs everything first)
	$(BIN)/pytest

.PHONY: actionlint
actionlint: venv  ## actionlint over .github/workflows (shellcheck checks run: blocks when installed)
	$(BIN)/actionlint

.PHONY: bench
bench: venv  ## run the benchmarks; each prints project vs baseline ratio
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b; done

.PHONY: chaos
chaos: venv  ## the chaos run (about 10 min): faults under load, then the account -> docs/reliability.md
	$(PY) bench/chaos.py --report docs/reliability.md

.PHONY: security-probes
security-probes: venv  ## refused credentials, oversized head and KQL injection against the real API (api-key, entra)
	$(PY) bench/security_probes.py

.PHONY: clean
clean:  ## remove the venv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

# --- diagrams ---
.PHONY: diagrams
diagrams: venv  ## regenerate every diagrams/*.png from its diagrams/*.py (needs graphviz)
	@command -v dot >/dev/null || bash scripts/ensure-apt.sh graphviz
	$(PY) diagrams/render.py

# --- containers ---
# Real image builds here: buildah (chroot isolation) + podman, no Docker engine and no
# registry; the base image is made locally. See scripts/README.md and docs/containers.md.
GATEWAY_IMAGE ?= localhost/powerwatch/gateway:dev

.PHONY: base-image
base-image: apt  ## make the local Debian bookworm + python3 base image (once; then instant)
	bash scripts/base-image.sh

.PHONY: gateway-lock
gateway-lock: venv  ## re-lock the gateway image's deps (subset of requirements/lock.txt)
	bash scripts/lock-app.sh apps/gateway

.PHONY: image-gateway
image-gateway: venv apt  ## build the gateway wheel, then the image $(GATEWAY_IMAGE) from it, on the local base
	wheel="$$(bash scripts/build-wheel.sh apps/gateway)" \
	  && bash scripts/build-image.sh -t $(GATEWAY_IMAGE) --wheel "$$wheel" apps/gateway

.PHONY: lint-dockerfiles
lint-dockerfiles: venv  ## hadolint (failure threshold: warning) on every Dockerfile
	find . -name Dockerfile -not -path './node_modules/*' -not -path './.venv/*' \
	  -print0 | xargs -0 -r $(BIN)/hadolint --failure-threshold warning

.PHONY: prune-images
prune-images: apt  ## free disk: drop untagged layers (the build cache too; next builds are cold)
	bash scripts/podman.sh image prune --force

# --- tekton ---
# The CI pipeline (tekton/): static checks, and a local run of the Pipeline from its
# own YAML (tekton/runner/run_local.py). No cluster, Kaniko or Trivy here: see tekton/README.md.
# The run is the PipelineRun file itself (its params, workspaces, pod template); -p
# overrides one param as tkn -p would. The base image is this machine's own (no
# registry to pull from here), so it is the one override every local run needs.
CI_RUN_FILE ?= tekton/runs/python-ci-run.yaml
CI_PARAMS ?=
CI_RUN = $(PY) tekton/runner/run_local.py $(CI_RUN_FILE) \
  -p build-args=--build-arg=BASE_IMAGE=$$(bash scripts/base-image.sh) $(CI_PARAMS)

.PHONY: tekton-check
tekton-check: venv node  ## static checks of tekton/: yamllint, CRD schemas, tekton-lint, own checks
	$(BIN)/yamllint -c tekton/.yamllint.yaml tekton
	PYTHONPATH=tekton/checks $(PY) -m tektoncheck tekton
	node_modules/.bin/tekton-lint --config tekton 'tekton/**/*.yaml'

.PHONY: pipeline-local
pipeline-local: venv apt  ## run $(CI_RUN_FILE) locally (log .local/ci-run.log, report .local/ci-run.html)
	@mkdir -p .local
	$(CI_RUN) --timings-json .local/ci-timings.json --report .local/ci-run.html \
	  2>&1 | tee .local/ci-run.log

.PHONY: pipeline-bench
# Every run gets a fresh per-run workspace (volumeClaimTemplate), so there is no cold/warm
# difference left to measure: the pipeline as written (parallel) against one task at a time.
pipeline-bench: venv apt  ## local pipeline runs: the DAG in parallel, then one task at a time; timings in .local/
	@mkdir -p .local
	$(CI_RUN) --timings-json .local/ci-timings-parallel.json > .local/ci-run-parallel.log 2>&1 || true
	$(CI_RUN) --max-parallel 1 --timings-json .local/ci-timings-serial.json > .local/ci-run-serial.log 2>&1 || true
	@for run in parallel serial; do echo "== $$run"; tail -n 12 .local/ci-run-$$run.log; done

# --- kusto ---
.PHONY: kusto-bundle kusto-plan
kusto-bundle: venv  ## merged KQL script for Bicep databases/scripts (.local/kusto/powerwatch.kql)
	$(PY) -m powerwatch_kusto.bundle -o .local/kusto/powerwatch.kql

kusto-plan: venv  ## print the ADX deploy commands in order (dry run, no cluster needed)
	$(PY) -m powerwatch_kusto.deploy --cluster https://example.kusto.windows.net \
	  --database powerwatch --dry-run

# --- api ---
API_IMAGE ?= localhost/powerwatch/api:dev
.PHONY: api api-lock image-api
api: venv  ## run the events API on 127.0.0.1:8080 (embedded store unless POWERWATCH_KUSTO_* set)
	$(PY) -m powerwatch_api

api-lock: venv  ## re-lock the API image's deps (subset of requirements/lock.txt)
	bash scripts/lock-app.sh api

image-api: venv apt  ## build the API wheel, then the image $(API_IMAGE) from it (context: repository root, for kusto/)
	wheel="$$(bash scripts/build-wheel.sh api)" \
	  && bash scripts/build-image.sh -t $(API_IMAGE) -f api/Dockerfile --wheel "$$wheel" .

# --- gateway ---
.PHONY: gateway-test gateway-bench
gateway-test: venv  ## run only the gateway's tests (apps/gateway/tests)
	$(BIN)/pytest apps/gateway/tests -q

gateway-bench: venv  ## gateway ingest path vs a bare msgspec decode loop
	$(PY) bench/bench_gateway_ingest.py

# --- local ---
# The whole platform on one machine (apps/local, docs/local-mode.md); `make up` runs it.
.PHONY: local-test bench-freshness
local-test: venv apt  ## local ingestion, the one-command stack, the live page (Chromium) and end-to-end tests
	$(BIN)/pytest -q apps/local/tests api/tests/web tests/e2e

bench-freshness: venv  ## simulator -> event visible through the API, p50/p99 at 10 and 1,000 devices
	$(PY) bench/bench_freshness.py

# --- infra ---
# Bicep for the Azure design (infra/, docs/deploy.md). No Bicep CLI or Azure here: the
# checks are pycep-parser, checkov and Microsoft's azure-mgmt-* models (tests/infra), run
# from .venv-infra, a venv of its own because checkov's pins clash with lock.txt.
INFRA_VENV := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed
INFRA_PY := $(INFRA_VENV)/bin/python

$(INFRA_STAMP): requirements/infra-tools.lock
	flock .venv-infra.lock bash -euc '\
	  [ -x $(INFRA_PY) ] || $(PYTHON) -m venv $(INFRA_VENV); \
	  $(INFRA_PY) $(PIP_LOCKED) -r requirements/infra-tools.lock 2> >(grep -v "^WARNING: Location" >&2); \
	  $(INFRA_PY) -m pip check; \
	  touch $(INFRA_STAMP)'

.PHONY: infra-venv infra-build infra-check
infra-venv: $(INFRA_STAMP)  ## create .venv-infra from requirements/infra-tools.lock (checkov, pycep, SDKs)

infra-build: venv  ## the IaC build step: the merged KQL that main.bicep loads (infra/build/powerwatch.kql)
	$(PY) -m powerwatch_kusto.bundle -o infra/build/powerwatch.kql

infra-check: infra-venv infra-build  ## parse (pycep), SDK types, checkov over infra/
	PYTHONPATH=infra/checks $(INFRA_PY) -m bicepcheck parse infra
	PYTHONPATH=infra/checks $(INFRA_PY) -m bicepcheck types infra
	$(INFRA_VENV)/bin/checkov --framework bicep --skip-download --compact --quiet -d infra
