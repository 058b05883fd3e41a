"""What a default Tekton Pipelines v1.x install refuses or does at run time,
written as checks over the files (no cluster runs here).

- Affinity assistant, ``coschedule: workspaces`` (the default): a TaskRun may bind
  at most one PersistentVolumeClaim, counted by claim name, a volumeClaimTemplate
  counting once per PipelineRun workspace (tektoncd/pipeline
  pkg/workspace/validate.go ValidateOnlyOnePVCIsUsed; docs/affinityassistants.md).
- Report-only tasks (lint, scan-image: the seed's rule) carry ``onError: continue``
  (docs/pipelines.md "Using the onError field").
- Runs whose steps are non-root and bind a PVC set ``fsGroup`` in the pod template
  (the catalog git-clone runs as 65532; its README's Quick Start sets fsGroup) with
  ``fsGroupChangePolicy: OnRootMismatch``.
- Pipeline results reference task (or finally) results only
  (docs/pipelines.md "Emitting Results from a Pipeline").

The local runner (tekton/runner) applies ``pvc_claims`` to every TaskRun it starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tektoncheck.documents import Doc, Repo, bodies

REPORT_ONLY = ("lint", "scan-image")
RESULT_REF = re.compile(r"\$\((tasks|finally)\.[A-Za-z0-9_-]+\.results\.[A-Za-z0-9_.-]+\)")


def pvc_claims(task: dict[str, Any], run_workspaces: dict[str, dict[str, Any]]) -> set[str]:
    """The PVCs one pipeline task's TaskRun binds, as ValidateOnlyOnePVCIsUsed counts them."""
    claims: set[str] = set()
    for binding in task.get("workspaces") or []:
        source = run_workspaces.get(str(binding.get("workspace"))) or {}
        if "persistentVolumeClaim" in source:
            claims.add(f"claim {source['persistentVolumeClaim'].get('claimName')}")
        elif "volumeClaimTemplate" in source:
            claims.add(f"volumeClaimTemplate of workspace {binding.get('workspace')}")
    return claims


def check_pvcs(pipeline: dict[str, Any], run: dict[str, Any], where: str) -> Iterator[str]:
    bound = {w.get("name"): w for w in run.get("workspaces") or []}
    for section in ("tasks", "finally"):
        for task in pipeline.get(section) or []:
            claims = pvc_claims(task, bound)
            if len(claims) > 1:
                yield (
                    f"{where}: task '{task.get('name')}' would bind {len(claims)} PVCs"
                    f" ({', '.join(sorted(claims))}); coschedule: workspaces allows one"
                )


def check_pod_template(pipeline: dict[str, Any], run: dict[str, Any], where: str) -> Iterator[str]:
    uses_pvc = any(
        "persistentVolumeClaim" in w or "volumeClaimTemplate" in w
        for w in run.get("workspaces") or []
    )
    template = (run.get("taskRunTemplate") or {}).get("podTemplate") or run.get("podTemplate")
    security = (template or {}).get("securityContext") or {}
    if uses_pvc and pipeline.get("tasks"):
        if security.get("fsGroup") != 65532:
            yield (
                f"{where}: pod template needs securityContext.fsGroup: 65532"
                " (non-root steps on a PVC)"
            )
        if security.get("fsGroupChangePolicy") != "OnRootMismatch":
            yield f"{where}: pod template should set fsGroupChangePolicy: OnRootMismatch"


def check_pipeline(doc: Doc, where: str) -> Iterator[str]:
    tasks = {t.get("name"): t for t in doc.spec.get("tasks") or []}
    for name in REPORT_ONLY:
        if name in tasks and tasks[name].get("onError") != "continue":
            yield f"{where}: report-only task '{name}' must set onError: continue"
    for result in doc.spec.get("results") or []:
        if not RESULT_REF.search(str(result.get("value", ""))):
            yield (
                f"{where}: pipeline result '{result.get('name')}' references no task result"
                " (Tekton rejects it)"
            )


def check(repo: Repo) -> list[str]:
    problems: list[str] = []
    pipelines = repo.named("Pipeline")
    for doc in pipelines.values():
        problems.extend(check_pipeline(doc, doc.where(repo.root)))
    for doc in repo.of_kind("TaskRun"):
        claims = pvc_claims(
            {
                "workspaces": [
                    {"workspace": w.get("name")} for w in doc.spec.get("workspaces") or []
                ]
            },
            {w.get("name"): w for w in doc.spec.get("workspaces") or []},
        )
        if len(claims) > 1:
            problems.append(
                f"{doc.where(repo.root)}: binds {len(claims)} PVCs; coschedule allows one"
            )
    # The PipelineRuns, also those inside TriggerTemplates: documents.bodies walks both.
    for where, body in bodies(repo):
        if body.get("kind") != "PipelineRun":
            continue
        spec = body.get("spec") or {}
        target = pipelines.get(str((spec.get("pipelineRef") or {}).get("name")))
        if target is None:
            continue  # references.check reports the missing Pipeline
        problems.extend(check_pvcs(target.spec, spec, where))
        problems.extend(check_pod_template(target.spec, spec, where))
    return problems
