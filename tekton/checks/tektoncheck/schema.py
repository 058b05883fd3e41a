"""What the Tekton API server accepts, checked against the real CRD schemas.

A Tekton resource passes three gates on a cluster, in this order (Kubernetes,
"Dynamic Admission Control": mutating webhooks run first, then the API server
validates the object against the CRD schema, then validating webhooks run):

1. Tekton's defaulting webhook decodes the object into its Go type, refusing
   unknown fields (``cmd/webhook/main.go``: ``disallowUnknownFields: true``), and
   patches it with the Go type's own JSON (knative.dev/pkg ``roundTripPatch``).
   Every field the Go type always writes (no ``omitempty``) is then present, as its
   zero value if the author left it out: an unnamed step gets ``name: ""``.
2. The API server checks the CRD's ``openAPIV3Schema``. Its ``required`` lists come
   from those same Go fields (controller-gen), so after step 1 they only refuse a
   field whose zero value the Go type cannot write: a param without ``value``
   (``ParamValue.MarshalJSON`` fails on an empty value).
3. The validating webhook runs Tekton's Go validation (not modelled here; the
   reference checks cover the cross-references it makes).

So this module validates each document against the v1 (or v1beta1) CRD schema with
two changes that follow the server: ``additionalProperties: false`` wherever a node
lists ``properties`` (unknown fields are refused by ``kubectl``'s strict field
validation and by the webhook's strict decoding), and a ``required`` field is
dropped when the round trip would write a zero value that the field's schema
accepts. The CRDs leave inline ``taskSpec``/``pipelineSpec`` unchecked
(``x-kubernetes-preserve-unknown-fields``), but the webhook decodes them strictly
into ``TaskSpec``/``EmbeddedTask``/``PipelineSpec``, so they are validated here
against the Task and Pipeline spec schemas, with Go's key matching: encoding/json
also accepts a key that differs from the field's name only in case (``mountpath``),
and the round trip rewrites it (``style/field-name-case`` flags it in this repo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_FILES = {
    "Task": "300-task.yaml",
    "TaskRun": "300-taskrun.yaml",
    "Pipeline": "300-pipeline.yaml",
    "PipelineRun": "300-pipelinerun.yaml",
}
API_VERSIONS = ("tekton.dev/v1", "tekton.dev/v1beta1")
PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"

# pipeline_types.go EmbeddedTask: a TaskSpec plus the TypeMeta, the raw `spec` of a
# custom task and `metadata` (labels and annotations only).
EMBEDDED_TASK_EXTRAS: dict[str, Any] = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "spec": {"type": "object", PRESERVE: True},
    "metadata": {
        "type": "object",
        "properties": {
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    },
}


def round_trip_zero(node: dict[str, Any]) -> Any:
    """The JSON a Go field of this schema writes when the author left it out, or
    None when it writes nothing the schema keeps (a nil slice, map or pointer is
    ``null``, which the API server prunes) or cannot write at all (custom types)."""
    if node.get(INT_OR_STRING):
        return 0  # intstr.IntOrString{} marshals as the integer 0
    types = node.get("type")
    kind = next((t for t in types if t != "null"), None) if isinstance(types, list) else types
    zeros: dict[Any, Any] = {"string": "", "integer": 0, "number": 0, "boolean": False}
    if kind in zeros:
        return zeros[kind]
    if kind == "object" and "properties" in node:
        return {}  # a struct; its own always-written fields are handled at its level
    return None


def _filled_by_round_trip(node: dict[str, Any]) -> bool:
    zero = round_trip_zero(node)
    return zero is not None and jsonschema.Draft7Validator(node).is_valid(zero)


def strict(node: Any) -> Any:
    """An OpenAPI v3 schema as the server applies it: unknown fields rejected, nullable
    types allowing null, and ``required`` only where the Go round trip fills nothing."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if "properties" in out and not out.get(PRESERVE) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if isinstance(out.get("required"), list) and isinstance(out.get("properties"), dict):
        props = out["properties"]
        kept = [name for name in out["required"] if not _filled_by_round_trip(props.get(name, {}))]
        if kept:
            out["required"] = kept
        else:
            del out["required"]
    return out


@cache
def _crd_schema(crd_dir: str, kind: str, version: str) -> dict[str, Any]:
    text = (Path(crd_dir) / CRD_FILES[kind]).read_text(encoding="utf-8")
    # The C loader: the four CRDs are 1.3 MB of YAML.
    crd = yaml.load(text, Loader=yaml.CSafeLoader)
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            schema: dict[str, Any] = strict(served["schema"]["openAPIV3Schema"])
            return schema
    raise LookupError(f"{CRD_FILES[kind]} has no {version} version")


def schema_for(crd_dir: Path, kind: str, version: str = "v1") -> dict[str, Any]:
    """The server-side schema of ``kind``: the cached one, shared, so read it only
    (every caller here only reads; the embedded-task schema is built beside it)."""
    return _crd_schema(str(crd_dir), kind, version)


