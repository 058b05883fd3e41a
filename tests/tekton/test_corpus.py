"""Tekton's own v1 examples pass the schema and reference checks.

Tekton's end-to-end suite applies these files to a real cluster, so a schema or
reference problem on one of them means the checks are stricter than Tekton. The
project's style rules may flag them (they are stricter on purpose) and are
counted apart. Each file is checked alone, as the e2e suite applies each in its
own namespace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tekton_testkit import CRDS, EXAMPLES
from tektoncheck import documents, references, schema, schema_problems, style

# Files Tekton v1.15.0 (the CRDs in ../shared/tekton-crds/) would not take as they
# stand, with the problem the checks report and why. Both live in `no-ci/`: Tekton's
# e2e suite does not run them.
EXCEPTIONS = {
    "pipelineruns/no-ci/compressed-results-pipeline.yaml": (
        "steps[0].script uses undeclared result 'digest-${i}'",
        "Tekton's own webhook refuses it: validateTaskResultsVariables reads"
        " $(results.digest-${i}.path) as the result 'digest-${i}', which is not declared"
        " (pkg/apis/pipeline/v1/task_validation.go, pkg/substitution). It also needs the"
        " enable-termination-message-compression feature flag.",
    ),
    "taskruns/no-ci/default-workspaces.yaml": (
        "does not bind workspace 'source'",
        "needs the cluster's config-defaults `default-task-run-workspace-binding` to bind"
        " the workspace the TaskRun leaves out; without it the controller fails the run.",
    ),
}


def corpus() -> list[Path]:
    if not EXAMPLES.is_dir():
        pytest.fail(
            f"Tekton's examples are missing at {EXAMPLES}: clone the repository next to"
            " shared/ (shared/tekton-examples is tektoncd/pipeline examples/v1)."
        )
    return documents.resource_files(EXAMPLES)


def problems_of(path: Path) -> tuple[list[str], list[str]]:
    """(what Tekton would refuse, style problems) of one example file."""
    repo = documents.load(EXAMPLES, [path])
    found = [*schema_problems(repo, CRDS), *references.check(repo), *style.check(repo, CRDS)]
    refused = [p for p in found if not style.is_style(p)]
    return refused, [p for p in found if style.is_style(p)]


def test_the_corpus_is_the_whole_examples_v1_folder() -> None:
    files = corpus()
    assert len(files) == 152
    kinds = [doc.kind for doc in documents.load(EXAMPLES).docs]
    # Every Task, TaskRun, Pipeline and PipelineRun is schema-checked. The 7 StepAction
    # documents are not: ../shared/tekton-crds/ holds no StepAction CRD.
    assert sum(kind in schema.CRD_FILES for kind in kinds) == 263
    assert kinds.count("StepAction") == 7


def test_every_example_passes_the_schema_and_reference_checks() -> None:
    failures = {}
    for path in corpus():
        refused, _ = problems_of(path)
        relative = path.relative_to(EXAMPLES).as_posix()
        expected = EXCEPTIONS.get(relative)
        if expected is not None:
            refused = [p for p in refused if expected[0] not in p]
        if refused:
            failures[relative] = refused
    assert failures == {}


@pytest.mark.parametrize("relative", sorted(EXCEPTIONS))
def test_each_listed_exception_is_still_reported_for_its_reason(relative: str) -> None:
    refused, _ = problems_of(EXAMPLES / relative)
    assert any(EXCEPTIONS[relative][0] in p for p in refused), refused


@pytest.mark.parametrize(
    ("relative", "rule"),
    [
        ("taskruns/unnamed-steps.yaml", "style/step-name-required"),
        ("taskruns/custom-env.yaml", "style/step-name-required"),
        ("taskruns/beta/workspace-in-sidecar.yaml", "style/sidecar-name-required"),
        ("pipelineruns/beta/isolated-workspaces.yaml", "style/field-name-case"),
        ("pipelineruns/pipelinerun-with-extra-params.yaml", "style/param-declared"),
    ],
)
def test_what_the_project_forbids_in_its_own_files_is_only_a_style_problem(
    relative: str, rule: str
) -> None:
    # These files were refused as schema errors before (issue 19).
    refused, styled = problems_of(EXAMPLES / relative)
    assert refused == []
    assert any(p.startswith(f"{rule}: ") for p in styled), styled
