"""Every symbol an expression reads is declared in its file.

pycep keeps a plain string and a bare identifier alike (`location: location` and
`location: 'global'` both give a string), so only the places where an identifier is
certain are checked: the root of `a.b` accessors, `${...}` interpolations, and the
`parent`, `scope` and `dependsOn` of a resource or module. The Bicep compiler refuses an
undeclared name (BCP057, "The name ... does not exist in the current context").

Rule (broken copies in tests/infra/test_types.py):
  undefined-symbol   a name no param, var, resource, module, output or loop declares
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .documents import Document
from .tree import INTERPOLATION, Finding, body

# An identifier not followed by "(" (a function call such as last(...) is no symbol).
IDENTIFIER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?!\s*\(|[A-Za-z0-9_])")


def _loop_names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        detail = value.get("loop_type", {}).get("detail") if "loop_type" in value else None
        if isinstance(detail, dict):
            yield from (v for k, v in detail.items() if k in ("item_name", "index_name") and v)
        for item in value.values():
            yield from _loop_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _loop_names(item)


def _roots(value: Any, certain: bool = False) -> Iterator[str]:
    """Identifier roots that are surely identifiers (see the module docstring)."""
    if isinstance(value, str):
        if certain:
            yield value.split(".", 1)[0]
        for inner in INTERPOLATION.findall(value):
            match = IDENTIFIER.match(inner.strip())
            if match:
                yield match.group(1)
    elif isinstance(value, dict):
        operator = value.get("operator")
        if isinstance(operator, dict) and operator.get("type") == "property_accessor":
            first = operator["operands"].get("operand_1")
            if isinstance(first, str):
                yield first
            yield from _roots(first)
            return  # operand_2 is a property name, not a symbol
        for item in value.values():
            yield from _roots(item)
    elif isinstance(value, list):
        for item in value:
            yield from _roots(item, certain=certain)


def _declaration_roots(section: str, declaration: dict[str, Any]) -> set[str]:
    roots = set(_roots(declaration))
    if section in ("resources", "modules"):
        inner = body(declaration.get("config", {}))
        for key in ("parent", "scope", "dependsOn", "depends_on"):
            roots.update(_roots(inner.get(key), certain=True))
    return roots


def check_symbols(docs: list[Document]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in docs:
        if doc.path.suffix != ".bicep":
            continue
        tree = doc.tree
        declared = set(_loop_names(tree))
        for section in ("parameters", "variables", "resources", "modules", "outputs"):
            declared.update(tree.get(section, {}))
        # Child resources declared inside a parent are keyed parent__child by pycep.
        declared.update(s.split("__")[-1] for s in tree.get("resources", {}))
        for section in ("variables", "resources", "modules", "outputs"):
            for symbol, declaration in tree.get(section, {}).items():
                for root in sorted(_declaration_roots(section, declaration) - declared):
                    message = f"{root!r} is not declared in {doc.path.name}"
                    findings.append(
                        Finding("undefined-symbol", f"{doc.path.name}:{symbol}", message)
                    )
    return findings
