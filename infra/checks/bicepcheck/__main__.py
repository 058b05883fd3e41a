"""python -m bicepcheck {parse,types,dump} PATH

parse  parse every .bicep/.bicepparam under PATH with pycep; exit 1 on the first error
types  check every resource under PATH against the SDK models; exit 1 on any finding
dump   print pycep's tree of every file under PATH as JSON (for the cross-checks)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .documents import ParseError, parse_folder
from .typecheck import check_documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bicepcheck")
    parser.add_argument("command", choices=("parse", "types", "dump"))
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
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
    findings = check_documents(docs)
    for finding in findings:
        print(finding)
    resources = sum(len(d.tree.get("resources", {})) for d in docs)
    print(f"{resources} resources in {len(docs)} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
