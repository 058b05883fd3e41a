"""Render every diagram view into one directory (default: this folder).

Usage: python diagrams/render.py [--out DIR]
Each view is a module next to this file with a draw(out_dir) -> Path function.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import azure_architecture
import ci_pipeline
import local_mode

HERE = Path(__file__).resolve().parent

# One entry per view; the README's Mermaid blocks mirror these, in this order.
VIEWS: dict[str, Callable[[Path], Path]] = {
    azure_architecture.NAME: azure_architecture.draw,
    ci_pipeline.NAME: ci_pipeline.draw,
    local_mode.NAME: local_mode.draw,
}


def render_all(out_dir: Path) -> list[Path]:
    """Render all views into out_dir; return the image paths in VIEWS order."""
    if shutil.which("dot") is None:
        raise SystemExit("graphviz 'dot' not found: run `make apt` (Debian package graphviz)")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [draw(out_dir) for draw in VIEWS.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)
    for image in render_all(args.out):
        print(f"{image} ({image.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
