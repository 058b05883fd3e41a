"""Run one Task's steps locally: params, workspaces and results mapped to paths."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localrun import process, standins, variables
from localrun.logbook import Logbook
from localrun.variables import Value

# The machine's network settings a pod would get from its cluster (proxy, CA
# bundle, package index): passed through to every step, nothing else of the host.
PASSED_THROUGH = ("PIP_", "SSL_CERT_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "STORAGE_DRIVER")


@dataclass
class Outcome:
    """What a TaskRun ends with. ``status`` uses the values of ``$(tasks.<t>.status)``;
    ``reason`` is for people, the two flags say what the runner acts on."""

    status: str  # Succeeded | Failed | None
    reason: str
    results: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    tool_unavailable: bool = False  # NOT RUN: a step's tool is not on this machine
    failure_ignored: bool = False  # Failed under onError: continue: does not stop the run


@dataclass(frozen=True)
class Machine:
    """How steps run here: the PATH of the tools, where the repo and scripts are."""

    tool_path: str
    source_repo: Path
    build_script: Path


def task_params(spec: dict[str, Any], given: dict[str, Value]) -> dict[str, Value]:
    """Defaults overlaid with the passed values; a missing required param is an error."""
    values: dict[str, Value] = {}
    for param in spec.get("params") or []:
        name = param["name"]
        if name in given:
            values[name] = given[name]
        elif "default" in param:
            default = param["default"]
            values[name] = [str(v) for v in default] if isinstance(default, list) else str(default)
        else:
            raise ValueError(f"param '{name}' has no value and no default")
        is_array = param.get("type") == "array"
        if is_array != isinstance(values[name], list):
            raise ValueError(f"param '{name}' must be {'an array' if is_array else 'a string'}")
    return values


def merged_step(template: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """stepTemplate under the step: the step wins, env merges by name."""
    merged = {**template, **step}
    env = {e["name"]: e for e in template.get("env") or []}
    env.update({e["name"]: e for e in step.get("env") or []})
    merged["env"] = list(env.values())
    return merged


def step_environment(step: dict[str, Any], machine: Machine, scratch: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith(PASSED_THROUGH) or k.lower().endswith("_proxy")
    }
    env.update(
        {"PATH": machine.tool_path, "LANG": "C.UTF-8", "TMPDIR": str(scratch), "HOME": str(scratch)}
    )
    for item in step.get("env") or []:
        if "value" not in item:
            raise ValueError(f"env '{item.get('name')}' uses valueFrom, which has no local meaning")
        env[item["name"]] = str(item["value"])
    return env


def fingerprint(folder: Path) -> frozenset[tuple[str, int, int]]:
    """Every file under ``folder`` with its size and mtime: enough to see a write."""
    found = set()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            found.add((str(path.relative_to(folder)), stat.st_size, stat.st_mtime_ns))
    return frozenset(found)


def read_only_folders(spec: dict[str, Any], workspaces: dict[str, Path | None]) -> dict[str, Path]:
    """The bound workspaces the Task declares readOnly (a cluster mounts them read only)."""
    return {
        w["name"]: path
        for w in spec.get("workspaces") or []
        if w.get("readOnly") and (path := workspaces.get(w["name"])) is not None
    }


def run_task(
    name: str,
    spec: dict[str, Any],
    params: dict[str, Value],
    workspaces: dict[str, Path | None],
    run_dir: Path,
    machine: Machine,
    log: Logbook,
    timeout: float | None,
) -> Outcome:
    """Run the Task's steps in order; stop at the first failing step (unless onError: continue)."""
    started = time.monotonic()
    results_dir = run_dir / name / "results"
    scratch = run_dir / name / "tmp"
    for folder in (results_dir, scratch, run_dir / name / "scripts"):
        folder.mkdir(parents=True, exist_ok=True)
    try:
        values = _values(name, spec, params, workspaces, results_dir)
    except (ValueError, variables.UnresolvedReferenceError) as error:
        return Outcome(
            "Failed", f"TaskRunValidationFailed: {error}", seconds=time.monotonic() - started
        )
    # Locally nothing stops a write into a read-only workspace: detect it instead.
    read_only = read_only_folders(spec, workspaces)
    before = {name: fingerprint(path) for name, path in read_only.items()}
    template = spec.get("stepTemplate") or {}
    status, reason = "Succeeded", "Succeeded"
    for index, raw_step in enumerate(spec.get("steps") or []):
        step = variables.in_tree(merged_step(template, raw_step), values)
        step_name = str(step.get("name") or f"step-{index}")

        def emit(text: str, step_name: str = step_name) -> None:
            log.line(name, step_name, text)

        remaining = None if timeout is None else max(1.0, timeout - (time.monotonic() - started))
        tool = standins.missing_tool(str(step.get("image", "")), machine.tool_path)
        if tool:
            emit(f"NOT RUN: '{tool}' is not installed on this machine (image {step.get('image')});")
            emit("no result of this Task is produced or invented.")
            return Outcome(
                "None",
                f"ToolUnavailable: {tool}",
                seconds=time.monotonic() - started,
                tool_unavailable=True,
            )
        code = _run_step(step, name, run_dir, machine, scratch, emit, remaining)
        if code == process.TIMED_OUT:
            emit("step timed out")
            status, reason = "Failed", "TaskRunTimeout"
            break
        if code != 0:
            emit(f"step exited with status {code}")
            if step.get("onError") == "continue":
                continue
            status, reason = "Failed", f"step '{step_name}' exited with {code}"
            break
    for workspace, path in read_only.items():
        if status == "Succeeded" and fingerprint(path) != before[workspace]:
            log.line(name, "", f"wrote into its read-only workspace '{workspace}' ({path})")
            status, reason = "Failed", f"wrote into read-only workspace '{workspace}'"
    results = {
        r["name"]: (results_dir / r["name"]).read_text(encoding="utf-8")
        for r in spec.get("results") or []
        if (results_dir / r["name"]).is_file()
    }
    return Outcome(status, reason, results, time.monotonic() - started)


