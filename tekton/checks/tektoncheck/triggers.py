"""Checks for what no CRD schema covers here: Triggers, RBAC and the kustomization.

Tekton Triggers' CRDs carry no schema, so known fields are listed by hand (from
the triggers.tekton.dev/v1beta1 API) and every reference is resolved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tektoncheck import references
from tektoncheck.documents import NOT_RESOURCES, Doc, Repo, resource_files, variables

KNOWN = {
    "EventListener.spec": {
        "serviceAccountName",
        "triggers",
        "resources",
        "namespaceSelector",
        "labelSelector",
    },
    "EventListener.trigger": {"name", "interceptors", "bindings", "template", "triggerRef"},
    "interceptor": {"ref", "params", "name"},
    "TriggerBinding.spec": {"params"},
    "TriggerTemplate.spec": {"params", "resourcetemplates"},
}


def _unknown(node: dict[str, Any], known: str, where: str) -> Iterator[str]:
    for key in sorted(set(node) - KNOWN[known]):
        yield f"{where}: unknown field '{key}' in {known}"


def check_event_listener(repo: Repo, doc: Doc, where: str) -> Iterator[str]:
    yield from _unknown(doc.spec, "EventListener.spec", where)
    if doc.spec.get("serviceAccountName") not in repo.named("ServiceAccount"):
        yield f"{where}: serviceAccountName '{doc.spec.get('serviceAccountName')}' is not defined"
    bindings, templates = repo.named("TriggerBinding"), repo.named("TriggerTemplate")
    for trigger in doc.spec.get("triggers") or []:
        at = f"{where}: trigger '{trigger.get('name')}'"
        yield from _unknown(trigger, "EventListener.trigger", at)
        names = [b.get("ref") for b in trigger.get("bindings") or []]
        for name in names:
            if name not in bindings:
                yield f"{at} references missing TriggerBinding '{name}'"
        template = templates.get(str((trigger.get("template") or {}).get("ref")))
        if template is None:
            wanted = (trigger.get("template") or {}).get("ref")
            yield f"{at} references missing TriggerTemplate '{wanted}'"
        else:
            yield from _check_binding_params(
                [bindings[n] for n in names if n in bindings], template, at
            )
        yield from _check_interceptors(trigger.get("interceptors") or [], at)


def _check_binding_params(bindings: list[Doc], template: Doc, at: str) -> Iterator[str]:
    provided = {p.get("name") for b in bindings for p in b.spec.get("params") or []}
    declared = {p["name"]: "default" not in p for p in template.spec.get("params") or []}
    for name in sorted(provided - set(declared)):
        yield f"{at}: binding param '{name}' is not a TriggerTemplate param"
    for name, required in sorted(declared.items()):
        if required and name not in provided:
            yield f"{at}: TriggerTemplate param '{name}' gets no value from the bindings"


def _check_interceptors(interceptors: list[dict[str, Any]], at: str) -> Iterator[str]:
    by_name = {}
    for interceptor in interceptors:
        yield from _unknown(interceptor, "interceptor", at)
        by_name[(interceptor.get("ref") or {}).get("name")] = {
            p.get("name"): p.get("value") for p in interceptor.get("params") or []
        }
    github = by_name.get("github")
    if github is None:
        yield f"{at}: no github interceptor (the webhook secret would not be checked)"
    else:
        secret = github.get("secretRef") or {}
        if not secret.get("secretName") or not secret.get("secretKey"):
            yield f"{at}: github interceptor has no secretRef (secretName, secretKey)"
        if "push" not in (github.get("eventTypes") or []):
            yield f"{at}: github interceptor does not accept push events"
    cel = by_name.get("cel") or {}
    if "refs/heads/main" not in str(cel.get("filter", "")):
        yield f"{at}: no cel filter on refs/heads/main"
    names = list(by_name)
    if github is not None and "cel" in names and names.index("cel") < names.index("github"):
        yield f"{at}: the cel filter must come after the github interceptor checks the secret"


def check_trigger_binding(doc: Doc, where: str) -> Iterator[str]:
    yield from _unknown(doc.spec, "TriggerBinding.spec", where)
    for param in doc.spec.get("params") or []:
        value = str(param.get("value", ""))
        if not value.startswith(("$(body.", "$(header.", "$(extensions.")):
            yield f"{where}: param '{param.get('name')}' does not come from the event"


def check_trigger_template(repo: Repo, doc: Doc, where: str) -> Iterator[str]:
    yield from _unknown(doc.spec, "TriggerTemplate.spec", where)
    declared = {p["name"] for p in doc.spec.get("params") or []}
    used: set[str] = set()
    for path, scope, rest in variables(doc.spec.get("resourcetemplates")):
        if scope == "tt":
            name = rest.removeprefix("params.")
            used.add(name)
            if not rest.startswith("params.") or name not in declared:
                yield f"{where}: {path} uses undeclared TriggerTemplate param '{name}'"
    for name in sorted(declared - used):
        yield f"{where}: TriggerTemplate param '{name}' is never used"
    for index, body in enumerate(doc.spec.get("resourcetemplates") or []):
        at = f"{where}: resourcetemplates[{index}]"
        if body.get("kind") not in {"PipelineRun", "TaskRun"}:
            yield f"{at}: only PipelineRuns and TaskRuns are expected, not {body.get('kind')}"
            continue
        yield from references.check_run(repo, body, at)


def check_rbac(repo: Repo) -> Iterator[str]:
    accounts = set(repo.named("ServiceAccount"))
    roles = {("Role", d.name) for d in repo.of_kind("Role")} | {
        ("ClusterRole", d.name) for d in repo.of_kind("ClusterRole")
    }
    for doc in repo.of_kind("RoleBinding") + repo.of_kind("ClusterRoleBinding"):
        where = doc.where(repo.root)
        ref = doc.body.get("roleRef") or {}
        if (ref.get("kind"), ref.get("name")) not in roles:
            yield f"{where}: roleRef {ref.get('kind')} '{ref.get('name')}' is not defined"
        for subject in doc.body.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("name") not in accounts:
                yield f"{where}: subject ServiceAccount '{subject.get('name')}' is not defined"
    for doc in repo.of_kind("Role") + repo.of_kind("ClusterRole"):
        for rule in doc.body.get("rules") or []:
            if "*" in (rule.get("verbs") or []) or "*" in (rule.get("resources") or []):
                yield f"{doc.where(repo.root)}: wildcard rule (least privilege: name the verbs)"


# Created per run (runs/) or opted into by hand (policy/): never installed by -k.
NOT_INSTALLED = {"runs", "policy"}


def check_kustomization(root: Path) -> Iterator[str]:
    path = root / "kustomization.yaml"
    if not path.is_file():
        yield "kustomization.yaml is missing"
        return
    listed = set((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("resources") or [])
    for entry in sorted(listed):
        if not (root / entry).is_file():
            yield f"kustomization.yaml lists missing file '{entry}'"
    for file in resource_files(root):
        relative = file.relative_to(root).as_posix()
        if (
            relative.split("/")[0] not in NOT_INSTALLED
            and file.name not in NOT_RESOURCES
            and relative not in listed
        ):
            yield f"kustomization.yaml does not install '{relative}'"


def check(repo: Repo) -> list[str]:
    problems: list[str] = []
    for doc in repo.of_kind("EventListener"):
        problems.extend(check_event_listener(repo, doc, doc.where(repo.root)))
    for doc in repo.of_kind("TriggerBinding"):
        problems.extend(check_trigger_binding(doc, doc.where(repo.root)))
    for doc in repo.of_kind("TriggerTemplate"):
        problems.extend(check_trigger_template(repo, doc, doc.where(repo.root)))
    problems.extend(check_rbac(repo))
    problems.extend(check_kustomization(repo.root))
    return problems
