"""The gateway's image, built here with buildah on the local base, run with podman."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.containers.podman_tools import (
    ROOT,
    ContainerError,
    build_image,
    free_port,
    image_config,
    image_inspect,
    run_container,
    run_once,
    wait_http_ok,
    wheel_in_image,
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


def test_the_image_holds_the_wheel_it_was_built_from_byte_for_byte(
    gateway_image: str, gateway_wheel: Path, tmp_path: Path
) -> None:
    done = wheel_in_image(gateway_image, gateway_wheel, tmp_path)
    sha = hashlib.sha256(gateway_wheel.read_bytes()).hexdigest()
    assert done.returncode == 0, done.stderr
    assert f"{gateway_wheel.name} sha256 {sha} OK" in done.stdout
    # No wheel builder in the image: the package came in as that wheel only.
    probe = "import importlib.util as u; print(u.find_spec('build') is None)"
    assert run_once(gateway_image, "-c", probe, entrypoint="python3").strip() == "True"


def test_the_build_refuses_a_wheel_other_than_the_one_named(
    gateway_image: str, gateway_wheel: Path, tmp_path: Path
) -> None:
    # Same context files, but dist/ holds different bytes under the wheel's name:
    # pip's hash check (--require-hashes, the digest in the URL) stops the build.
    app = ROOT / "apps/gateway"
    for name in ("Dockerfile", ".dockerignore", "requirements.lock"):
        shutil.copy(app / name, tmp_path / name)
    (tmp_path / "dist").mkdir()
    tampered = tmp_path / "dist" / gateway_wheel.name
    tampered.write_bytes(gateway_wheel.read_bytes() + b"\0")
    sha = hashlib.sha256(gateway_wheel.read_bytes()).hexdigest()
    with pytest.raises(ContainerError, match="DO NOT MATCH THE HASHES"):
        build_image(
            tmp_path,
            "localhost/powerwatch/gateway:tampered-test",
            build_args={"WHEEL": gateway_wheel.name, "WHEEL_SHA256": sha},
        )
