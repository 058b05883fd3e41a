"""The Tekton CI pipeline (tekton/): triggers, tasks in DAG order, what fails the run."""

from __future__ import annotations

from pathlib import Path

import _style
from diagrams import Cluster, Edge
from diagrams.k8s.storage import PVC
from diagrams.onprem.cd import Tekton
from diagrams.onprem.container import Docker
from diagrams.onprem.security import Trivy
from diagrams.onprem.vcs import Git, Github
from diagrams.programming.language import Python

NAME = "ci_pipeline"

FLOW = {"color": _style.BLUE["color"], "penwidth": "2"}  # labels stay black here
GATE = _style.RED
REPORT = _style.GREY_DASHED


def draw(out_dir: Path) -> Path:
    """Render the view into out_dir and return the PNG's path."""
    target = out_dir / NAME
    with _style.canvas(
        "Powerwatch CI: Tekton pipeline (red = fails the run, grey = report only)",
        target,
        fontsize="20",
        nodesep="0.45",
        ranksep="0.9",
    ):
        github = Github("push to main\n(webhook)")
        with Cluster("Tekton Triggers"):
            listener = Tekton(
                "EventListener\ngithub interceptor:\nsecret + push\nCEL: refs/heads/main"
            )
            template = Tekton("TriggerBinding +\nTriggerTemplate\n-> PipelineRun")
        manual = Tekton("tkn pipeline start\n(by hand)")

        with Cluster("Pipeline (one PipelineRun)"):
            fetch = Git("fetch-source\ngit-clone (tektoncd-catalog,\ngit resolver, by commit)")
            with Cluster("in parallel"):
                lint = Python("lint\nruff, bandit, hadolint\nSARIF/JSON reports")
                test = Python("unit-test\npytest, JUnit,\ncoverage")
                wheel = Python("build-wheel\npython -m build\n+ wheel check")
            image = Docker("build-image\nKaniko --no-push\n--tar-path, digest")
            scan = Trivy("scan-image\nTrivy on the tar\ncounts + CycloneDX SBOM")
            gate = Trivy("scan-gate\nonly when\nscan-gate-severity is set")
            with Cluster("finally"):
                summary = Tekton("summary\nstatus + results\nof every task, reports")

        workspaces = PVC(
            "shared-data: one PVC per run\n(volumeClaimTemplate; caches\nas sub-paths)"
        )

        github >> Edge(label="HTTPS + X-Hub-Signature-256", **FLOW) >> listener
        listener >> Edge(**FLOW) >> template >> Edge(**FLOW) >> fetch
        manual >> Edge(**FLOW) >> fetch

        fetch >> Edge(label="onError: continue:\nnever fails the run", **REPORT) >> lint
        fetch >> Edge(label="failing test fails", **GATE) >> test
        fetch >> Edge(label="build/check error fails", **GATE) >> wheel
        test >> Edge(label="after test + wheel", **GATE) >> image
        wheel >> Edge(**GATE) >> image
        image >> Edge(label="onError: continue", **REPORT) >> scan
        scan >> Edge(label="optional: fixable\nCRITICAL fails", **GATE) >> gate
        scan >> Edge(**REPORT) >> summary
        lint >> Edge(style="dotted", color="#7B8894") >> summary

        manual >> Edge(label="PipelineRun binds", style="dotted", color="#7B8894") >> workspaces
    return target.with_suffix(".png")


if __name__ == "__main__":
    print(draw(Path(__file__).resolve().parent))
