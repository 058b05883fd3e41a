"""python -m bicepcheck {parse,types,dump} PATH [PATH ...]

parse  parse every .bicep/.bicepparam under PATH with pycep; exit 1 on the first error
types  check every resource under PATH against the SDK models; exit 1 on any finding
dump   print pycep's tree of every file under PATH as JSON (for the cross-checks)

Several PATHs (types only) are checked in one process, each under a `== PATH` line, so
the SDK models are imported once for many copies.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .deploytime import check_names
from .documents import ParseError, parse_folder
from .modules import check_modules
from .symbols import check_symbols
from .typecheck import check_documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bicepcheck")
    parser.add_argument("command", choices=("parse", "types", "dump"))
    parser.add_argument("paths", type=Path, nargs="+", metavar="path")
    args = parser.parse_args(argv)
    if args.command == "types":
        failed = [root for root in args.paths if _types(root, len(args.paths) > 1)]
        return 1 if failed else 0
    if len(args.paths) != 1:
        parser.error(f"{args.command} takes one path")
    args.path = args.paths[0]
    try:
        docs = parse_folder(args.path)
    except ParseError as error:
        print(f"parse error: {error}", file=sys.stderr)
        return 1
    if args.command == "parse":
        print(f"parsed {len(docs)} files")
        return 0
    if args.command == "dump":
        root = args.path.resolve()
        trees = {str(d.path.resolve().relative_to(root)): d.tree for d in docs}
        json.dump(trees, sys.stdout, indent=1, default=str)
    return 0


def _types(root: Path, header: bool) -> bool:
    """Print the findings under root; True when there are any (or it does not parse)."""
    if header:
        print(f"== {root}")
    try:
        docs = parse_folder(root)
    except ParseError as error:
        print(f"parse error: {error}")
        return True
    findings = check_documents(docs) + check_modules(docs) + check_names(docs)
    findings += check_symbols(docs)
    for finding in findings:
        print(finding)
    resources = sum(len(d.tree.get("resources", {})) for d in docs)
    print(f"{resources} resources in {len(docs)} files, {len(findings)} findings")
    return bool(findings)


if __name__ == "__main__":
    sys.exit(main())
