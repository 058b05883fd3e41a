"""Module calls against the module files: the params passed and the outputs read.

Rules (broken copies in tests/infra/test_types.py):
  module-param   a param the module does not declare, or a required one not passed
  module-output  `<module>.outputs.<name>` where the module has no such output
"""

from __future__ import annotations

from typing import Any

from .documents import Document
from .tree import Finding, accessors, body, required_params


def _output_name(accessed: Any) -> str | None:
    """'name' of `outputs.name` (possibly followed by more accessors)."""
    if not isinstance(accessed, dict):
        return None
    operator = accessed.get("operator", {})
    if operator.get("type") != "property_accessor":
        return None
    first, second = operator["operands"].get("operand_1"), operator["operands"].get("operand_2")
    if first != "outputs":
        return None
    if isinstance(second, str):
        return second
    return _accessors_root(second)


def _accessors_root(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("operator", {}).get("type") == "property_accessor":
        first = value["operator"]["operands"].get("operand_1")
        return first if isinstance(first, str) else None
    return None


def check_modules(docs: list[Document]) -> list[Finding]:
    by_path = {d.path.resolve(): d for d in docs}
    findings: list[Finding] = []
    for doc in docs:
        targets: dict[str, Document] = {}
        for symbol, module in doc.tree.get("modules", {}).items():
            where = f"{doc.path.name}:{symbol}"
            target = by_path.get((doc.path.parent / module["detail"]["path"]).resolve())
            if target is None:
                message = f"{module['detail']['path']} not found"
                findings.append(Finding("module-param", where, message))
                continue
            targets[symbol] = target
            declared = target.tree.get("parameters", {})
            passed = set(body(module["config"]).get("params", {}))
            for name in sorted(passed - set(declared)):
                message = f"{target.path.name} declares no param {name!r}"
                findings.append(Finding("module-param", where, message))
            for name in sorted(required_params(target.tree) - passed):
                message = f"{target.path.name} requires param {name!r}"
                findings.append(Finding("module-param", where, message))
        for symbol, accessed in accessors(doc.tree):
            name = _output_name(accessed) if symbol in targets else None
            if name is not None and name not in targets[symbol].tree.get("outputs", {}):
                message = f"module {symbol} has no output {name!r}"
                findings.append(Finding("module-output", f"{doc.path.name}:{symbol}", message))
    return findings
