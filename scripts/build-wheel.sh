#!/usr/bin/env bash
# Build an app's wheel here, the way the pipeline's build-wheel step does: the locked
# build backend (no isolated, unpinned build environment), into APP_DIR/dist/, where
# the app's Dockerfile takes it from. Prints the wheel's path on stdout.
#
#   scripts/build-wheel.sh APP_DIR     # e.g. apps/gateway
#
# The backend is the repository's .venv (make venv): requirements/lock.txt, of which
# APP_DIR/requirements-build.lock is a subset (scripts/lock-app.sh).
# Exit codes: 0 built, 1 build failed, 2 bad usage, 3 .venv missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$#" -eq 1 ] || { echo "usage: scripts/build-wheel.sh APP_DIR" >&2; exit 2; }
app="$1"
[ -f "$app/pyproject.toml" ] || { echo "build-wheel: $app/pyproject.toml not found" >&2; exit 2; }
py="$root/.venv/bin/python"
[ -x "$py" ] || { echo "build-wheel: $py missing: run 'make venv'" >&2; exit 3; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$py" -m build --wheel --no-isolation --outdir "$out" "$app" >&2 \
  || { echo "build-wheel: python -m build failed for $app" >&2; exit 1; }
wheels=("$out"/*.whl)
[ "${#wheels[@]}" -eq 1 ] || { echo "build-wheel: expected one wheel, got ${wheels[*]}" >&2; exit 1; }
mkdir -p "$app/dist"
name="$(basename "${wheels[0]}")"
cp "${wheels[0]}" "$app/dist/$name"
echo "$(cd "$app/dist" && pwd)/$name"
