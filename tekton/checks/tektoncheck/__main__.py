"""Run every static check over a tekton/ folder: `python -m tektoncheck tekton`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tektoncheck import run_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tektoncheck", description=__doc__)
    parser.add_argument("root", type=Path, help="the tekton/ folder")
    parser.add_argument(
        "--crds", type=Path, default=None, help="CRD folder (default: <repo>/../shared/tekton-crds)"
    )
    args = parser.parse_args(argv)
    crds = args.crds or args.root.resolve().parent.parent / "shared" / "tekton-crds"
    problems = run_all(args.root, crds)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
