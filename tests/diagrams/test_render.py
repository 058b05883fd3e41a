"""The diagrams regenerate from code: every view renders to a real, non-trivial PNG."""

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ROOT / "diagrams"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 1_000_000  # committed images stay small enough to review in a diff
MIN_BYTES = 10_000  # an empty canvas or a lone title is far smaller


def view_names() -> list[str]:
    """One view per script in diagrams/, besides the renderer and private helpers (_*.py)."""
    return sorted(
        p.stem for p in DIAGRAMS.glob("*.py") if p.stem != "render" and not p.stem.startswith("_")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG framing."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR", "PNG without IHDR first"
    assert length == 13, "malformed IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_image(path: Path) -> None:
    data = path.read_bytes()
    width, height = png_size(data)
    assert MIN_BYTES < len(data) < MAX_BYTES, f"{path.name}: {len(data)} bytes"
    assert width >= 800, f"{path.name}: {width}x{height}"
    assert height >= 300, f"{path.name}: {width}x{height}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("diagrams")
    result = subprocess.run(
        [sys.executable, str(DIAGRAMS / "render.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_there_are_views_to_render() -> None:
    assert {"azure_architecture", "ci_pipeline"} <= set(view_names())


@pytest.mark.parametrize("name", view_names())
def test_render_produces_a_real_image_per_view(rendered: Path, name: str) -> None:
    check_image(rendered / f"{name}.png")


def test_render_leaves_only_images_behind(rendered: Path) -> None:
    # The library writes a DOT source first; it must not litter the output directory.
    assert sorted(p.name for p in rendered.iterdir()) == sorted(f"{n}.png" for n in view_names())


@pytest.mark.parametrize("name", view_names())
def test_committed_image_exists_for_each_view(name: str) -> None:
    check_image(DIAGRAMS / f"{name}.png")


@pytest.mark.parametrize("name", view_names())
def test_readme_has_a_mermaid_version_of_each_view(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- diagram: {name} -->\s*```mermaid\n(.*?)```", readme, flags=re.DOTALL)
    assert match, f"README.md lacks a Mermaid block marked <!-- diagram: {name} -->"
    assert match.group(1).lstrip().startswith(("flowchart", "graph"))
    assert f"diagrams/{name}.png" in readme


def test_check_image_rejects_a_non_png(tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"GIF89a" + bytes(MIN_BYTES * 2))
    with pytest.raises(AssertionError, match="not a PNG"):
        check_image(fake)


def test_check_image_rejects_a_tiny_png(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    ihdr = struct.pack(">I4sII5B", 13, b"IHDR", 1, 1, 8, 6, 0, 0, 0)
    tiny.write_bytes(PNG_SIGNATURE + ihdr + bytes(4))
    with pytest.raises(AssertionError, match="bytes"):
        check_image(tiny)
