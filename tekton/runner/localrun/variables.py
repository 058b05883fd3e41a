"""Tekton variable substitution: ``$(params.x)``, ``$(results.r.path)``, ...

Only the scopes Tekton owns are touched, so shell ``$(mktemp -d)`` in a script
stays as it is. A reference that cannot be resolved is an error, as it is for
Tekton's admission webhook.
"""

from __future__ import annotations

import re
from typing import Any

Value = str | list[str]
REFERENCE = re.compile(
    r"\$\((?P<key>(?:params|workspaces|results|tasks|finally|context)\.[A-Za-z0-9_.\-]+(?:\[\*\])?)\)"
)


class UnresolvedReferenceError(KeyError):
    """A ``$(...)`` reference with no value (e.g. a result a failed task never wrote)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        #: The reference's key, e.g. ``tasks.scan-image.results.SBOM``.
        self.key = key


def _lookup(key: str, values: dict[str, Value]) -> Value:
    plain = key.removesuffix("[*]")
    if plain not in values:
        raise UnresolvedReferenceError(f"$({key})", key)
    return values[plain]


def in_string(text: str, values: dict[str, Value]) -> str:
    """Replace every reference inside a string (arrays only as whole elements)."""

    def replace(match: re.Match[str]) -> str:
        value = _lookup(match.group("key"), values)
        if isinstance(value, list):
            key = match.group("key")
            raise UnresolvedReferenceError(f"array $({key}) used inside a string", key)
        return value

    return REFERENCE.sub(replace, text)


def in_list(items: list[Any], values: dict[str, Value]) -> list[str]:
    """Substitute a list of strings; an element that is exactly an array reference
    is spliced in, as Tekton does for ``args`` and array params."""
    out: list[str] = []
    for item in items:
        text = str(item)
        match = REFERENCE.fullmatch(text)
        if match:
            value = _lookup(match.group("key"), values)
            if isinstance(value, list):
                out.extend(value)
                continue
        out.append(in_string(text, values))
    return out


def in_tree(node: Any, values: dict[str, Value]) -> Any:
    """Substitute every string of a YAML tree; lists of strings may splice arrays."""
    if isinstance(node, str):
        return in_string(node, values)
    if isinstance(node, list):
        if all(isinstance(item, str) for item in node):
            return in_list(node, values)
        return [in_tree(item, values) for item in node]
    if isinstance(node, dict):
        return {key: in_tree(value, values) for key, value in node.items()}
    return node


def references(node: Any) -> list[str]:
    """Every reference key in a tree (without the ``[*]`` suffix)."""
    if isinstance(node, str):
        return [m.group("key").removesuffix("[*]") for m in REFERENCE.finditer(node)]
    if isinstance(node, list):
        return [key for item in node for key in references(item)]
    if isinstance(node, dict):
        return [key for value in node.values() for key in references(value)]
    return []
