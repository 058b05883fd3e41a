"""Static checks for the Tekton resources under tekton/ (what a cluster would reject)."""

from __future__ import annotations

from pathlib import Path

from tektoncheck import cluster, documents, hardening, references, schema, triggers


def schema_problems(repo: documents.Repo, crd_dir: Path) -> list[str]:
    problems: list[str] = []
    for doc in repo.docs:
        problems.extend(schema.validate(doc.body, crd_dir, doc.where(repo.root)))
    for doc in repo.of_kind("TriggerTemplate"):
        for index, body in enumerate(doc.spec.get("resourcetemplates") or []):
            where = f"{doc.where(repo.root)}: resourcetemplates[{index}]"
            problems.extend(schema.validate(body, crd_dir, where))
    return problems


def run_all(root: Path, crd_dir: Path) -> list[str]:
    """Every problem the schema, reference, hardening and trigger checks find."""
    repo = documents.load(root)
    return [
        *schema_problems(repo, crd_dir),
        *references.check(repo),
        *hardening.check(repo),
        *triggers.check(repo),
        *cluster.check(repo),
    ]
