"""Hardening rules: pinned images, non-root restricted steps, limits, timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tektoncheck.documents import Doc, Repo

ROOT_STEPS = "powerwatch.dev/root-steps"


def _image(step: dict[str, Any], defaults: dict[str, str]) -> str:
    image = str(step.get("image", ""))
    if image.startswith("$(params.") and image.endswith(")"):
        return defaults.get(image[len("$(params.") : -1], "")
    return image


def _effective_security(template: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    merged = dict(template.get("securityContext") or {})
    merged.update(step.get("securityContext") or {})
    return merged


def check_task(doc: Doc, where: str) -> Iterator[str]:
    spec = doc.spec
    defaults = {p["name"]: str(p.get("default", "")) for p in spec.get("params") or []}
    template = spec.get("stepTemplate") or {}
    annotations = (doc.body.get("metadata") or {}).get("annotations") or {}
    root_steps = {s.strip() for s in str(annotations.get(ROOT_STEPS, "")).split(",") if s.strip()}
    if spec.get("sidecars"):
        yield f"{where}: sidecars are not allowed (they escape the step hardening)"
    for step in spec.get("steps") or []:
        at = f"{where}: step '{step.get('name')}'"
        image = _image(step, defaults)
        if "@sha256:" not in image:
            yield f"{at} image '{image or step.get('image')}' is not pinned by digest"
        security = _effective_security(template, step)
        if step.get("name") in root_steps:
            if security.get("runAsUser") != 0:
                yield f"{at} is listed in {ROOT_STEPS} but does not set runAsUser: 0"
        elif security.get("runAsNonRoot") is not True:
            yield f"{at} does not run as non-root (runAsNonRoot: true)"
        if security.get("allowPrivilegeEscalation") is not False:
            yield f"{at} allows privilege escalation"
        if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
            yield f"{at} does not drop ALL capabilities"
        if (security.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            yield f"{at} has no RuntimeDefault seccomp profile"
        resources = step.get("computeResources") or template.get("computeResources") or {}
        if not resources.get("requests") or not resources.get("limits"):
            yield f"{at} has no resource requests and limits"
    for step_name in sorted(root_steps - {s.get("name") for s in spec.get("steps") or []}):
        yield f"{where}: {ROOT_STEPS} names unknown step '{step_name}'"


def check_pipeline(doc: Doc, where: str) -> Iterator[str]:
    for section in ("tasks", "finally"):
        for task in doc.spec.get(section) or []:
            if not task.get("timeout"):
                yield f"{where}: task '{task.get('name')}' has no timeout"


def check(repo: Repo) -> list[str]:
    problems: list[str] = []
    for doc in repo.of_kind("Task"):
        problems.extend(check_task(doc, doc.where(repo.root)))
    for doc in repo.of_kind("Pipeline"):
        problems.extend(check_pipeline(doc, doc.where(repo.root)))
    return problems
