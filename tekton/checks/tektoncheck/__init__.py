"""Static checks for the Tekton resources under tekton/.

Two kinds of problem: what Tekton itself refuses (the CRD schema as the API server
applies it, and the cross-references the controller resolves), and the project's
style rules, named ``style/<rule>``, which are stricter than Tekton (see style.py).
"""

from __future__ import annotations

from pathlib import Path

from tektoncheck import cluster, documents, hardening, references, schema, style, triggers


def schema_problems(repo: documents.Repo, crd_dir: Path) -> list[str]:
    """What the API server would refuse: every resource and the runs inside
    TriggerTemplates, against the CRD schemas."""
    problems: list[str] = []
    for where, body in documents.bodies(repo):
        problems.extend(schema.validate(body, crd_dir, where))
    return problems


def run_all(root: Path, crd_dir: Path) -> list[str]:
    """Every problem the schema, reference, style, hardening and trigger checks find."""
    repo = documents.load(root)
    return [
        *schema_problems(repo, crd_dir),
        *references.check(repo),
        *style.check(repo, crd_dir),
        *style.tagged("hardening", hardening.check(repo)),
        *triggers.check(repo),
        *cluster.check(repo),
    ]
