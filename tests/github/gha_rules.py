"""The rules .github/workflows/ci.yml must keep, each a function from the workflow's text
to a list of problems (empty = the rule holds), so that a test can run it on the real
file and on a broken copy.

The rules restate issue 16 and the Tekton pipeline it mirrors; GitHub's documented
behaviour they lean on is cited where it is used.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github/workflows/ci.yml"

# The Tekton pipeline's five tasks after fetch-source, and their runAfter.
JOBS: dict[str, set[str]] = {
    "lint": set(),
    "unit-test": set(),
    "build-wheel": set(),
    "build-image": {"unit-test", "build-wheel"},
    "scan-image": {"build-image"},
}
GATE = "inputs.scan-gate-severity || vars.SCAN_GATE_SEVERITY || ''"
# `uses: owner/repo[/path]@<40 hex>  # vX.Y.Z`: a full commit SHA with its version.
PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+(?P<version>v\d+\.\d+\.\d+)\s*$"
)
ANY_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<ref>\S+)")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
UPLOAD_SARIF = "github/codeql-action/upload-sarif"


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), "the workflow is not a mapping"
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def jobs(text: str) -> dict[str, dict[str, Any]]:
    found = load(text).get("jobs") or {}
    assert isinstance(found, dict)
    return found


def needs(job: dict[str, Any]) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]).split("@")[0] for step in job.get("steps", []) if "uses" in step]


def five_jobs_in_order(text: str) -> list[str]:
    found = jobs(text)
    problems = []
    if set(found) != set(JOBS):
        problems.append(f"jobs are {sorted(found)}, expected {sorted(JOBS)}")
    for name, expected in JOBS.items():
        if name in found and needs(found[name]) != expected:
            problems.append(
                f"{name} needs {sorted(needs(found[name]))}, expected {sorted(expected)}"
            )
    return problems


def failure_rules(text: str) -> list[str]:
    """lint never fails the run; tests, wheel and image always can; the scan only
    with the opt-in gate (Tekton's scan-gate-severity)."""
    data = load(text)
    found = data.get("jobs") or {}
    problems = []
    lint = found.get("lint", {})
    if lint.get("continue-on-error") is not True:
        problems.append("lint must carry continue-on-error: true (report only)")
    for name in ("unit-test", "build-wheel", "build-image"):
        job = found.get(name, {})
        if "continue-on-error" in job:
            problems.append(f"{name} must fail the run: no continue-on-error on the job")
        for step in job.get("steps", []):
            if "continue-on-error" in step:
                problems.append(
                    f"{name}: step {step.get('name') or step.get('uses')} hides a failure"
                )
    scan = found.get("scan-image", {})
    if str(scan.get("continue-on-error", "")).replace(" ", "") != f"${{{{({GATE})==''}}}}".replace(
        " ", ""
    ):
        problems.append("scan-image must continue on error exactly when the gate is empty")
    if scan.get("env", {}).get("GATE_SEVERITY", "").replace(" ", "") != f"${{{{{GATE}}}}}".replace(
        " ", ""
    ):
        problems.append("scan-image's GATE_SEVERITY must come from the input, then the variable")
    gates = [s for s in scan.get("steps", []) if s.get("name") == "gate"]
    if not gates or gates[-1] is not scan["steps"][-1]:
        problems.append("scan-image must end with its gate step")
    elif gates[0].get("if") != "env.GATE_SEVERITY != ''" or "exit 1" not in gates[0].get("run", ""):
        problems.append("the gate step must run only with a gate set, and fail on findings")
    dispatch = (data.get("on") or {}).get("workflow_dispatch") or {}
    gate_input = (dispatch.get("inputs") or {}).get("scan-gate-severity", {})
    if gate_input.get("default") != "":
        problems.append("the scan-gate-severity input must default to empty (report only)")
    return problems


def pinned(text: str) -> list[str]:
    """Every action is a full commit SHA with its version in a comment; one action, one
    pin; every image by digest. GitHub: "Pin actions to a full length commit SHA"
    (docs: security hardening for GitHub Actions)."""
    problems = []
    seen: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        ref = ANY_USES.match(line)
        if not ref or ref["ref"].startswith("./"):
            continue
        pin = PINNED_USES.match(line)
        if not pin:
            problems.append(f"line {number}: {ref['ref']} is not pinned to a SHA with '# vX.Y.Z'")
            continue
        action = pin["action"]
        if seen.setdefault(action, (pin["sha"], pin["version"])) != (pin["sha"], pin["version"]):
            problems.append(f"line {number}: {action} pinned twice differently")
    if not seen:
        problems.append("no pinned action found")
    for name in ("HADOLINT_IMAGE", "TRIVY_IMAGE"):
        if not DIGEST.search(str(load(text).get("env", {}).get(name, ""))):
            problems.append(f"{name} is not pinned by digest")
    return problems


def needed_permissions(job: dict[str, Any]) -> dict[str, str]:
    """What a job's steps need of the GITHUB_TOKEN. checkout reads contents; upload-sarif
    writes security-events and, on private repositories, reads actions and contents
    (GitHub docs: "Uploading a SARIF file to GitHub")."""
    steps = uses(job)
    need = {}
    if "actions/checkout" in steps:
        need["contents"] = "read"
    if UPLOAD_SARIF in steps:
        need.update({"contents": "read", "security-events": "write", "actions": "read"})
    return need


def least_privilege(text: str) -> list[str]:
    data = load(text)
    problems = []
    if data.get("permissions") != {}:
        problems.append("the workflow's default permissions must be {} (none)")
    for name, job in (data.get("jobs") or {}).items():
        granted = job.get("permissions")
        if granted != needed_permissions(job):
            problems.append(
                f"{name}: permissions {granted}, its steps need {needed_permissions(job)}"
            )
    return problems


def concurrency_group(text: str) -> list[str]:
    group = str((load(text).get("concurrency") or {}).get("group", ""))
    if "github.ref" not in group or "github.workflow" not in group:
        return ["a concurrency group per workflow and ref is missing"]
    return []


def triggers(text: str) -> list[str]:
    on = load(text).get("on") or {}
    problems = []
    if set(on) != {"push", "workflow_dispatch"}:
        problems.append(f"triggers are {sorted(on)}, expected push and workflow_dispatch")
    push = on.get("push") or {}
    if push.get("branches") != ["main"] or set(push) != {"branches"}:
        problems.append("push must trigger on main only")
    return problems


def artifacts_flow(text: str) -> list[str]:
    """The wheel goes to the image job, the image (a tarball, never pushed) to the scan."""
    found = jobs(text)
    problems = []
    flows = (("build-wheel", "build-image", "wheel"), ("build-image", "scan-image", "image"))
    for producer, consumer, artifact in flows:
        made = [
            s
            for s in found.get(producer, {}).get("steps", [])
            if str(s.get("uses", "")).startswith("actions/upload-artifact@")
        ]
        taken = [
            s
            for s in found.get(consumer, {}).get("steps", [])
            if str(s.get("uses", "")).startswith("actions/download-artifact@")
        ]
        if artifact not in {s.get("with", {}).get("name") for s in made}:
            problems.append(f"{producer} does not upload the {artifact} artifact")
        if artifact not in {s.get("with", {}).get("name") for s in taken}:
            problems.append(f"{consumer} does not download the {artifact} artifact")
    scripts = "\n".join(
        str(s.get("run", "")) for job in found.values() for s in job.get("steps", [])
    )
    if re.search(r"docker\s+(image\s+)?push|--push\b", scripts):
        problems.append("the image must not be pushed")
    if "docker save --output image/image.tar" not in scripts:
        problems.append("the image must be kept as a tarball (docker save)")
    return problems


def caches(text: str) -> list[str]:
    found = jobs(text)
    problems = []
    for name in ("lint", "unit-test", "build-wheel"):
        setups = [
            s
            for s in found.get(name, {}).get("steps", [])
            if str(s.get("uses", "")).startswith("actions/setup-python@")
        ]
        if not setups or setups[0].get("with", {}).get("cache") != "pip":
            problems.append(f"{name}: pip is not cached")
            continue
        # The cache is keyed on the job's own tools lock (each job installs only its own).
        lock = found[name].get("env", {}).get("CI_TOOLS_LOCK")
        keys = str(setups[0]["with"].get("cache-dependency-path", "")).split()
        if not lock or lock not in keys:
            problems.append(f"{name}: the pip cache is not keyed on its lock {lock}")
    trivy_cache = [
        s
        for s in found.get("scan-image", {}).get("steps", [])
        if str(s.get("uses", "")).startswith("actions/cache@")
        and s.get("with", {}).get("path") == ".trivy-cache"
    ]
    if not trivy_cache:
        problems.append("scan-image: the Trivy database is not cached")
    return problems


RULES = {
    rule.__name__: rule
    for rule in (
        five_jobs_in_order,
        failure_rules,
        pinned,
        least_privilege,
        concurrency_group,
        triggers,
        artifacts_flow,
        caches,
    )
}
