"""The helper's own behaviour that needs no image: skip reasons and port picking."""

from __future__ import annotations

import shutil
import socket

import pytest

from tests.containers import podman_tools


def test_builder_problem_names_the_missing_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda tool: None if tool == "buildah" else real_which(tool)
    )
    assert podman_tools.builder_problem() == "buildah is not installed (make apt installs it)"


def test_free_port_is_bindable_on_loopback() -> None:
    port = podman_tools.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
    assert 0 < port < 65536
