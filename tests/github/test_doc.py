"""docs/ci-github.md tells the truth about the workflow: its diagram has the jobs and
their order, and it names the version of every pinned action."""

from __future__ import annotations

import re

import pytest
from gha_rules import PINNED_USES, REPO, WORKFLOW, jobs, needs

DOC = REPO / "docs/ci-github.md"
EDGE = re.compile(r"^\s*(\w+)(?:\[[^\]]*\])?\s*-->(?:\|[^|]*\|)?\s*(\w+)", flags=re.MULTILINE)


def diagram_order(doc: str, job_ids: set[str]) -> set[tuple[str, str]]:
    """The job -> job edges of the Mermaid diagram (node ids use _ for -)."""
    block = doc.split("```mermaid", 1)[1].split("```", 1)[0]
    edges = {(a.replace("_", "-"), b.replace("_", "-")) for a, b in EDGE.findall(block)}
    return {(a, b) for a, b in edges if a in job_ids and b in job_ids}


def workflow_order(text: str) -> set[tuple[str, str]]:
    return {(before, name) for name, job in jobs(text).items() for before in needs(job)}


def test_the_diagram_has_the_workflows_order() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    doc = DOC.read_text(encoding="utf-8")
    for name in jobs(text):
        assert name.replace("-", "_") in doc
    assert diagram_order(doc, set(jobs(text))) == workflow_order(text)


def test_a_diagram_without_an_edge_differs() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    doc = DOC.read_text(encoding="utf-8").replace("  unit_test[", "  unit_test_box[", 1)
    assert diagram_order(doc, set(jobs(text))) != workflow_order(text)


@pytest.mark.parametrize(
    "line",
    sorted(
        {
            m.strip()
            for m in WORKFLOW.read_text(encoding="utf-8").splitlines()
            if PINNED_USES.match(m)
        }
    ),
)
def test_the_doc_names_each_pinned_version(line: str) -> None:
    pin = PINNED_USES.match(line)
    assert pin
    assert f"`{pin['action']}` {pin['version']}" in DOC.read_text(encoding="utf-8")
