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

from collections.abc import Iterator
from typing import Any

from .documents import Document
from .tree import Finding, accessors, body

# A resource's own deploy-time properties (Bicep: id, name, type, apiVersion).
DEPLOY_TIME = {"id", "name", "type", "apiVersion"}


def _first_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    operator = value.get("operator", {}) if isinstance(value, dict) else {}
    if operator.get("type") == "property_accessor":
        return _first_name(operator["operands"].get("operand_1"))
    return None


def _references(value: Any) -> Iterator[tuple[str, str]]:
    """(symbol, first property after it) of every `symbol.prop...` inside value."""
    for symbol, accessed in accessors(value, interpolations=True):
        prop = _first_name(accessed)
        if prop is not None:
            yield symbol, prop


def check_names(docs: list[Document]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in docs:
        resources = doc.tree.get("resources", {})
        modules = doc.tree.get("modules", {})
        declared = [*resources.items(), *modules.items()]
        for symbol, declaration in declared:
            name = body(declaration.get("config", {})).get("name")
            for ref, prop in _references(name):
                runtime = (ref in resources and prop not in DEPLOY_TIME) or (
                    ref in modules and prop == "outputs"
                )
                if runtime:
                    message = f"name reads {ref}.{prop}, known only after deployment"
                    findings.append(Finding("runtime-name", f"{doc.path.name}:{symbol}", message))
    return findings
