"""Run every static check over a tekton/ folder: `python -m tektoncheck tekton`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tektoncheck import run_all, style


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tektoncheck", description=__doc__)
    parser.add_argument("root", type=Path, help="the tekton/ folder")
    parser.add_argument(
        "--crds", type=Path, default=None, help="CRD folder (default: <repo>/../shared/tekton-crds)"
    )
    args = parser.parse_args(argv)
    crds = args.crds or args.root.resolve().parent.parent / "shared" / "tekton-crds"
    problems = run_all(args.root, crds)
    rules = [p for p in problems if style.is_style(p)]
    refused = [p for p in problems if not style.is_style(p)]
    for problem in refused:
        print(problem)
    print(f"{len(refused)} problem(s) Tekton would refuse")
    for problem in rules:
        print(problem)
    print(f"{len(rules)} style problem(s) (this project's rules, stricter than Tekton)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
