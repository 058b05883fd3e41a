"""Resource and module names must be known when the deployment starts.

Bicep refuses a `name` built from a value that exists only once another resource is
deployed: its runtime properties (`<resource>.properties...`) or a module's outputs
(compiler error BCP120, "This expression is being used in an assignment to the "name"
property ... which requires a value that can be calculated at the start of the
deployment"). pycep does not know the rule; this check does.

Rule (broken copy in tests/infra/test_types.py):
  runtime-name   a name that reads a resource's runtime property or a module output
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .documents import Document
from .typecheck import Finding

# A resource's own deploy-time properties (Bicep: id, name, type, apiVersion).
DEPLOY_TIME = {"id", "name", "type", "apiVersion"}
INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


def _body(config: dict[str, Any]) -> dict[str, Any]:
    while "condition" in config or "loop_type" in config:
        config = config["config"]
    return config


def _first_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    operator = value.get("operator", {}) if isinstance(value, dict) else {}
    if operator.get("type") == "property_accessor":
        return _first_name(operator["operands"].get("operand_1"))
    return None


def _references(value: Any) -> Iterator[tuple[str, str]]:
    """(symbol, first property after it) of every `symbol.prop...` inside value."""
    if isinstance(value, str):
        for inner in INTERPOLATION.findall(value):
            parts = re.split(r"[.\[]", inner.strip())
            if len(parts) > 1:
                yield parts[0], parts[1]
    elif isinstance(value, dict):
        operator = value.get("operator")
        if isinstance(operator, dict) and operator.get("type") == "property_accessor":
            operands = operator["operands"]
            first, second = operands.get("operand_1"), _first_name(operands.get("operand_2"))
            if isinstance(first, str) and second:
                yield first, second
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def check_names(docs: list[Document]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in docs:
        resources = doc.tree.get("resources", {})
        modules = doc.tree.get("modules", {})
        declared = [*resources.items(), *modules.items()]
        for symbol, declaration in declared:
            name = _body(declaration.get("config", {})).get("name")
            for ref, prop in _references(name):
                runtime = (ref in resources and prop not in DEPLOY_TIME) or (
                    ref in modules and prop == "outputs"
                )
                if runtime:
                    message = f"name reads {ref}.{prop}, known only after deployment"
                    findings.append(Finding("runtime-name", f"{doc.path.name}:{symbol}", message))
    return findings
