#!/usr/bin/env bash
# podman with the settings that make it run containers on these machines.
# Use it wherever you would type `podman`:
#
#   scripts/podman.sh run --rm --network host IMAGE [CMD...]
#   scripts/podman.sh exec NAME id -u
#   scripts/podman.sh rm -f NAME
#
# Why each setting:
#   --runtime runc             Debian's podman has no crun here; runc is installed by `make apt`.
#   --cgroup-manager cgroupfs  no systemd runs (no /run/systemd/private), so no systemd cgroups.
#   --events-backend file      no journald either.
#   run/create: --ulimit nofile, nproc
#                              podman asks for nofile=1048576 and nproc=4194304 by default,
#                              above this machine's hard limits (20000 open files), and runc
#                              then fails with "error setting rlimit type 7/6: operation not
#                              permitted". CONTAINER_NOFILE / CONTAINER_NPROC override.
# Storage: STORAGE_DRIVER (default overlay) is exported for podman and buildah alike;
# see scripts/README.md.
set -euo pipefail
export STORAGE_DRIVER="${STORAGE_DRIVER:-overlay}"
command -v podman >/dev/null || { echo "podman.sh: podman not found: run 'make apt'" >&2; exit 3; }

global=(--runtime runc --cgroup-manager cgroupfs --events-backend file)
if [ "$#" -gt 0 ] && { [ "$1" = run ] || [ "$1" = create ]; }; then
  sub="$1"
  shift
  nofile="${CONTAINER_NOFILE:-4096}"
  nproc="${CONTAINER_NPROC:-4096}"
  exec podman "${global[@]}" "$sub" \
    --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "$@"
fi
exec podman "${global[@]}" "$@"
