"""Run a Pipeline's tasks in DAG order, parallel branches at once, then finally.

Tekton's rules, as they apply here:
- a task starts when every task it runs after (runAfter, or whose result it
  uses) has finished; a failure stops the run from starting new tasks, the
  running ones finish, the rest are not run (status None);
- finally tasks always run, after all the others, and see $(tasks.<t>.status)
  and $(tasks.status); a finally task that needs a result that was never
  produced is skipped;
- a task with ``onError: continue`` that fails keeps its Failed status (reason
  FailureIgnored) but neither stops the run nor fails it;
- under the default ``coschedule: workspaces`` a TaskRun that would bind more
  than one PVC fails validation, as the controller's ValidateOnlyOnePVCIsUsed does;
- the run fails when any task (DAG or finally) fails without onError: continue;
- pipeline results are resolved at the end; one that references a result that
  was never produced is not emitted.
"""

from __future__ import annotations

import concurrent.futures as futures
import subprocess  # nosec B404  # only for its CalledProcessError (the fetch stand-in)
import threading
import time
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tektoncheck.cluster import pvc_claims
from tektoncheck.references import resolved_name

from localrun import taskrun, variables
from localrun.logbook import Logbook
from localrun.resources import Resources
from localrun.standins import fetch_working_tree
from localrun.taskrun import Machine, Outcome
from localrun.variables import Value


@dataclass
class RunReport:
    succeeded: bool
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # in start order
    parents: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0
    results: dict[str, str] = field(default_factory=dict)  # pipeline results emitted
    omitted: dict[str, str] = field(default_factory=dict)  # pipeline result -> why not

    def not_run(self) -> list[str]:
        """Tasks whose tool is not on this machine: never a pass, said first."""
        return [n for n, o in self.outcomes.items() if o.tool_unavailable]


def parse_duration(text: str | None) -> float | None:
    """Seconds of a Go duration like ``1h30m``, ``20m`` or ``90s`` (None: no limit)."""
    if not text:
        return None
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in str(text):
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise ValueError(f"duration not understood: {text!r}")
    if number:
        raise ValueError(f"duration without unit: {text!r}")
    return total or None


def dag_parents(tasks: list[dict[str, Any]]) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = {}
    for task in tasks:
        deps = set(task.get("runAfter") or [])
        for key in variables.references([task.get("params"), task.get("when")]):
            parts = key.split(".")
            if parts[0] == "tasks" and len(parts) > 2 and parts[2] == "results":
                deps.add(parts[1])
        parents[task["name"]] = deps
    return parents


def pipeline_params(
    spec: dict[str, Any], given: dict[str, Value], typed: dict[str, Any] | None = None
) -> dict[str, Value]:
    """Defaults, then the PipelineRun's own params (``typed``: their YAML types must
    match, as the controller's ParameterTypeMismatch check requires), then ``given``
    overrides from the command line (arrays comma-separated, like tkn -p)."""
    declared = {p["name"]: p for p in spec.get("params") or []}
    if unknown := (set(given) | set(typed or {})) - set(declared):
        raise ValueError(f"unknown pipeline params: {sorted(unknown)}")
    for name, value in (typed or {}).items():
        is_array = declared[name].get("type") == "array"
        if is_array != isinstance(value, list) or not isinstance(value, (str, list)):
            kind = "an array" if is_array else "a string"
            raise ValueError(f"ParameterTypeMismatch: param '{name}' must be {kind}, got {value!r}")
    merged: dict[str, Value] = {
        k: [str(v) for v in value] if isinstance(value, list) else str(value)
        for k, value in (typed or {}).items()
    }
    merged.update(given)
    values: dict[str, Value] = {}
    for name, param in declared.items():
        if name in merged:
            value = merged[name]
            if param.get("type") == "array" and isinstance(value, str):
                value = [v for v in value.split(",") if v]
            values[name] = value
        elif "default" in param:
            default = param["default"]
            values[name] = [str(v) for v in default] if isinstance(default, list) else str(default)
        else:
            raise ValueError(f"pipeline param '{name}' needs a value (-p {name}=...)")
    return values