def _values(
    name: str,
    spec: dict[str, Any],
    params: dict[str, Value],
    workspaces: dict[str, Path | None],
    results_dir: Path,
) -> dict[str, Value]:
    values: dict[str, Value] = {f"params.{k}": v for k, v in task_params(spec, params).items()}
    for declared in spec.get("workspaces") or []:
        path = workspaces.get(declared["name"])
        if path is None and not declared.get("optional"):
            raise ValueError(f"workspace '{declared['name']}' is not bound")
        values[f"workspaces.{declared['name']}.path"] = str(path or "")
        values[f"workspaces.{declared['name']}.bound"] = "true" if path else "false"
    for result in spec.get("results") or []:
        values[f"results.{result['name']}.path"] = str(results_dir / result["name"])
    values["context.taskRun.name"] = name
    return values


def _run_step(
    step: dict[str, Any],
    task: str,
    run_dir: Path,
    machine: Machine,
    scratch: Path,
    emit: Callable[[str], None],
    timeout: float | None,
) -> int:
    env = step_environment(step, machine, scratch)
    cwd = Path(step.get("workingDir") or scratch)
    if not cwd.is_dir():
        emit(f"workingDir {cwd} does not exist")
        return 1
    if standins.repository(str(step.get("image", ""))) == standins.KANIKO:
        try:
            return standins.kaniko_with_buildah(
                [str(a) for a in step.get("args") or []],
                build_script=machine.build_script,
                cwd=cwd,
                env={**env, "HOME": os.environ.get("HOME", "/root")},  # buildah's storage is root's
                emit=emit,
                timeout=timeout,
            )
        except (ValueError, KeyError) as error:
            emit(f"cannot translate the Kaniko step: {error}")
            return 1
    if "script" in step:
        script = run_dir / task / "scripts" / str(step.get("name", "step"))
        body = str(step["script"])
        process.write_script(script, body if body.startswith("#!") else f"#!/bin/sh\n{body}")
        argv = [str(script), *[str(a) for a in step.get("args") or []]]
    elif step.get("command"):
        argv = [*map(str, step["command"]), *map(str, step.get("args") or [])]
    else:
        emit(
            f"image {step.get('image')} has no local entrypoint; give the step a script or command"
        )
        return 1
    return process.run(argv, cwd=cwd, env=env, emit=emit, timeout=timeout)
