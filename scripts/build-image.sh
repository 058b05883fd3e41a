#!/usr/bin/env bash
# Build a container image from a Dockerfile with buildah, here, without a registry
# or a Docker engine. Prints the image tag on stdout (build log on stderr).
#
#   scripts/build-image.sh -t TAG [-f DOCKERFILE] [--build-arg K=V]... [--wheel WHEEL]
#                          [--tar PATH] CONTEXT
#
#   -t TAG          image name, e.g. localhost/powerwatch/gateway:dev (required)
#   -f DOCKERFILE   default CONTEXT/Dockerfile. DOCKERFILE.dockerignore applies if it
#                   exists (BuildKit's rule), else CONTEXT/.dockerignore
#   --build-arg K=V passed through; unless BASE_IMAGE is given, the local base from
#                   scripts/base-image.sh is passed as BASE_IMAGE (created on first use)
#   --wheel WHEEL   the app's wheel (scripts/build-wheel.sh): put into CONTEXT/dist/
#                   (unless already there) and passed as --build-arg WHEEL=<file name>
#                   and --build-arg WHEEL_SHA256=<its sha256>, as the pipeline's
#                   build-image task does
#   --tar PATH      also write the image as a docker-archive tarball (for scanners)
#
# Environment:
#   BUILD_CA_BUNDLE  CA bundle bind-mounted read-only over the build's
#                    /etc/ssl/certs/ca-certificates.crt during RUN steps only (never
#                    committed to a layer), so pip inside the build trusts whatever the
#                    host trusts (egress here goes through a TLS-inspecting proxy).
#                    Default: $PIP_CERT, else the host's /etc/ssl/certs/ca-certificates.crt;
#                    set it empty to mount nothing.
#   STORAGE_DRIVER   as in scripts/base-image.sh (default overlay).
# Exit codes: 0 built, 1 build failed, 2 bad usage, 3 a needed tool is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export STORAGE_DRIVER="${STORAGE_DRIVER:-overlay}"

die() { echo "build-image: $1" >&2; exit "${2:-1}"; }
usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }

tag="" dockerfile="" tar="" context="" wheel=""
build_args=()
have_base=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    -t|--tag) [ "$#" -ge 2 ] || die "$1 needs a value" 2; tag="$2"; shift 2 ;;
    -f|--file) [ "$#" -ge 2 ] || die "$1 needs a value" 2; dockerfile="$2"; shift 2 ;;
    --build-arg)
      [ "$#" -ge 2 ] || die "$1 needs K=V" 2
      case "$2" in *=*) ;; *) die "--build-arg '$2' is not K=V" 2 ;; esac
      case "$2" in BASE_IMAGE=*) have_base=1 ;; esac
      build_args+=(--build-arg "$2"); shift 2 ;;
    --wheel) [ "$#" -ge 2 ] || die "$1 needs a file" 2; wheel="$2"; shift 2 ;;
    --tar) [ "$#" -ge 2 ] || die "$1 needs a path" 2; tar="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" 2 ;;
    *) [ -z "$context" ] || die "one CONTEXT only (got '$context' and '$1')" 2; context="$1"; shift ;;
  esac
done
[ -n "$tag" ] || die "-t TAG is required (see --help)" 2
[ -n "$context" ] || die "CONTEXT is required (see --help)" 2
[ -d "$context" ] || die "context '$context' is not a directory" 2
dockerfile="${dockerfile:-$context/Dockerfile}"
[ -f "$dockerfile" ] || die "Dockerfile '$dockerfile' not found" 2
if [ -n "$wheel" ]; then
  case "$wheel" in *.whl) ;; *) die "--wheel '$wheel' is not a .whl file" 2 ;; esac
  [ -f "$wheel" ] || die "wheel '$wheel' not found" 2
  mkdir -p "$context/dist"
  staged="$context/dist/$(basename "$wheel")"
  [ "$(realpath "$wheel")" = "$(realpath -m "$staged")" ] || cp "$wheel" "$staged"
  build_args+=(--build-arg "WHEEL=$(basename "$wheel")")
  build_args+=(--build-arg "WHEEL_SHA256=$(sha256sum "$wheel" | cut -d' ' -f1)")
fi
command -v buildah >/dev/null || die "buildah not found: run 'make apt'" 3

if [ "$have_base" = 0 ]; then
  base="$("$here/base-image.sh")"
  build_args+=(--build-arg "BASE_IMAGE=$base")
fi

mounts=()
# A Dockerfile built from a wider context (api/ from the repository root) carries its
# own ignore file beside it, where BuildKit looks. buildah 1.28 looks there too; naming
# it keeps the rule from depending on the buildah version.
ignore=()
[ -f "$dockerfile.dockerignore" ] && ignore=(--ignorefile "$dockerfile.dockerignore")

ca="${BUILD_CA_BUNDLE-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}"
if [ -n "$ca" ]; then
  [ -r "$ca" ] || die "BUILD_CA_BUNDLE '$ca' is not readable" 2
  mounts=(--volume "$(realpath "$ca"):/etc/ssl/certs/ca-certificates.crt:ro")
fi

# chroot isolation: RUN steps share the host's network (pip reaches PyPI) and need
# no runc/cgroup set-up. --layers caches each step (a rebuild with unchanged
# inputs takes well under a second). --format docker keeps HEALTHCHECK, which the
# OCI image config has no field for.
buildah build --isolation chroot --layers --format docker --pull=false \
  "${mounts[@]}" "${ignore[@]}" "${build_args[@]}" -f "$dockerfile" -t "$tag" "$context" >&2 \
  || die "buildah build of $tag failed (see the log above)"

if [ -n "$tar" ]; then
  rm -f "$tar"
  "$here/podman.sh" save --quiet --format docker-archive -o "$tar" "$tag" >&2 \
    || die "podman save of $tag to $tar failed"
fi
echo "$tag"
