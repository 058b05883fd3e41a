"""The tool invocations of the Tekton tasks' scripts and of the workflow's run: blocks,
reduced to what both must share: the tool, its subcommand and its option names.

Values are left out on purpose (paths differ: workspaces there, the checkout here);
what a tool reports, and whether it fails, is decided by its options.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
TEKTON = REPO / "tekton"
WORKFLOW = REPO / ".github/workflows/ci.yml"

# tool -> its subcommands (None: the tool has none)
TOOLS: dict[str, set[str] | None] = {
    "ruff": {"check"},
    "bandit": None,
    "hadolint": None,
    "pytest": None,
    "build": None,
    "twine": {"check"},
    "check-wheel-contents": None,
    "trivy": {"image", "convert"},
    # the check that an image holds the wheel build-wheel made (scripts/wheel-in-image.py)
    "wheel-in-image.py": None,
}
RUN_AS_MODULE = {"pytest", "build"}  # invoked as `python -m <tool>`
SHELL_BREAK = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"}
# Option values that decide what a tool writes: kept, unlike paths.
VALUES = {"sarif", "json", "table", "template", "concise", "cyclonedx", "term", "no:cacheprovider"}
PARAM = re.compile(r"^\$\(params\.([\w-]+)\)$")


@dataclass(frozen=True)
class Invocation:
    tool: str
    subcommand: str | None
    options: frozenset[str]


@dataclass(frozen=True)
class LockInstall:
    """A pip install of a requirements file: its flags and the file, resolved."""

    flags: frozenset[str]
    requirements: str


def logical_lines(script: str) -> list[str]:
    """Backslash-continued lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n", " ", script)
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an open quote: a multi-line template argument
        return line.split()


