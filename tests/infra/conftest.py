"""tests/infra helpers live in infra_testkit.py; this folder is put on sys.path for it."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from infra_testkit import bicepcheck, checkov, infra_copy, trees  # noqa: E402

__all__ = ["bicepcheck", "checkov", "infra_copy", "trees"]
