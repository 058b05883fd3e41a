"""scripts/build-image.sh on a tiny context: build args, base image, CA mount hygiene."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from tests.containers.podman_tools import (
    base_image,
    build_image,
    image_config,
    remove_image,
    run_once,
)

# The first container test on a fresh machine also makes the base image (about a minute).
pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

TINY_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG GREETING=unset
# A fresh NONCE per run keeps this step out of the layer cache: it must see today's CA.
ARG NONCE
RUN printf '%s' "$GREETING" > /greeting && echo "$NONCE" > /nonce \\
 && sha256sum /etc/ssl/certs/ca-certificates.crt | cut -d' ' -f1 > /ca-seen-in-build
USER 65532:65532
"""


def _host_ca_bundle() -> Path:
    return Path(os.environ.get("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt"))


def test_build_passes_args_and_mounts_host_ca_only_during_build(
    container_builder: None, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(TINY_DOCKERFILE, encoding="utf-8")
    tag = "localhost/powerwatch/build-helper-probe:test"
    try:
        built = build_image(
            tmp_path, tag, build_args={"GREETING": "hello", "NONCE": uuid.uuid4().hex}
        )
        assert built.tag == tag
        assert image_config(tag)["User"] == "65532:65532"
        assert run_once(tag, "cat", "/greeting") == "hello"
        host_ca = hashlib.sha256(_host_ca_bundle().read_bytes()).hexdigest()
        # RUN steps saw the host's trust store (pip behind a TLS-inspecting proxy)...
        assert run_once(tag, "cat", "/ca-seen-in-build").strip() == host_ca
        in_image = run_once(tag, "sha256sum", "/etc/ssl/certs/ca-certificates.crt").split()[0]
        base_ca = run_once(base_image(), "sha256sum", "/etc/ssl/certs/ca-certificates.crt")
        # ...but the image keeps its own Debian bundle: the mount never lands in a layer.
        assert in_image == base_ca.split()[0]
    finally:
        remove_image(tag)


def test_an_ignore_file_named_after_the_dockerfile_wins_over_the_contexts(
    container_builder: None, tmp_path: Path
) -> None:
    # api/Dockerfile is built from the repository root with api/Dockerfile.dockerignore.
    for name in ("plain.txt", "secret.txt", "context-ignores-me.txt"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    (tmp_path / ".dockerignore").write_text("context-ignores-me.txt\n", encoding="utf-8")
    dockerfile = tmp_path / "sub" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /ctx/\n", encoding="utf-8")
    (tmp_path / "sub" / "Dockerfile.dockerignore").write_text("secret.txt\nsub\n", encoding="utf-8")
    tag = "localhost/powerwatch/build-helper-ignore:test"
    try:
        build_image(tmp_path, tag, dockerfile=dockerfile)
        listed = run_once(tag, "ls", "-A", "/ctx").split()
        # Only the Dockerfile's own ignore file counted, as with BuildKit.
        assert sorted(listed) == [".dockerignore", "context-ignores-me.txt", "plain.txt"]
    finally:
        remove_image(tag)
