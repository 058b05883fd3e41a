#!/usr/bin/env bash
# Make the local Debian bookworm + python3 base image that every Powerwatch
# Dockerfile is built FROM here (no container registry is reachable, so no
# public base image can be pulled). Prints the image name on stdout, nothing else.
#
#   scripts/base-image.sh            # create if missing, print the name (fast path: < 0.5 s)
#   scripts/base-image.sh --force    # rebuild even if it exists
#   scripts/base-image.sh --name     # only print the name, build nothing
#
# Environment:
#   POWERWATCH_BASE_IMAGE  image name (default localhost/powerwatch/python-base:bookworm)
#   BASE_APT_SOURCES       apt sources file (deb822 or one-line) for the image; default:
#                          this machine's Debian sources, else deb.debian.org + security.
#   STORAGE_DRIVER         containers/storage driver, read by podman and buildah alike
#                          (default overlay; vfs works everywhere but copies each layer).
# Exit codes: 0 ok, 1 build failed, 2 bad usage, 3 a needed tool is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${POWERWATCH_BASE_IMAGE:-localhost/powerwatch/python-base:bookworm}"
SUITE=bookworm
# python3-venv: Dockerfiles make their venv with `python3 -m venv` (Debian splits it out).
PACKAGES=python3,python3-venv,ca-certificates
export STORAGE_DRIVER="${STORAGE_DRIVER:-overlay}"

die() { echo "base-image: $1" >&2; exit "${2:-1}"; }

force=0
case "${1-}" in
  "") ;;
  --force) force=1 ;;
  --name) echo "$IMAGE"; exit 0 ;;
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  *) die "unknown option '$1' (use --force, --name or --help)" 2 ;;
esac

for tool in podman mmdebstrap flock; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run 'make apt' first" 3
done

# Fast path before taking the lock: callers (Makefile, tests, the Tekton runner)
# call this on every build.
if [ "$force" = 0 ] && "$here/podman.sh" image exists "$IMAGE"; then
  echo "$IMAGE"
  exit 0
fi

# Several callers may race to create the image; only one builds it.
exec 9>"${TMPDIR:-/tmp}/powerwatch-base-image.lock"
flock 9
if [ "$force" = 0 ] && "$here/podman.sh" image exists "$IMAGE"; then
  echo "$IMAGE"
  exit 0
fi

sources=()
if [ -n "${BASE_APT_SOURCES-}" ]; then
  [ -r "$BASE_APT_SOURCES" ] || die "BASE_APT_SOURCES=$BASE_APT_SOURCES is not a readable file" 2
  sources=("$BASE_APT_SOURCES")
elif [ -r /etc/apt/sources.list.d/debian.sources ]; then
  # The machine's own Debian mirror (bookworm, -updates, -security): whatever
  # apt-get on the host reaches, mmdebstrap reaches too. Other repos on the host
  # (nodesource, ...) are deliberately not copied into the image.
  sources=(/etc/apt/sources.list.d/debian.sources)
fi  # else: mmdebstrap's default, deb.debian.org plus -updates and -security.

work="$(mktemp -d "${TMPDIR:-/var/tmp}/powerwatch-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
echo "base-image: building $IMAGE (mmdebstrap $SUITE + $PACKAGES)..." >&2

# variant=apt: Essential packages + apt only (no Priority:required extras).
# Docs, man pages and translations are dropped (copyright files kept). The hook's $1
# is the chroot, expanded by mmdebstrap, not here.
# shellcheck disable=SC2016
mmdebstrap --quiet --variant=apt --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
  "$SUITE" "$work/rootfs.tar" "${sources[@]}" >&2 \
  || die "mmdebstrap failed (is the Debian mirror reachable?)"

"$here/podman.sh" import --quiet \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/usr/bin/python3"]' \
  --change "LABEL org.opencontainers.image.title=powerwatch-python-base" \
  --change "LABEL org.opencontainers.image.description=Debian $SUITE + $PACKAGES via mmdebstrap" \
  --message "mmdebstrap $SUITE --variant=apt --include=$PACKAGES" \
  "$work/rootfs.tar" "$IMAGE" >/dev/null \
  || die "podman import failed"

echo "base-image: $IMAGE ready in $((SECONDS - start)) s" >&2
echo "$IMAGE"
