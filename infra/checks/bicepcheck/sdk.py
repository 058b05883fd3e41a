"""Microsoft's azure-mgmt-* models as a schema: properties, read-only marks, enum values.

Two model generations are read: the TypeSpec "hybrid" models (rest_field attributes and
type annotations; one API version per package) and the msrest models (`_attribute_map`,
`_validation`; one folder per API version, e.g. monitor/v2021_05_01_preview).
"""

from __future__ import annotations

import enum
import importlib
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .resource_models import RESOURCE_MODELS

API_VERSION_IN_SOURCE = re.compile(
    r"""api[-_]version["']?\s*[,:=]\s*[^"'\n]*["'](\d{4}-\d{2}-\d{2}(?:-preview)?)["']"""
)


@dataclass
class Node:
    """One schema node: kind is model, enum, list, dict, str, int, float, bool or any."""

    kind: str
    name: str = ""
    values: tuple[str, ...] = ()
    item: Node | None = None
    fields: dict[str, Field] = field(default_factory=dict)
    # msrest polymorphism: wire discriminator value -> model (e.g. metric alert criteria)
    subtypes: dict[str, Node] = field(default_factory=dict)
    discriminator: str = ""


@dataclass
class Field:
    node: Node | None  # None until resolved (recursive models)
    readonly: bool = False
    loader: Any = None
    required: bool = False

    def schema(self) -> Node:
        if self.node is None:
            self.node = self.loader()
        return self.node


class UnknownResourceError(Exception):
    """No SDK model is registered, or the SDK does not model the API version."""


class ApiVersionError(UnknownResourceError):
    """The resource type is modelled, but not at the API version the template asks for."""


def folder_version(folder: str) -> str:
    return folder[1:].replace("_", "-")


@cache
def api_versions(package: str) -> frozenset[str]:
    """API versions the installed package models: version folders, or its operations."""
    module = importlib.import_module(package)
    root = Path(module.__file__ or "").parent
    found = {
        folder_version(p.name)
        for p in root.iterdir()
        if p.is_dir() and re.fullmatch(r"v\d{4}_\d{2}_\d{2}(_preview)?", p.name)
    }
    for source in [*root.glob("operations/*.py"), root / "_configuration.py"]:
        if source.is_file():
            found.update(API_VERSION_IN_SOURCE.findall(source.read_text(encoding="utf-8")))
    return frozenset(found)


def resource_schema(rtype: str, api_version: str, kind: str | None) -> Node:
    key = (rtype.lower(), kind or "")
    if key not in RESOURCE_MODELS and (rtype.lower(), "") in RESOURCE_MODELS:
        key = (rtype.lower(), "")  # kind is a plain property of this type, not a subtype
    if key not in RESOURCE_MODELS:
        kinds = sorted(k for t, k in RESOURCE_MODELS if t == rtype.lower())
        if kinds and kinds != [""]:
            raise UnknownResourceError(f"{rtype}: kind {kind!r} is not one of {kinds}")
        raise UnknownResourceError(f"{rtype}: no SDK model registered for this resource type")
    package, folder, model = RESOURCE_MODELS[key]
    if folder is not None and folder_version(folder) != api_version:
        raise ApiVersionError(
            f"{rtype}@{api_version}: the schema is {package} {folder_version(folder)}"
        )
    if api_version not in api_versions(package):
        raise ApiVersionError(
            f"{rtype}@{api_version}: {package} does not model this API version "
            f"(it has {', '.join(sorted(api_versions(package)))})"
        )
    module = f"{package}.{folder}.models" if folder else f"{package}.models"
    models = importlib.import_module(module)
    return model_node(getattr(models, model))


_MODEL_NODES: dict[Any, Node] = {}


def model_node(cls: Any) -> Node:
    """The schema of one SDK model class, built once (models refer to each other)."""
    if cls not in _MODEL_NODES:
        read = _msrest_node if hasattr(cls, "_attribute_map") else _hybrid_node
        _MODEL_NODES[cls] = read(cls)
    return _MODEL_NODES[cls]


# --- hybrid (TypeSpec) models ----------------------------------------------------------


