"""One merged database script for Bicep's Microsoft.Kusto/clusters/databases/scripts.

    python -m powerwatch_kusto.bundle -o build/powerwatch.kql

Commands in deploy order, each preceded by `// from <path>` and separated by a blank
line (the database-script convention).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .loader import KustoSchema, load_schema


def render_bundle(schema: KustoSchema) -> str:
    base = schema.root.parent
    parts = []
    for script in schema.scripts:
        try:
            shown = script.path.relative_to(base)
        except ValueError:
            shown = script.path
        parts.append(f"// from {shown.as_posix()}\n{script.command}")
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--root", type=Path, help="kusto/ directory (default: this repository's)")
    args = parser.parse_args(argv)
    text = render_bundle(load_schema(args.root))
    if args.output is None:
        print(text, end="")
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
