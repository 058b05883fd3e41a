"""The API image, built here with buildah (context: the repository root, since the image
carries kusto/ too) on the local base, and run with podman via tests/containers' helper."""

from __future__ import annotations

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
    """tests/containers' helper, by path: api/tests may be collected without tests/."""
    path = REPO / "tests/containers/podman_tools.py"
    spec = importlib.util.spec_from_file_location("powerwatch_podman_tools", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


tools = _load_podman_tools()

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

API_TAG = "localhost/powerwatch/api:test"
NON_ROOT_UID = 65532


@pytest.fixture(scope="module")
def api_image() -> str:
    problem = tools.builder_problem()
    if problem is not None:
        pytest.skip(f"container builder cannot start here: {problem}")
    build = tools.build_image(REPO, API_TAG, dockerfile=REPO / "api/Dockerfile")
    print(f"api image {build.tag} built in {build.seconds:.1f} s")
    return build.tag


def test_image_is_non_root_with_a_health_check(api_image: str) -> None:
    config = tools.image_config(api_image)
    assert config["User"].split(":")[0] == str(NON_ROOT_UID)
    assert config["Entrypoint"] == ["powerwatch-api"]
    assert "POWERWATCH_KUSTO_ROOT=/opt/powerwatch/kusto" in config["Env"]
    assert "/healthz" in " ".join(tools.image_inspect(api_image)["Healthcheck"]["Test"])


def test_refuses_to_listen_on_all_interfaces_without_auth(api_image: str) -> None:
    done = tools.podman("run", "--rm", "--network=none", api_image, check=False, timeout=120)
    assert done.returncode == 2
    assert "loopback-only" in done.stderr
    assert "Traceback" not in done.stderr


def test_serves_the_embedded_store_as_non_root(api_image: str) -> None:
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


def test_serves_the_openapi_ui_from_its_own_files(api_image: str) -> None:
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
