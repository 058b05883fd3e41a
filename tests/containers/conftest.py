"""Fixtures for real image builds: one builder check and one gateway build per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.containers.podman_tools import ROOT, build_image, build_wheel, builder_problem

GATEWAY_TAG = "localhost/powerwatch/gateway:test"


@pytest.fixture(scope="session")
def container_builder() -> None:
    """Skip (with the reason) only when buildah/podman cannot start on this machine."""
    problem = builder_problem()
    if problem is not None:
        pytest.skip(f"container builder cannot start here: {problem}")


@pytest.fixture(scope="session")
def gateway_wheel() -> Path:
    """apps/gateway's wheel, built as the pipeline's build-wheel step builds it."""
    return build_wheel(ROOT / "apps/gateway")


@pytest.fixture(scope="session")
def gateway_image(container_builder: None, gateway_wheel: Path) -> str:
    """apps/gateway built from its wheel on the local base image; layers stay cached."""
    build = build_image(ROOT / "apps/gateway", GATEWAY_TAG, wheel=gateway_wheel)
    print(f"gateway image {build.tag} built in {build.seconds:.1f} s")
    return build.tag
