"""Every resource of a parsed Bicep file against its SDK model.

Rules (each has a broken-copy test in tests/infra/test_types.py):
  unknown-type     no SDK model for the resource type (or kind)
  api-version      the installed SDK does not model that API version
  unknown-property a property the model does not have
  read-only        a property the model marks read-only (the service sets it)
  enum             a literal string outside the model's enum values
  value-type       a literal of the wrong primitive type (string for a number, ...)
  required         an object literal without a property the model requires
(module-param and module-output, the calls between files, are in modules.py.)
Expressions (function calls, property accessors, interpolations, references to a
param, var, resource, module or loop variable) are not literals and are not judged.
"""

from __future__ import annotations

from typing import Any

from .documents import Document
from .sdk import ApiVersionError, Node, UnknownResourceError, resource_schema
from .tree import Finding, body, wrappers

# Bicep's own keys of a resource body; not ARM properties.
BICEP_KEYS = {"name", "parent", "scope", "depends_on", "dependsOn"}


def _symbols(tree: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for section in ("parameters", "variables", "resources", "modules"):
        names.update(tree.get(section, {}))
    return names


def _loop_names(layer: dict[str, Any]) -> set[str]:
    detail = layer.get("loop_type", {}).get("detail", {}) or {}
    return {v for k, v in detail.items() if k in ("item_name", "index_name") and v}


def _unquote(key: str) -> str:
    """pycep keeps the quotes of a quoted key ('odata.type')."""
    return key[1:-1] if len(key) > 1 and key[0] == key[-1] == "'" else key


def _is_expression(value: Any, symbols: set[str]) -> bool:
    if isinstance(value, dict):
        # pycep's expression nodes: {"function": {"type": ...}} or {"operator": {"type": ...}};
        # an object literal may well have a property named "operator" (metric criteria).
        if len(value) != 1:
            return False
        key, inner = next(iter(value.items()))
        return key in ("function", "operator") and isinstance(inner, dict)
    if isinstance(value, str):
        root = value.split(".", 1)[0].split("[", 1)[0]
        return "${" in value or value in symbols or root in symbols
    return False


class Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.symbols = _symbols(doc.tree)
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        for symbol, resource in self.doc.tree.get("resources", {}).items():
            self.resource(symbol, resource)
        return self.findings

    def add(self, rule: str, where: str, message: str) -> None:
        self.findings.append(Finding(rule, f"{self.doc.path.name}:{where}", message))

    def resource(self, symbol: str, resource: dict[str, Any]) -> None:
        rtype = resource["type"].split("@", 1)[0]
        version = resource["api_version"]
        config = resource.get("config", {})
        symbols = set(self.symbols)
        for layer in wrappers(config):
            symbols |= _loop_names(layer)
        inner = body(config)
        kind = inner.get("kind") if isinstance(inner.get("kind"), str) else None
        try:
            schema = resource_schema(rtype, version, kind)
        except UnknownResourceError as error:
            rule = "api-version" if isinstance(error, ApiVersionError) else "unknown-type"
            self.add(rule, symbol, str(error))
            return
        if resource.get("existing"):
            return
        saved, self.symbols = self.symbols, symbols
        try:
            for key, value in inner.items():
                if key in BICEP_KEYS:
                    continue
                self.value(f"{symbol}.{key}", value, schema, key)
            self.required(symbol, inner, schema)
        finally:
            self.symbols = saved

    def required(self, where: str, value: dict[str, Any], node: Node) -> None:
        for key, found in node.fields.items():
            if found.required and key not in value:
                self.add("required", where, f"{node.name} requires {key!r}")

    def value(self, where: str, value: Any, parent: Node, key: str) -> None:
        if parent.kind != "model":
            return
        found = parent.fields.get(key) if key else None
        if found is None:
            known = ", ".join(sorted(parent.fields))
            self.add("unknown-property", where, f"{parent.name} has no property {key!r} ({known})")
            return
        if found.readonly:
            self.add("read-only", where, f"{parent.name}.{key} is read-only")
            return
        self.check(where, value, found.schema())

    def check(self, where: str, value: Any, node: Node) -> None:
        if isinstance(value, dict) and "loop_type" in value:
            saved = set(self.symbols)
            self.symbols |= _loop_names(value)
            item = node.item if node.kind == "list" and node.item else Node("any")
            self.check(f"{where}[for]", value.get("config"), item)
            self.symbols = saved
            return
        if _is_expression(value, self.symbols) or node.kind == "any":
            return
        if node.kind == "model":
            if not isinstance(value, dict):
                self.add("value-type", where, f"expected an object ({node.name}), got {value!r}")
                return
            value = {_unquote(k): v for k, v in value.items()}
            target = node
            if node.subtypes and isinstance(value.get(node.discriminator), str):
                sub = node.subtypes.get(value[node.discriminator])
                if sub is None:
                    self.add(
                        "enum",
                        f"{where}.{node.discriminator}",
                        f"{value[node.discriminator]!r} not in {sorted(node.subtypes)}",
                    )
                    return
                target = sub
            for key, item in value.items():
                self.value(f"{where}.{key}", item, target, key)
            self.required(where, value, target)
        elif node.kind in ("list", "dict"):
            container = list if node.kind == "list" else dict
            if not isinstance(value, container):
                self.add("value-type", where, f"expected a {node.kind}, got {value!r}")
                return
            items = value if isinstance(value, list) else list(value.values())
            for i, item in enumerate(items):
                self.check(f"{where}[{i}]", item, node.item or Node("any"))
        elif node.kind == "enum":
            if not isinstance(value, str) or value not in node.values:
                allowed = f"{node.name or 'enum'} {list(node.values)}"
                self.add("enum", where, f"{value!r} not in {allowed}")
        else:
            self.primitive(where, value, node.kind)

    def primitive(self, where: str, value: Any, kind: str) -> None:
        ok = {
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
        }[kind]
        if not ok:
            self.add("value-type", where, f"expected {kind}, got {value!r}")


def check_documents(docs: list[Document]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in docs:
        if doc.path.suffix == ".bicep":
            findings += Checker(doc).run()
    return findings
