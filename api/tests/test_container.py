"""The API image, built here with buildah from the API's wheel (context: the repository
root, since the image carries kusto/ too) on the local base, and run with podman via
tests/containers' helper."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest
from powerwatch_api.schema_ui import ASSETS, SCHEMA_CSP

REPO = Path(__file__).resolve().parents[2]


def _load_podman_tools() -> ModuleType:
    """tests/containers' helper, by path: api/tests may be collected without tests/ (the
    pipeline's unit-test copies only the API and its packages, and deselects this file)."""
    path = REPO / "tests/containers/podman_tools.py"
    spec = importlib.util.spec_from_file_location("powerwatch_podman_tools", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

API_TAG = "localhost/powerwatch/api:test"
NON_ROOT_UID = 65532


@pytest.fixture(scope="module")
def tools() -> ModuleType:
    """tests/containers' helper; skips (saying why) only when no builder can start here."""
    module = _load_podman_tools()
    problem = module.builder_problem()
    if problem is not None:
        pytest.skip(f"container builder cannot start here: {problem}")
    return module


@pytest.fixture(scope="module")
def api_wheel(tools: ModuleType) -> Path:
    """api/'s wheel, built as the pipeline's build-wheel step builds it."""
    wheel: Path = tools.build_wheel(REPO / "api")
    return wheel


@pytest.fixture(scope="module")
def api_image(tools: ModuleType, api_wheel: Path) -> str:
    """The image from that wheel, as `make image-api` and the pipeline's build-image do."""
    build = tools.build_image(REPO, API_TAG, dockerfile=REPO / "api/Dockerfile", wheel=api_wheel)
    print(f"api image {build.tag} built in {build.seconds:.1f} s")
    return build.tag


def test_image_is_non_root_with_a_health_check(tools: ModuleType, api_image: str) -> None:
    config = tools.image_config(api_image)
    assert config["User"].split(":")[0] == str(NON_ROOT_UID)
    assert config["Entrypoint"] == ["powerwatch-api"]
    assert "POWERWATCH_KUSTO_ROOT=/opt/powerwatch/kusto" in config["Env"]
    assert "/healthz" in " ".join(tools.image_inspect(api_image)["Healthcheck"]["Test"])


def test_refuses_to_listen_on_all_interfaces_without_auth(
    tools: ModuleType, api_image: str
) -> None:
    done = tools.podman("run", "--rm", "--network=none", api_image, check=False, timeout=120)
    assert done.returncode == 2
    assert "loopback-only" in done.stderr
    assert "Traceback" not in done.stderr


def test_serves_the_embedded_store_as_non_root(tools: ModuleType, api_image: str) -> None:
    port = tools.free_port()
    env = {"POWERWATCH_API_HOST": "127.0.0.1", "POWERWATCH_API_PORT": str(port)}
    with tools.run_container(api_image, env=env) as box:
        base = f"http://127.0.0.1:{port}"
        assert tools.wait_http_ok(f"{base}/healthz", box) == 200
        # Readiness runs a query: the .kql scripts and the engine are in the image.
        with urllib.request.urlopen(f"{base}/readyz", timeout=10) as ready:
            assert json.load(ready) == {"status": "ready", "store": "local"}
        with urllib.request.urlopen(f"{base}/api/v1/devices", timeout=10) as devices:
            assert json.load(devices) == {"items": []}
        assert box.main_process_uid() == NON_ROOT_UID
        assert box.healthcheck(), box.logs()
        probe = "import importlib.util as u; print(u.find_spec('hatchling') is None)"
        assert box.exec("python3", "-c", probe).strip() == "True"
        # Logs are structured JSON lines with request ids.
        access = [json.loads(line) for line in box.logs().splitlines() if '"request"' in line]
        assert any(entry.get("path") == "/readyz" and entry.get("request_id") for entry in access)
        assert box.stop() == 0, box.logs()


def test_serves_the_openapi_ui_from_its_own_files(tools: ModuleType, api_image: str) -> None:
    """The image carries Swagger UI's files: /schema needs nothing from another origin."""
    port = tools.free_port()
    env = {"POWERWATCH_API_HOST": "127.0.0.1", "POWERWATCH_API_PORT": str(port)}
    with tools.run_container(api_image, env=env) as box:
        base = f"http://127.0.0.1:{port}"
        assert tools.wait_http_ok(f"{base}/healthz", box) == 200
        with urllib.request.urlopen(f"{base}/schema", timeout=10) as page:
            assert page.headers["Content-Security-Policy"] == SCHEMA_CSP.decode()
            html = page.read().decode()
        assert "https://" not in html
        assert "http://" not in html
        for name, (path, media_type) in ASSETS.items():
            assert f"/schema/assets/{name}" in html
            with urllib.request.urlopen(f"{base}/schema/assets/{name}", timeout=10) as asset:
                assert asset.headers["Content-Type"].split(";")[0] == media_type
                # The same locked wheel as this checkout's venv: the same bytes.
                assert asset.read() == path.read_bytes(), name
        assert box.stop() == 0, box.logs()


def test_the_image_holds_the_api_wheel_it_was_built_from(
    tools: ModuleType, api_image: str, api_wheel: Path, tmp_path: Path
) -> None:
    done = tools.wheel_in_image(api_image, api_wheel, tmp_path)
    sha = hashlib.sha256(api_wheel.read_bytes()).hexdigest()
    assert done.returncode == 0, done.stderr
    assert f"{api_wheel.name} sha256 {sha} OK" in done.stdout
    # The kusto library beside it, built in the image from the same commit's kusto/.
    probe = "import powerwatch_kusto, powerwatch_api; print(powerwatch_kusto.LocalKusto.__name__)"
    assert tools.run_once(api_image, "-c", probe, entrypoint="python3").strip() == "LocalKusto"


def test_the_build_refuses_to_run_without_the_wheel_args(tools: ModuleType, api_image: str) -> None:
    # No WHEEL / WHEEL_SHA256: the image is never built from whatever dist/ holds.
    with pytest.raises(tools.ContainerError, match="WHEEL_SHA256 are required"):
        tools.build_image(
            REPO, "localhost/powerwatch/api:no-wheel-test", dockerfile=REPO / "api/Dockerfile"
        )