class PipelineRunner:
    def __init__(
        self,
        resources: Resources,
        pipeline: str,
        params: dict[str, Value],
        workspace_dirs: dict[str, Path],
        run_dir: Path,
        machine: Machine,
        log: Logbook,
        max_parallel: int = 3,
        *,
        run_params: dict[str, Any] | None = None,
        run_workspaces: dict[str, dict[str, Any]] | None = None,
        coschedule: str = "workspaces",
        run_name: str | None = None,
    ) -> None:
        if pipeline not in resources.pipelines:
            raise ValueError(f"no Pipeline named '{pipeline}'")
        self.resources = resources
        self.spec: dict[str, Any] = resources.pipelines[pipeline]["spec"]
        self.name = pipeline
        self.run_name = run_name or f"{pipeline}-local"
        self.params = pipeline_params(self.spec, params, run_params)
        missing = {w["name"] for w in self.spec.get("workspaces") or [] if not w.get("optional")}
        if unbound := missing - set(workspace_dirs):
            raise ValueError(f"workspaces not bound: {sorted(unbound)}")
        # How each pipeline workspace is backed in the PipelineRun (emptyDir when not said).
        self.run_workspaces = run_workspaces or {}
        self.coschedule = coschedule
        self.workspace_dirs = workspace_dirs
        self.run_dir = run_dir
        self.machine = machine
        self.log = log
        self.max_parallel = max_parallel
        self.outcomes: dict[str, Outcome] = {}
        self.order: list[str] = []
        self._lock = threading.Lock()

    # -- values ------------------------------------------------------------

    def _values(self, final: bool) -> dict[str, Value]:
        values: dict[str, Value] = {f"params.{k}": v for k, v in self.params.items()}
        values["context.pipelineRun.name"] = self.run_name
        values["context.pipeline.name"] = self.name
        values.update(self._result_values())
        if final:
            for task, outcome in self.outcomes.items():
                values[f"tasks.{task}.status"] = outcome.status
            for task in self.spec.get("tasks") or []:
                values.setdefault(f"tasks.{task['name']}.status", "None")
            values["tasks.status"] = self._aggregate()
        return values

    def _result_values(self, final_names: Container[str] = ()) -> dict[str, Value]:
        """``<scope>.<task>.results.<name>`` of every result produced so far; the scope
        is ``finally`` for the tasks in ``final_names``, ``tasks`` for the others."""
        return {
            f"{'finally' if task in final_names else 'tasks'}.{task}.results.{result}": value
            for task, outcome in self.outcomes.items()
            for result, value in outcome.results.items()
        }

    def _aggregate(self) -> str:
        dag = [self.outcomes.get(t["name"]) for t in self.spec.get("tasks") or []]
        if any(o is not None and o.status == "Failed" for o in dag):
            return "Failed"
        if all(o is not None and o.status == "Succeeded" for o in dag):
            return "Succeeded"
        return "Completed"

    def _workspaces(self, task: dict[str, Any]) -> dict[str, Path | None]:
        bound: dict[str, Path | None] = {}
        for binding in task.get("workspaces") or []:
            path = self.workspace_dirs[binding["workspace"]] / binding.get("subPath", "")
            path.mkdir(parents=True, exist_ok=True)
            bound[binding["name"]] = path
        return bound

    def _when(self, task: dict[str, Any], values: dict[str, Value]) -> bool:
        for expression in task.get("when") or []:
            actual = variables.in_string(str(expression["input"]), values)
            allowed = variables.in_list(list(expression.get("values") or []), values)
            matches = actual in allowed
            if matches != (expression.get("operator", "in") == "in"):
                return False
        return True

    # -- one task ----------------------------------------------------------

    def run_one(self, task: dict[str, Any], values: dict[str, Value]) -> Outcome:
        name = task["name"]
        try:
            params: dict[str, Value] = {}
            for param in task.get("params") or []:
                value = param.get("value")
                params[param["name"]] = (
                    variables.in_list(value, values)
                    if isinstance(value, list)
                    else variables.in_string(str(value), values)
                )
            if not self._when(task, values):
                self.log.line(name, "", "skipped: when expressions are false")
                return Outcome("None", "WhenExpressionsSkip")
        except variables.UnresolvedReferenceError as missing:
            self.log.line(name, "", f"skipped: {missing} was never produced")
            return Outcome("None", f"MissingResult {missing}")
        claims = pvc_claims(task, self.run_workspaces)
        if self.coschedule == "workspaces" and len(claims) > 1:
            # The controller refuses this TaskRun before any step (affinity assistant).
            return Outcome(
                "Failed",
                "TaskRunValidationFailed: more than one PersistentVolumeClaim is bound"
                f" ({', '.join(sorted(claims))}) under coschedule: workspaces",
            )
        timeout = parse_duration(task.get("timeout"))
        workspaces = self._workspaces(task)
        ref = task.get("taskRef") or {}
        if "resolver" in ref:
            return self._resolved(name, ref, params, workspaces)
        spec = task.get("taskSpec") or (self.resources.tasks.get(str(ref.get("name"))) or {}).get(
            "spec"
        )
        if spec is None:
            return Outcome("Failed", f"CouldntGetTask: {ref.get('name')}")
        return taskrun.run_task(
            name, spec, params, workspaces, self.run_dir, self.machine, self.log, timeout
        )

    def _resolved(
        self,
        name: str,
        ref: dict[str, Any],
        params: dict[str, Value],
        workspaces: dict[str, Path | None],
    ) -> Outcome:
        started = time.monotonic()
        wanted = resolved_name(ref)
        output = workspaces.get("output")
        if wanted != "git-clone" or output is None:
            return Outcome("Failed", f"no local stand-in for resolver task {wanted}")
        results = self.run_dir / name / "results"
        results.mkdir(parents=True, exist_ok=True)
        fetch_working_tree(
            self.machine.source_repo,
            output,
            str(params.get("url", "")),
            results,
            lambda text: self.log.line(name, "clone", text),
        )
        found = {p.name: p.read_text(encoding="utf-8") for p in results.iterdir()}
        return Outcome("Succeeded", "Succeeded (local stand-in)", found, time.monotonic() - started)

    # -- the run -----------------------------------------------------------

    def _start(self, task: dict[str, Any], values: dict[str, Value]) -> Outcome:
        """Run one task on a worker thread, with the values the caller took for it."""
        with self._lock:
            self.order.append(task["name"])
        self.log.line(task["name"], "", "started")
        try:
            outcome = self.run_one(task, values)
        except (OSError, ValueError, subprocess.CalledProcessError) as error:
            # A stand-in or the runner itself could not do its part: the task fails,
            # the run goes on to finally as Tekton's would.
            self.log.line(task["name"], "", f"error: {error}")
            outcome = Outcome("Failed", f"runner error: {error}")
        if outcome.status == "Failed" and task.get("onError") == "continue":
            outcome.failure_ignored = True
            outcome.reason = f"FailureIgnored: {outcome.reason}"
        if outcome.tool_unavailable:
            self.log.line(task["name"], "", f"NOT RUN: {outcome.reason} ({outcome.seconds:.1f}s)")
        else:
            self.log.line(
                task["name"], "", f"{outcome.status}: {outcome.reason} ({outcome.seconds:.1f}s)"
            )
        return outcome

    def _blocks(self, name: str) -> bool:
        """A failure that stops the run (one with onError: continue does not)."""
        outcome = self.outcomes.get(name)
        return outcome is not None and outcome.status == "Failed" and not outcome.failure_ignored

    def pipeline_results(self, final_names: set[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Emitted pipeline results, and the omitted ones with the reason."""
        values = self._result_values(final_names)
        emitted: dict[str, str] = {}
        omitted: dict[str, str] = {}
        for result in self.spec.get("results") or []:
            try:
                emitted[result["name"]] = variables.in_string(str(result["value"]), values)
            except variables.UnresolvedReferenceError as missing:
                scope, _, rest = missing.key.partition(".")
                task = rest.split(".", 1)[0] if scope in ("tasks", "finally") else ""
                missed = self.outcomes.get(task)
                if missed is not None and missed.tool_unavailable:
                    omitted[result["name"]] = f"NOT RUN ({task}: {missed.reason})"
                else:
                    omitted[result["name"]] = f"{missing} was not produced"
        return emitted, omitted

    def run(self) -> RunReport:
        started = time.monotonic()
        tasks = {t["name"]: t for t in self.spec.get("tasks") or []}
        parents = dag_parents(list(tasks.values()))
        pending = dict(tasks)
        stopping = False
        with futures.ThreadPoolExecutor(max_workers=self.max_parallel) as pool:
            running: dict[futures.Future[Outcome], str] = {}
            while pending or running:
                if not stopping:
                    for name in list(pending):
                        if all(p in self.outcomes and not self._blocks(p) for p in parents[name]):
                            # The values are taken here, on the thread that writes
                            # self.outcomes, never read by a worker while it changes.
                            task, values = pending.pop(name), self._values(False)
                            running[pool.submit(self._start, task, values)] = name
                if not running:
                    break
                done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    self.outcomes[name] = future.result()
                    if self._blocks(name):
                        stopping = True
            for name in pending:
                self.log.line(name, "", "not run: the pipeline run is stopping after a failure")
                self.outcomes[name] = Outcome("None", "PipelineRunStopping")
            for task in self.spec.get("finally") or []:
                self.outcomes[task["name"]] = self._start(task, self._values(True))
        failed = [n for n in self.outcomes if self._blocks(n)]
        emitted, omitted = self.pipeline_results(
            {t["name"] for t in self.spec.get("finally") or []}
        )
        return RunReport(
            succeeded=not failed,
            outcomes=self.outcomes,
            order=self.order,
            parents=parents,
            seconds=time.monotonic() - started,
            results=emitted,
            omitted=omitted,
        )