def tool_of(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def expand(word: str, env: dict[str, str]) -> str:
    """A word that is exactly one ``${VAR}`` or ``$VAR``, replaced by its value in ENV."""
    variable = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", word)
    return env.get(variable[1] or variable[2], word) if variable else word


def invocations(script: str, env: dict[str, str] | None = None) -> set[Invocation]:
    found = set()
    for line in logical_lines(script):
        tokens = words(line)
        for i, token in enumerate(tokens):
            name = tool_of(expand(token, env or {}))
            if name == "python" and tokens[i + 1 : i + 2] == ["-m"] and len(tokens) > i + 2:
                name, i = tokens[i + 2], i + 2
                if name not in RUN_AS_MODULE:
                    continue
            elif name not in TOOLS or name in RUN_AS_MODULE:
                continue
            rest = []
            for word in tokens[i + 1 :]:
                if word in SHELL_BREAK:
                    break
                rest.append(word)
            subcommands = TOOLS[name]
            sub = rest[0] if subcommands and rest and rest[0] in subcommands else None
            found.add(Invocation(name, sub, options_of(rest)))
            break
    return found


def options_of(rest: list[str]) -> frozenset[str]:
    """`--opt`, or `--opt=value` when the value is one of VALUES (given either way)."""
    options = set()
    for word, following in zip(rest, [*rest[1:], ""], strict=True):
        if not word.startswith("-") or word == "-":
            continue
        name, _, value = word.partition("=")
        value = value or following
        options.add(f"{name}={value}" if value in VALUES else name)
    return frozenset(options)


def lock_installs(script: str, resolve: dict[str, str]) -> set[LockInstall]:
    """`pip install ... --require-hashes ... -r FILE`, FILE resolved through `resolve`
    (environment variable -> value) when it is `${VAR}`."""
    found = set()
    for line in logical_lines(script):
        tokens = words(line)
        if "--require-hashes" not in tokens or "-r" not in tokens:
            continue
        target = expand(tokens[tokens.index("-r") + 1], resolve)
        flags = frozenset(t for t in tokens if t.startswith("--"))
        found.add(LockInstall(flags, target))
    return found


# --- the Tekton side ---------------------------------------------------------------


def tekton_tasks(root: Path = TEKTON) -> dict[str, dict[str, Any]]:
    tasks = {}
    for path in sorted((root / "tasks").glob("*/*.yaml")):
        task = yaml.safe_load(path.read_text(encoding="utf-8"))
        tasks[task["metadata"]["name"]] = task
    return tasks


def tekton_pipeline(root: Path = TEKTON) -> dict[str, Any]:
    pipeline = yaml.safe_load((root / "pipeline/python-ci.yaml").read_text(encoding="utf-8"))
    assert isinstance(pipeline, dict)
    return pipeline


def param_defaults(task: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p.get("default") for p in task["spec"].get("params", [])}


def step_env(task: dict[str, Any], step: dict[str, Any]) -> dict[str, str]:
    """A step's environment with `$(params.X)` replaced by X's default."""
    defaults = param_defaults(task)
    env = {}
    for entry in [*task["spec"].get("stepTemplate", {}).get("env", []), *step.get("env", [])]:
        value = str(entry.get("value", ""))
        param = PARAM.match(value)
        env[entry["name"]] = str(defaults.get(param[1], value)) if param else value
    return env


def tekton_scripts(task: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [
        (step["script"], step_env(task, step))
        for step in task["spec"]["steps"]
        if str(step.get("script", "")).startswith("#!/bin/sh")
    ]


def tekton_invocations(task: dict[str, Any]) -> set[Invocation]:
    return {i for script, env in tekton_scripts(task) for i in invocations(script, env)}


def tekton_lock_installs(task: dict[str, Any]) -> set[LockInstall]:
    return {i for script, env in tekton_scripts(task) for i in lock_installs(script, env)}


# --- the workflow side -------------------------------------------------------------


def workflow(text: str | None = None) -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8") if text is None else text)
    assert isinstance(data, dict)
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def job_scripts(data: dict[str, Any], job: str) -> list[tuple[str, dict[str, str]]]:
    spec = data["jobs"][job]
    scripts = []
    for step in spec["steps"]:
        if "run" in step and step.get("shell", "bash") == "bash":
            env = {**data.get("env", {}), **spec.get("env", {}), **step.get("env", {})}
            scripts.append((str(step["run"]), {k: str(v) for k, v in env.items()}))
    return scripts


def job_invocations(data: dict[str, Any], job: str) -> set[Invocation]:
    return {i for script, env in job_scripts(data, job) for i in invocations(script, env)}


def job_lock_installs(data: dict[str, Any], job: str) -> set[LockInstall]:
    return {i for script, env in job_scripts(data, job) for i in lock_installs(script, env)}


def by_command(found: set[Invocation]) -> dict[tuple[str, str | None], frozenset[str]]:
    """Options per (tool, subcommand), over all its invocations."""
    merged: dict[tuple[str, str | None], frozenset[str]] = {}
    for item in found:
        key = (item.tool, item.subcommand)
        merged[key] = merged.get(key, frozenset()) | item.options
    return merged


# --- the image build from the wheel ------------------------------------------------

BUILD_ARG = re.compile(r"^--build-arg=(\w+)=")


def kaniko_build_args(task: dict[str, Any]) -> set[str]:
    """Names of the build args the Tekton build step passes itself (not BUILD_ARGS)."""
    args = [str(a) for step in task["spec"]["steps"] for a in step.get("args") or []]
    return {m[1] for a in args if (m := BUILD_ARG.match(a))}


def docker_build_args(data: dict[str, Any], job: str) -> set[str]:
    """Names of the --build-arg of the job's `docker build`."""
    names = set()
    for script, _ in job_scripts(data, job):
        for line in logical_lines(script):
            tokens = words(line)
            if tokens[:2] != ["docker", "build"]:
                continue
            for flag, value in zip(tokens, [*tokens[1:], ""], strict=True):
                if flag == "--build-arg":
                    names.add(value.split("=", 1)[0])
    return names


def copies_into_dist(scripts: list[tuple[str, dict[str, str]]]) -> bool:
    """Whether a script copies a file into a dist/ folder (the build context's)."""
    return any(
        (tokens := words(line))[0] == "cp" and tokens[-1].endswith("/dist/")
        for script, _ in scripts
        for line in logical_lines(script)
    )