def task_spec_schema(crd_dir: Path, version: str = "v1") -> dict[str, Any]:
    """The schema of a Task's ``spec``: a TaskRun's inline ``taskSpec``."""
    spec: dict[str, Any] = schema_for(crd_dir, "Task", version)["properties"]["spec"]
    return spec


@cache
def embedded_task_schema(crd_dir: Path, version: str = "v1") -> dict[str, Any]:
    """The schema of a pipeline task's inline ``taskSpec`` (an EmbeddedTask); built
    once, with new top-level maps, so the Task schema it extends is left as it is."""
    spec = task_spec_schema(crd_dir, version)
    return {**spec, "properties": {**spec["properties"], **EMBEDDED_TASK_EXTRAS}}


def pipeline_spec_schema(crd_dir: Path, version: str = "v1") -> dict[str, Any]:
    """The schema of a Pipeline's ``spec``: an inline ``pipelineSpec``."""
    spec: dict[str, Any] = schema_for(crd_dir, "Pipeline", version)["properties"]["spec"]
    return spec


def _go_field(key: Any, props: dict[str, Any]) -> str | None:
    """The field encoding/json decodes ``key`` into: exact name first, then any case."""
    if not isinstance(key, str):
        return None
    if key in props:
        return key
    return next((name for name in props if name.casefold() == key.casefold()), None)


def go_key_renames(body: Any, schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    """Keys of an inline spec that Go's encoding/json matches to a field only by
    ignoring case: (path of the key, the field's name)."""
    if isinstance(body, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(body):
            yield from go_key_renames(item, schema["items"], f"{path}[{index}]")
    if not isinstance(body, dict):
        return
    props = schema.get("properties") or {}
    for key, value in body.items():
        name = _go_field(key, props)
        if name is None:
            continue
        at = f"{path}.{key}" if path else key
        if name != key:
            yield at, name
        yield from go_key_renames(value, props[name], at)


def go_decoded(body: Any, schema: dict[str, Any]) -> Any:
    """An inline spec with its keys spelled as the Go round trip writes them."""
    if isinstance(body, list) and isinstance(schema.get("items"), dict):
        return [go_decoded(item, schema["items"]) for item in body]
    if not isinstance(body, dict) or "properties" not in schema:
        return body
    props = schema["properties"]
    out: dict[Any, Any] = {}
    for key, value in body.items():
        name = _go_field(key, props)
        if name is None:
            out[key] = value  # unknown: left for the schema to refuse
        else:
            out[name] = go_decoded(value, props[name])
    return out


def _errors(schema: dict[str, Any], instance: Any, where: str) -> Iterator[str]:
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        yield f"{where}: {path or '<root>'}: {error.message}"


def _inline_in_pipeline(path: str, spec: Any) -> Iterator[tuple[str, str, Any]]:
    if not isinstance(spec, dict):
        return
    for section in ("tasks", "finally"):
        tasks = spec.get(section)
        for index, task in enumerate(tasks if isinstance(tasks, list) else []):
            if not isinstance(task, dict):
                continue
            at = f"{path}.{section}[{index}]"
            if "taskSpec" in task:
                yield f"{at}.taskSpec", "embedded-task", task["taskSpec"]
            if "pipelineSpec" in task:  # pipelines in pipelines (alpha)
                yield f"{at}.pipelineSpec", "pipeline", task["pipelineSpec"]
                yield from _inline_in_pipeline(f"{at}.pipelineSpec", task["pipelineSpec"])


def inline_specs(doc: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Every inline spec the CRD leaves unchecked: (path, which schema, body)."""
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return
    if doc.get("kind") == "Pipeline":
        yield from _inline_in_pipeline("spec", spec)
    if doc.get("kind") == "TaskRun" and "taskSpec" in spec:
        yield "spec.taskSpec", "task", spec["taskSpec"]
    if doc.get("kind") == "PipelineRun" and "pipelineSpec" in spec:
        yield "spec.pipelineSpec", "pipeline", spec["pipelineSpec"]
        yield from _inline_in_pipeline("spec.pipelineSpec", spec["pipelineSpec"])


SPEC_SCHEMAS: dict[str, Callable[[Path, str], dict[str, Any]]] = {
    "task": task_spec_schema,
    "embedded-task": embedded_task_schema,
    "pipeline": pipeline_spec_schema,
}


def validate(doc: dict[str, Any], crd_dir: Path, where: str) -> list[str]:
    """Every schema error of one Tekton document (empty when the server accepts it)."""
    kind = doc.get("kind")
    if kind not in CRD_FILES:
        return []
    if doc.get("apiVersion") not in API_VERSIONS:
        return [f"{where}: apiVersion {doc.get('apiVersion')} is not served by the Tekton CRDs"]
    version = str(doc["apiVersion"]).split("/")[1]
    problems = list(_errors(schema_for(crd_dir, kind, version), doc, where))
    for path, which, body in inline_specs(doc):
        schema = SPEC_SCHEMAS[which](crd_dir, version)
        problems.extend(_errors(schema, go_decoded(body, schema), f"{where}: {path}"))
    return problems
