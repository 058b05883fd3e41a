"""Seed entry point: `python src/app.py [run|replay ...]` runs the gateway CLI.

Works from a checkout without installing: the package next to this file is
put on sys.path first (its runtime dependencies must be installed).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from powerwatch_gateway.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