def _rest_fields(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if type(value).__name__ in ("_RestField",):
                found[attr] = value
    return found


def _hybrid_node(cls: type) -> Node:
    module = sys.modules[cls.__module__]
    package = importlib.import_module(cls.__module__.rsplit(".models", 1)[0] + ".models")
    hints = typing.get_type_hints(cls, globalns={**vars(module), "_models": package})
    node = Node("model", name=cls.__name__)
    for attr, rest in _rest_fields(cls).items():
        wire = rest._rest_name_input or attr
        visibility = rest._visibility or []
        readonly = bool(visibility) and not ({"create", "update"} & set(visibility))
        annotation = hints.get(attr, Any)
        optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and (
            type(None) in typing.get_args(annotation)
        )
        node.fields[wire] = Field(
            None,
            readonly,
            loader=lambda a=annotation: _annotation_node(a),
            required=not optional and not readonly and annotation is not Any,
        )
    return node


def _annotation_node(annotation: Any) -> Node:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        enums = [a for a in options if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums:
            return Node("enum", name=enums[0].__name__, values=_enum_values(enums[0]))
        literals = [a for a in options if typing.get_origin(a) is typing.Literal]
        if literals:
            return _annotation_node(literals[0])
        if len(options) == 1:
            return _annotation_node(options[0])
        return Node("any")
    if origin is typing.Literal:
        return Node("enum", values=tuple(str(getattr(a, "value", a)) for a in args))
    if origin in (list, typing.List):  # noqa: UP006 - the SDK uses both spellings
        return Node("list", item=_annotation_node(args[0]) if args else Node("any"))
    if origin in (dict, typing.Dict):  # noqa: UP006
        return Node("dict", item=_annotation_node(args[1]) if len(args) > 1 else Node("any"))
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return Node("enum", name=annotation.__name__, values=_enum_values(annotation))
        if annotation in (str, int, float, bool):
            return Node(annotation.__name__)
        if hasattr(annotation, "_attribute_map") or _rest_fields(annotation):
            return model_node(annotation)
    return Node("any")


def _enum_values(cls: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in cls)


# --- msrest models ------------------------------------------------------------------


PRIMITIVES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "long": "int"}
VARTYPE = re.compile(r":vartype (\w+): (?:str|list\[str\]) or ~[\w.]+\.(\w+)")


def _split_key(key: str) -> list[str]:
    parts = re.split(r"(?<!\\)\.", key)
    return [p.replace("\\.", ".") for p in parts]


def _msrest_node(cls: type) -> Node:
    models = sys.modules[cls.__module__.rsplit(".", 1)[0]]
    validation: dict[str, dict[str, Any]] = getattr(cls, "_validation", {})
    enums = dict(VARTYPE.findall(cls.__doc__ or ""))
    node = Node("model", name=cls.__name__)
    for attr, spec in cls._attribute_map.items():  # type: ignore[attr-defined]
        path = _split_key(spec["key"])
        target = node
        for part in path[:-1]:
            holder = target.fields.setdefault(part, Field(Node("model", name=part)))
            target = holder.schema()
        readonly = bool(validation.get(attr, {}).get("readonly"))
        required = bool(validation.get(attr, {}).get("required")) and not readonly
        enum_name = enums.get(attr)
        loader = _msrest_loader(models, spec, enum_name)
        target.fields[path[-1]] = Field(None, readonly, loader=loader, required=required)
        if required:  # a flattened required property makes its holder ("properties") required
            holder_node = node
            for part in path[:-1]:
                holder_node.fields[part].required = True
                holder_node = holder_node.fields[part].schema()
    # Only the class that declares the map dispatches on it (subclasses inherit it).
    for wire, mapping in vars(cls).get("_subtype_map", {}).items():
        node.discriminator = _split_key(cls._attribute_map[wire]["key"])[-1]  # type: ignore[attr-defined]
        for value, sub in mapping.items():
            if sub != cls.__name__:
                node.subtypes[value] = model_node(getattr(models, sub))
    return node


def _msrest_loader(models: Any, spec: dict[str, str], enum_name: str | None) -> Any:
    def load() -> Node:
        return _msrest_type(models, spec["type"], enum_name)

    return load


def _msrest_type(models: Any, text: str, enum_name: str | None) -> Node:
    if text.startswith("[") and text.endswith("]"):
        return Node("list", item=_msrest_type(models, text[1:-1], enum_name))
    if text.startswith("{") and text.endswith("}"):
        return Node("dict", item=_msrest_type(models, text[1:-1], None))
    if enum_name and hasattr(models, enum_name):
        return Node("enum", name=enum_name, values=_enum_values(getattr(models, enum_name)))
    if text in PRIMITIVES:
        return Node(PRIMITIVES[text])
    if hasattr(models, text):
        return model_node(getattr(models, text))
    return Node("any")  # object, iso-8601, duration, ...
