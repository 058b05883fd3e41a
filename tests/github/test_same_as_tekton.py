"""The workflow and the Tekton pipeline run the same commands, so they cannot drift apart.

Both sides are read from their YAML: the Tekton tasks' step scripts (with step env
resolved to the param defaults) and the workflow's run: blocks. A broken copy of either
side shows each comparison can fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import gha_commands as cmd
import pytest

# Jobs that run the repository's Python tools.
PYTHON_JOBS = ("lint", "unit-test", "build-wheel")
TOOL_JOBS = ("lint", "unit-test", "build-wheel", "build-image", "scan-image")
# The build args through which the Dockerfile gets the wheel, on both sides.
WHEEL_BUILD_ARGS = {"WHEEL", "WHEEL_SHA256"}
# Each Python job's own tools lock: the Tekton task's CI_TOOLS_LOCK default, the
# pipeline param passed to it, and the workflow job's env CI_TOOLS_LOCK.
TOOLS_LOCKS = {
    "lint": ("lint-tools-lock", "requirements/ci-lint.lock"),
    "unit-test": ("test-tools-lock", "requirements/ci-test.lock"),
    "build-wheel": ("build-tools-lock", "requirements/ci-build.lock"),
}
CI_LOCK = re.compile(r"^requirements/ci-[\w-]+\.lock$")
LOCKED_INSTALL = {"--no-deps", "--require-hashes", "--only-binary=:all:"}
# Options that may differ, and why. Anything else that differs fails the test.
MAY_DIFFER: dict[tuple[str, str | None], dict[str, str]] = {
    ("build", None): {
        "--no-isolation": "Tekton passes it through ${isolation} when the app has a build lock",
    },
    ("trivy", "image"): {
        "--download-db-only": "Tekton fetches the database in a step of its own",
        "--db-repository": "Tekton fetches the database in a step of its own",
        "--skip-db-update": "the workflow's database comes from actions/cache and may update",
        "--skip-java-db-update": "the workflow's database comes from actions/cache and may update",
        "--offline-scan": "the workflow's database comes from actions/cache and may update",
    },
}
# Pipeline param -> workflow env: the pipeline's defaults are the workflow's values.
PARAMS = {
    "app-path": "APP_PATH",
    "cov-package": "COV_PACKAGE",
    "pytest-args": "PYTEST_ARGS",
    "docker-context": "DOCKER_CONTEXT",
    "dockerfile": "DOCKERFILE",
    "image": "IMAGE",
}


def workflow_text() -> str:
    return cmd.WORKFLOW.read_text(encoding="utf-8")


def command_drift(tasks: dict[str, Any], data: dict[str, Any]) -> list[str]:
    problems = []
    for job in TOOL_JOBS:
        tekton = cmd.by_command(cmd.tekton_invocations(tasks[job]))
        github = cmd.by_command(cmd.job_invocations(data, job))
        if not tekton:
            problems.append(f"no tool found in the Tekton task {job}")
        for key in sorted(set(tekton) | set(github), key=str):
            if key not in tekton or key not in github:
                problems.append(f"{job}: {key} runs on one side only")
                continue
            allowed = set(MAY_DIFFER.get(key, {}))
            differ = (tekton[key] ^ github[key]) - allowed
            if differ:
                problems.append(f"{job}: {key} options differ: {sorted(differ)}")
    return problems


def python_and_images(tasks: dict[str, Any], data: dict[str, Any]) -> list[str]:
    env = data["env"]
    problems = []
    for job in PYTHON_JOBS:
        image = cmd.param_defaults(tasks[job]).get("PYTHON_IMAGE", "")
        version = re.search(r"/python:(\d+\.\d+\.\d+)", image)
        if not version or version[1] != env["PYTHON_VERSION"]:
            problems.append(
                f"{job}: Tekton's PYTHON_IMAGE {image} is not Python {env['PYTHON_VERSION']}"
            )
    images = {str(v) for task in tasks.values() for v in cmd.param_defaults(task).values()}
    for name in ("HADOLINT_IMAGE", "TRIVY_IMAGE"):
        if env[name] not in images:
            problems.append(f"{name} {env[name]} is not a Tekton task's image")
    return problems


def pipeline_shape(pipeline: dict[str, Any], data: dict[str, Any]) -> list[str]:
    spec = pipeline["spec"]
    tasks = {t["name"]: t for t in spec["tasks"]}
    defaults = {p["name"]: p.get("default") for p in spec["params"]}
    problems = []
    for name, job in data["jobs"].items():
        task = tasks.get(name)
        if task is None:
            problems.append(f"job {name} is not a Tekton pipeline task")
            continue
        run_after = set(task.get("runAfter", [])) - {"fetch-source"}
        job_needs = (
            {job["needs"]} if isinstance(job.get("needs"), str) else set(job.get("needs", []))
        )
        if run_after != job_needs:
            problems.append(
                f"{name}: needs {sorted(job_needs)}, Tekton runAfter {sorted(run_after)}"
            )
        minutes = int(str(task.get("timeout", "0m")).removesuffix("m"))
        if job.get("timeout-minutes") != minutes:
            problems.append(f"{name}: timeout {job.get('timeout-minutes')} min, Tekton {minutes}m")
    for param, name in PARAMS.items():
        if defaults.get(param) != data["env"].get(name):
            problems.append(
                f"{name}={data['env'].get(name)!r}, pipeline {param}={defaults.get(param)!r}"
            )
    gate = data["on"]["workflow_dispatch"]["inputs"]["scan-gate-severity"]["default"]
    if defaults.get("scan-gate-severity") != gate:
        problems.append("the scan gate's default differs")
    return problems


def image_from_wheel(
    tasks: dict[str, Any], pipeline: dict[str, Any], data: dict[str, Any]
) -> list[str]:
    """Both build the image from build-wheel's wheel the same way: its name and sha256
    come from build-wheel's results, a step copies it into the context's dist/, the
    build gets WHEEL and WHEEL_SHA256 as build args (the checked tool calls, such as
    wheel-in-image.py, are compared in command_drift)."""
    problems = []
    task = tasks["build-image"]
    if (kaniko := cmd.kaniko_build_args(task)) != WHEEL_BUILD_ARGS:
        problems.append(f"Tekton's build passes build args {sorted(kaniko)}")
    if (docker := cmd.docker_build_args(data, "build-image")) != WHEEL_BUILD_ARGS:
        problems.append(f"the workflow's docker build passes build args {sorted(docker)}")
    if not cmd.copies_into_dist(cmd.tekton_scripts(task)):
        problems.append("Tekton's build-image does not copy the wheel into the context's dist/")
    if not cmd.copies_into_dist(cmd.job_scripts(data, "build-image")):
        problems.append("the workflow's build-image does not copy the wheel into dist/")
    (step,) = [t for t in pipeline["spec"]["tasks"] if t["name"] == "build-image"]
    params = {p["name"]: p["value"] for p in step["params"]}
    job = data["jobs"]["build-image"]
    outputs = data["jobs"]["build-wheel"].get("outputs", {})
    for param, output in (("WHEEL", "wheel"), ("WHEEL_SHA256", "wheel-sha256")):
        if params.get(param) != f"$(tasks.build-wheel.results.{param})":
            problems.append(f"Tekton's build-image {param} is not build-wheel's result")
        if job.get("env", {}).get(param) != f"${{{{ needs.build-wheel.outputs.{output} }}}}":
            problems.append(f"the workflow's build-image {param} is not build-wheel's output")
        if output not in outputs:
            problems.append(f"the workflow's build-wheel has no output {output}")
    return problems


def lock_drift(installs: set[cmd.LockInstall], where: str, lock: str) -> list[str]:
    """WHERE installs LOCK hash-locked, and no other CI task's lock."""
    problems = []
    if not any(i.requirements == lock and i.flags >= LOCKED_INSTALL for i in installs):
        problems.append(f"{where} does not install {lock} with {sorted(LOCKED_INSTALL)}")
    others = sorted({i.requirements for i in installs if CI_LOCK.match(i.requirements)} - {lock})
    if others:
        problems.append(f"{where} also installs {others}: another task's tools")
    return problems


