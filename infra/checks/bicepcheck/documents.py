"""Parse every .bicep and .bicepparam file of a folder with pycep-parser.

pycep has no grammar for .bicepparam (`using` and typeless `param x = value`), so a
parameters file is checked in two steps: its `using` target must exist, and its
assignments, rewritten to `var` declarations, must parse with pycep. Its parameter
names must be declared by the template it uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

from .tree import required_params

USING = re.compile(r"^using\s+'([^']+)'\s*$", re.MULTILINE)
PARAM = re.compile(r"^param\s+([A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)


class ParseError(Exception):
    """A file does not parse; the message names it and says where."""


@dataclass(frozen=True)
class Document:
    path: Path
    tree: dict[str, Any]


@cache
def _parser() -> BicepParser:
    """One parser for every file: building pycep's LALR tables is most of the cost."""
    return BicepParser()


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        tree: dict[str, Any] = _parser().parse(text=text)
    except Exception as error:  # lark raises several error types; all mean "no parse"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ParseError(f"{path}: {first}") from None
    return tree


def parse_bicep(path: Path) -> Document:
    return Document(path, _parse(path.read_text(encoding="utf-8"), path))


def parse_bicepparam(path: Path, templates: Mapping[Path, Document] | None = None) -> Document:
    """A .bicepparam file checked against its template (taken from *templates*, by resolved
    path, when the caller has parsed it already)."""
    text = path.read_text(encoding="utf-8")
    using = USING.findall(text)
    if len(using) != 1:
        raise ParseError(f"{path}: needs exactly one `using '<template>.bicep'` line")
    template = (path.parent / using[0]).resolve()
    if not template.is_file():
        raise ParseError(f"{path}: `using` names {using[0]}, which does not exist")
    body = PARAM.sub(lambda m: f"var {m.group(1)} =", USING.sub("", text))
    tree = _parse(body, path)
    known = (templates or {}).get(template)
    template_tree = (known if known is not None else parse_bicep(template)).tree
    declared = template_tree.get("parameters", {})
    unknown = sorted(set(tree.get("variables", {})) - set(declared))
    if unknown:
        raise ParseError(f"{path}: {', '.join(unknown)} not declared in {using[0]}")
    missing = sorted(required_params(template_tree) - set(tree.get("variables", {})))
    if missing:
        raise ParseError(f"{path}: no value for {', '.join(missing)} (no default in template)")
    return Document(path, tree)


def parse_folder(root: Path) -> list[Document]:
    """Every .bicep and .bicepparam under root, parsed; raises on the first failure."""
    templates = {p.resolve(): parse_bicep(p) for p in sorted(root.rglob("*.bicep"))}
    docs = list(templates.values())
    docs += [parse_bicepparam(p, templates) for p in sorted(root.rglob("*.bicepparam"))]
    if not docs:
        raise ParseError(f"{root}: no .bicep files")
    return docs
