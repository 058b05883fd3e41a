"""The gateway's image, built here with buildah on the local base, run with podman."""

from __future__ import annotations

import json

import pytest

from tests.containers.podman_tools import (
    free_port,
    image_config,
    image_inspect,
    run_container,
    run_once,
    wait_http_ok,
)

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

NON_ROOT_UID = 65532


def test_image_config_names_a_non_root_user(gateway_image: str) -> None:
    user = image_config(gateway_image)["User"]
    assert user.split(":")[0] == str(NON_ROOT_UID)


def test_image_declares_health_check_and_listens_on_all_interfaces(gateway_image: str) -> None:
    assert "/healthz" in " ".join(image_inspect(gateway_image)["Healthcheck"]["Test"])
    config = image_config(gateway_image)
    assert "GATEWAY_HTTP_HOST=0.0.0.0" in config["Env"]
    assert config["Entrypoint"] == ["powerwatch-gateway"]


def test_container_answers_healthz_as_non_root(gateway_image: str) -> None:
    port = free_port()
    # Host networking (no bridge here): bind to loopback on a free port, not 0.0.0.0.
    env = {"GATEWAY_HTTP_HOST": "127.0.0.1", "GATEWAY_HTTP_PORT": str(port)}
    with run_container(gateway_image, env=env) as box:
        assert wait_http_ok(f"http://127.0.0.1:{port}/healthz", box) == 200
        assert box.main_process_uid() == NON_ROOT_UID
        assert box.exec("id", "-u").strip() == str(NON_ROOT_UID)
        # The image's own HEALTHCHECK command passes against the running service.
        assert box.healthcheck(), box.logs()
        # Runtime stage is minimal: no build backend, no sources, no tests.
        probe = "import importlib.util as u; print(u.find_spec('hatchling') is None)"
        assert box.exec("python3", "-c", probe).strip() == "True"
        assert box.exec("ls", "/").split().count("src") == 0
        # Exec-form entrypoint: SIGTERM reaches the gateway, which shuts down cleanly.
        assert box.stop() == 0, box.logs()


def test_replay_mode_validates_stdin_inside_the_image(gateway_image: str) -> None:
    good = '{"device_id":"drv-01","ts":"2026-11-25T18:00:00.000Z","voltage":230.4,"current":4.2}'
    summary = json.loads(run_once(gateway_image, "replay", "-", stdin=f"{good}\nnot json\n"))
    # The non-root user can write its spool and dead-letter file in the data dir.
    assert summary["accepted"] == 1
    assert summary["rejected_total"] == 1
