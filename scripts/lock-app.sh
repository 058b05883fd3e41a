#!/usr/bin/env bash
# Write the hash-locked requirements an app's container image installs:
#
#   scripts/lock-app.sh APP_DIR     # e.g. apps/gateway
#
#   APP_DIR/requirements.lock        the [project] dependencies of APP_DIR/pyproject.toml
#   APP_DIR/requirements-build.lock  its [build-system] requires (the wheel's build
#                                    backend: scripts/build-wheel.sh, the pipeline's
#                                    build-wheel, and the API image's kusto build)
#   APP_DIR/requirements-test.lock   APP_DIR/requirements-test.in, when it exists: the
#                                    tools the app's tests need beyond
#                                    requirements/ci-test.lock (the pipeline's
#                                    unit-test only; never in the image)
#
# All are a subset of requirements/lock.txt: that lock is passed as a constraint, so
# the image gets exactly the versions (and hashes) the repo's tests ran against.
# Deterministic: rerunning with unchanged inputs rewrites identical files.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="${1:?usage: scripts/lock-app.sh APP_DIR}"
[ -f "$app/pyproject.toml" ] || { echo "lock-app: $app/pyproject.toml not found" >&2; exit 2; }
uv="$root/.venv/bin/uv"
py="$root/.venv/bin/python"
[ -x "$uv" ] || { echo "lock-app: $uv missing: run 'make venv'" >&2; exit 3; }

compile() {  # compile INPUT OUTPUT
  "$uv" pip compile --quiet --python-version 3.11 --generate-hashes --no-header \
    --no-annotate -c "$root/requirements/lock.txt" "$1" -o "$2"
}

compile "$app/pyproject.toml" "$app/requirements.lock"

build_in="$(mktemp)"
trap 'rm -f "$build_in"' EXIT
"$py" -c 'import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"]))' \
  "$app/pyproject.toml" >"$build_in"
compile "$build_in" "$app/requirements-build.lock"
echo "lock-app: wrote $app/requirements.lock and $app/requirements-build.lock" >&2
if [ -f "$app/requirements-test.in" ]; then
  compile "$app/requirements-test.in" "$app/requirements-test.lock"
  echo "lock-app: wrote $app/requirements-test.lock" >&2
fi
