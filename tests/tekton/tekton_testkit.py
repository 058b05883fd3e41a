"""Paths the Tekton tests share (importable: conftest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEKTON = REPO / "tekton"
# CI clones the repository next to shared/, so the CRDs are at <repo>/../shared.
CRDS = REPO.parent / "shared" / "tekton-crds"
# tektoncd/pipeline examples/v1, unchanged: what a real API server accepts.
EXAMPLES = REPO.parent / "shared" / "tekton-examples"
