"""scripts/wheel-in-image.py on small hand-made archives: each way an image can hold
something other than the wheel is refused, and a bad input is not a pass."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.containers.podman_tools import WHEEL_IN_IMAGE

DIST_INFO = "demo-1.0.dist-info"
MODULE = b"ANSWER = 42\n"


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(path: Path) -> str:
    record = f"demo/__init__.py,{record_hash(MODULE)},{len(MODULE)}\n{DIST_INFO}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("demo/__init__.py", MODULE)
        wheel.writestr(f"{DIST_INFO}/RECORD", record)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_image(path: Path, files: dict[str, bytes]) -> None:
    """A docker-archive: manifest.json and one gzip layer holding FILES."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    manifest = json.dumps([{"Config": "c.json", "Layers": ["l1.tar.gz"]}]).encode()
    with tarfile.open(path, "w") as outer:
        for name, data in (("manifest.json", manifest), ("l1.tar.gz", layer.getvalue())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            outer.addfile(info, io.BytesIO(data))


def installed(sha: str, module: bytes = MODULE) -> dict[str, bytes]:
    site = f"opt/venv/lib/python3.11/site-packages/{DIST_INFO}"
    direct_url = {
        "url": "file:///dist/demo-1.0-py3-none-any.whl",
        "archive_info": {"hash": f"sha256={sha}"},
    }
    record = (
        f"demo/__init__.py,{record_hash(module)},{len(module)}\n"
        f"demo/__pycache__/__init__.cpython-311.pyc,,\n{DIST_INFO}/RECORD,,\n"
    )
    return {
        f"{site}/direct_url.json": json.dumps(direct_url).encode(),
        f"{site}/RECORD": record.encode(),
    }


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WHEEL_IN_IMAGE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def wheel(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    return path, make_wheel(path)


def test_the_same_wheel_passes_and_its_digest_becomes_the_result(
    tmp_path: Path, wheel: tuple[Path, str]
) -> None:
    path, sha = wheel
    make_image(tmp_path / "image.tar", installed(sha))
    result = tmp_path / "WHEEL_SHA256"
    done = check("--result", str(result), str(tmp_path / "image.tar"), str(path), sha)
    assert done.returncode == 0, done.stderr
    assert f"sha256 {sha} OK" in done.stdout
    assert result.read_text(encoding="utf-8") == sha


@pytest.mark.parametrize(
    ("files", "expected", "message"),
    [
        # build-wheel reported other bytes than the file handed over
        (lambda sha: installed(sha), "0" * 64, "build-wheel reported"),
        # the image's package came from another archive (e.g. rebuilt in the Dockerfile)
        (lambda sha: installed("1" * 64), None, "installed from an archive with sha256 1111"),
        # the package is not installed at all
        (lambda sha: {"etc/hostname": b"x\n"}, None, "not installed"),
        # same archive recorded, but a file was changed after the install
        (lambda sha: installed(sha, module=b"ANSWER = 41\n"), None, "differ in the image"),
    ],
)
def test_anything_but_the_wheel_unchanged_is_refused(
    tmp_path: Path,
    wheel: tuple[Path, str],
    files: Callable[[str], dict[str, bytes]],
    expected: str | None,
    message: str,
) -> None:
    path, sha = wheel
    make_image(tmp_path / "image.tar", files(sha))
    args = [str(tmp_path / "image.tar"), str(path)] + ([expected] if expected else [])
    done = check(*args)
    assert done.returncode == 1, done.stdout
    assert "NOT THE SAME WHEEL" in done.stderr
    assert message in done.stderr


def test_an_unreadable_image_is_an_error_not_a_pass(
    tmp_path: Path, wheel: tuple[Path, str]
) -> None:
    path, sha = wheel
    (tmp_path / "image.tar").write_bytes(b"not a tarball")
    done = check(str(tmp_path / "image.tar"), str(path), sha)
    assert done.returncode == 2
    assert "cannot read the inputs" in done.stderr