def tools_locks(tasks: dict[str, Any], pipeline: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """Each Python task's lock is the same file on every side: the task's default, the
    pipeline param it is given, and the workflow job's own env (no workflow-wide one)."""
    spec = pipeline["spec"]
    defaults = {p["name"]: p.get("default") for p in spec["params"]}
    passed = {
        t["name"]: {p["name"]: p["value"] for p in t.get("params", [])} for t in spec["tasks"]
    }
    problems = []
    if "CI_TOOLS_LOCK" in data.get("env", {}):
        problems.append("the workflow sets one CI_TOOLS_LOCK for every job")
    for job, (param, lock) in TOOLS_LOCKS.items():
        sides = {
            "the Tekton task's default": cmd.param_defaults(tasks[job]).get("CI_TOOLS_LOCK"),
            f"the pipeline's {param}": defaults.get(param),
            "the workflow job's env": data["jobs"][job].get("env", {}).get("CI_TOOLS_LOCK"),
        }
        problems += [
            f"{job}: {side} is {v!r}, not {lock}" for side, v in sides.items() if v != lock
        ]
        if passed.get(job, {}).get("CI_TOOLS_LOCK") != f"$(params.{param})":
            problems.append(f"{job}: the pipeline does not pass {param} as CI_TOOLS_LOCK")
    return problems


def test_the_same_tools_run_with_the_same_options() -> None:
    assert command_drift(cmd.tekton_tasks(), cmd.workflow()) == []


def test_the_same_python_and_the_same_images() -> None:
    assert python_and_images(cmd.tekton_tasks(), cmd.workflow()) == []


def test_the_same_order_timeouts_and_params() -> None:
    assert pipeline_shape(cmd.tekton_pipeline(), cmd.workflow()) == []


def test_both_build_the_image_from_the_wheel_the_same_way() -> None:
    assert image_from_wheel(cmd.tekton_tasks(), cmd.tekton_pipeline(), cmd.workflow()) == []


@pytest.mark.parametrize("job", PYTHON_JOBS)
def test_the_workflow_job_installs_its_own_lock_only(job: str) -> None:
    installs = cmd.job_lock_installs(cmd.workflow(), job)
    assert lock_drift(installs, f"job {job}", TOOLS_LOCKS[job][1]) == []


@pytest.mark.parametrize("task", PYTHON_JOBS)
def test_the_tekton_task_installs_its_own_lock_only(task: str) -> None:
    installs = cmd.tekton_lock_installs(cmd.tekton_tasks()[task])
    assert lock_drift(installs, f"task {task}", TOOLS_LOCKS[task][1]) == []


def test_each_task_gets_the_same_lock_on_both_sides() -> None:
    assert tools_locks(cmd.tekton_tasks(), cmd.tekton_pipeline(), cmd.workflow()) == []


# --- broken copies -----------------------------------------------------------------

WORKFLOW_BREAKS = [
    ("bandit may fail", "bandit --quiet --exit-zero", "bandit --quiet"),
    ("ruff writes JSON", "--output-format sarif", "--output-format json"),
    ("twine not strict", 'twine check --strict "dist/${wheel}"', 'twine check "dist/${wheel}"'),
    ("no JUnit report", '--junitxml="${reports}/junit.xml" ', ""),
    (
        "trivy gets a severity filter",
        "trivy image --quiet --input",
        "trivy image --quiet --severity HIGH --input",
    ),
    ("check-wheel-contents dropped", '          check-wheel-contents "dist/${wheel}"\n', ""),
    (
        "the image is not checked for the wheel",
        "python3 scripts/wheel-in-image.py --result image/wheel-sha256",
        "echo skipped image/wheel-sha256",
    ),
]

IMAGE_BREAKS = [
    (
        "the build does not pin the wheel's bytes",
        ' --build-arg "WHEEL_SHA256=${WHEEL_SHA256}"',
        "",
    ),
    ("the context has no wheel", '          cp "wheel/${WHEEL}" "${DOCKER_CONTEXT}/dist/"\n', ""),
    (
        "the wheel name is not build-wheel's",
        "WHEEL: ${{ needs.build-wheel.outputs.wheel }}",
        "WHEEL: powerwatch_gateway-0.1.0-py3-none-any.whl",
    ),
    (
        "build-wheel reports no sha256",
        "      wheel-sha256: ${{ steps.wheel.outputs.wheel-sha256 }}\n",
        "",
    ),
]


@pytest.mark.parametrize(("why", "old", "new"), IMAGE_BREAKS, ids=[b[0] for b in IMAGE_BREAKS])
def test_a_broken_workflow_copy_builds_the_image_otherwise(why: str, old: str, new: str) -> None:
    text = workflow_text()
    assert old in text
    broken = cmd.workflow(text.replace(old, new, 1))
    assert image_from_wheel(cmd.tekton_tasks(), cmd.tekton_pipeline(), broken), why


def test_a_broken_tekton_copy_builds_the_image_otherwise(tmp_path: Path) -> None:
    copy = tmp_path / "tekton"
    shutil.copytree(cmd.TEKTON, copy, ignore=shutil.ignore_patterns("runner", "checks"))
    task = copy / "tasks/build-image/build-image.yaml"
    text = task.read_text(encoding="utf-8")
    assert "- --build-arg=WHEEL_SHA256=$(params.WHEEL_SHA256)\n" in text
    task.write_text(
        text.replace("- --build-arg=WHEEL_SHA256=$(params.WHEEL_SHA256)\n", ""), encoding="utf-8"
    )
    assert image_from_wheel(cmd.tekton_tasks(copy), cmd.tekton_pipeline(copy), cmd.workflow())


@pytest.mark.parametrize(
    ("why", "old", "new"), WORKFLOW_BREAKS, ids=[b[0] for b in WORKFLOW_BREAKS]
)
def test_a_broken_workflow_copy_drifts(why: str, old: str, new: str) -> None:
    text = workflow_text()
    assert old in text
    assert command_drift(cmd.tekton_tasks(), cmd.workflow(text.replace(old, new, 1))), why


@pytest.mark.parametrize(
    ("why", "old", "new"),
    [
        ("another Python", 'PYTHON_VERSION: "3.11.7"', 'PYTHON_VERSION: "3.12.1"'),
        ("another Trivy", "aquasec/trivy:0.69.3@sha256:bcc3", "aquasec/trivy:0.69.3@sha256:0cc3"),
    ],
)
def test_a_broken_copy_has_another_python_or_image(why: str, old: str, new: str) -> None:
    text = workflow_text()
    assert old in text
    assert python_and_images(cmd.tekton_tasks(), cmd.workflow(text.replace(old, new, 1))), why


@pytest.mark.parametrize(
    ("why", "old", "new"),
    [
        ("a shorter timeout", "    timeout-minutes: 30\n", "    timeout-minutes: 10\n"),
        ("scan before the image", "needs: [build-image]", "needs: [build-wheel]"),
        ("another app", "APP_PATH: apps/gateway", "APP_PATH: api"),
    ],
)
def test_a_broken_copy_has_another_shape(why: str, old: str, new: str) -> None:
    text = workflow_text()
    assert old in text
    assert pipeline_shape(cmd.tekton_pipeline(), cmd.workflow(text.replace(old, new, 1))), why


def test_a_broken_workflow_copy_installs_unlocked_tools() -> None:
    text = workflow_text().replace('--only-binary=:all: -r "${CI_TOOLS_LOCK}"', "ruff bandit")
    lock = TOOLS_LOCKS["lint"][1]
    assert lock_drift(cmd.job_lock_installs(cmd.workflow(text), "lint"), "lint", lock)


def test_a_broken_workflow_copy_gives_the_tests_the_lint_tools() -> None:
    old = "CI_TOOLS_LOCK: requirements/ci-test.lock"
    assert old in workflow_text()
    broken = cmd.workflow(workflow_text().replace(old, "CI_TOOLS_LOCK: requirements/ci-lint.lock"))
    lock = TOOLS_LOCKS["unit-test"][1]
    assert lock_drift(cmd.job_lock_installs(broken, "unit-test"), "unit-test", lock)
    assert tools_locks(cmd.tekton_tasks(), cmd.tekton_pipeline(), broken)


def test_a_broken_workflow_copy_installs_a_second_tasks_lock() -> None:
    old = '-r "${CI_TOOLS_LOCK}"\n          echo "${venv}/bin" >> "${GITHUB_PATH}"\n'
    text = workflow_text()
    assert text.count(old) == 1  # unit-test's install step
    extra = (
        '"${pip[@]}" --no-deps --require-hashes --only-binary=:all: -r requirements/ci-build.lock'
    )
    broken = cmd.workflow(text.replace(old, old.replace("echo", f"{extra}\n          echo", 1)))
    problems = lock_drift(
        cmd.job_lock_installs(broken, "unit-test"), "unit-test", TOOLS_LOCKS["unit-test"][1]
    )
    assert problems == [
        "unit-test also installs ['requirements/ci-build.lock']: another task's tools"
    ]


def test_a_broken_workflow_copy_with_one_lock_for_every_job() -> None:
    old = "  IMAGE: powerwatch/gateway:ci\n"
    assert old in workflow_text()
    broken = workflow_text().replace(old, old + "  CI_TOOLS_LOCK: requirements/ci-test.lock\n")
    assert tools_locks(cmd.tekton_tasks(), cmd.tekton_pipeline(), cmd.workflow(broken)) == [
        "the workflow sets one CI_TOOLS_LOCK for every job"
    ]


def test_a_broken_tekton_copy_passes_unit_test_the_lint_lock(tmp_path: Path) -> None:
    copy = tmp_path / "tekton"
    shutil.copytree(cmd.TEKTON, copy, ignore=shutil.ignore_patterns("runner", "checks"))
    pipeline = copy / "pipeline/python-ci.yaml"
    text = pipeline.read_text(encoding="utf-8")
    assert text.count("value: $(params.test-tools-lock)") == 1
    pipeline.write_text(
        text.replace("value: $(params.test-tools-lock)", "value: $(params.lint-tools-lock)"),
        encoding="utf-8",
    )
    problems = tools_locks(cmd.tekton_tasks(copy), cmd.tekton_pipeline(copy), cmd.workflow())
    assert problems == ["unit-test: the pipeline does not pass test-tools-lock as CI_TOOLS_LOCK"]


def test_a_broken_tekton_copy_drifts(tmp_path: Path) -> None:
    """The Tekton side is read too: a task that loses an option is noticed."""
    copy = tmp_path / "tekton"
    shutil.copytree(cmd.TEKTON, copy, ignore=shutil.ignore_patterns("runner", "checks"))
    task = copy / "tasks/build-wheel/build-wheel.yaml"
    text = task.read_text(encoding="utf-8")
    assert 'twine" check --strict' in text
    task.write_text(text.replace('twine" check --strict', 'twine" check'), encoding="utf-8")
    assert command_drift(cmd.tekton_tasks(copy), cmd.workflow())
    assert command_drift(cmd.tekton_tasks(cmd.TEKTON), cmd.workflow()) == []


def test_a_tekton_task_with_the_lock_install_passes_the_lock_check() -> None:
    """The Tekton-side lock check accepts the form the tasks use (a task param
    CI_TOOLS_LOCK reaching the script through env), and refuses a version pin."""
    lock = TOOLS_LOCKS["lint"][1]
    script = (
        '#!/bin/sh\nset -eu\npython -m pip --python "${tools}/bin/python" install --quiet \\\n'
        '  --no-deps --require-hashes --only-binary=:all: -r "${CI_TOOLS_LOCK}"\n'
    )
    task: dict[str, Any] = {
        "spec": {
            "params": [{"name": "CI_TOOLS_LOCK", "default": lock}],
            "steps": [
                {
                    "name": "tools",
                    "env": [{"name": "CI_TOOLS_LOCK", "value": "$(params.CI_TOOLS_LOCK)"}],
                    "script": script,
                }
            ],
        }
    }
    assert lock_drift(cmd.tekton_lock_installs(task), "task", lock) == []
    task["spec"]["steps"][0]["script"] = script.replace('-r "${CI_TOOLS_LOCK}"', '"ruff==0.17.6"')
    assert lock_drift(cmd.tekton_lock_installs(task), "task", lock)
