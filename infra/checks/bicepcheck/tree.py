"""Reading pycep's trees, shared by every check, and the Finding each check reports.

Imports nothing of bicepcheck, so every other module may import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The `${...}` parts of an interpolated string (pycep keeps those as plain strings).
INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.message}"


def wrappers(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The `if (...)` and `for` layers around a resource's or module's body, outside in."""
    while "condition" in config or "loop_type" in config:
        yield config
        config = config["config"]


def body(config: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's body, inside its `if (...)` or `for` if it has one."""
    for layer in wrappers(config):
        config = layer["config"]
    return config


def required_params(tree: dict[str, Any]) -> set[str]:
    """Params without a default (pycep gives `default: null` for those)."""
    return {
        name for name, spec in tree.get("parameters", {}).items() if spec.get("default") is None
    }


def accessors(value: Any, interpolations: bool = False) -> Iterator[tuple[str, Any]]:
    """(symbol, what it accesses) of every `symbol.x...` expression inside value.

    What it accesses is pycep's operand (a name, or a nested accessor for `symbol.x.y`).
    With interpolations, a `${symbol.x...}` in a string gives (symbol, 'x') as well.
    """
    if isinstance(value, str):
        if interpolations:
            for inner in INTERPOLATION.findall(value):
                parts = re.split(r"[.\[]", inner.strip())
                if len(parts) > 1:
                    yield parts[0], parts[1]
    elif isinstance(value, dict):
        operator = value.get("operator")
        if isinstance(operator, dict) and operator.get("type") == "property_accessor":
            operands = operator["operands"]
            if isinstance(operands.get("operand_1"), str):
                yield operands["operand_1"], operands.get("operand_2")
        for item in value.values():
            yield from accessors(item, interpolations)
    elif isinstance(value, list):
        for item in value:
            yield from accessors(item, interpolations)
