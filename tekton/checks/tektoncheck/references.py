"""Cross-reference checks a linter misses: every name used is declared, and
tasks that share files in a workspace are ordered.

A plain problem is one Tekton refuses too: its webhook (pkg/apis/pipeline/v1
``*_validation.go``: undeclared params and results, runAfter of an unknown task, a
dependency cycle) or its controller when the run starts (a missing Task, a
required param or workspace not given, an undeclared result referenced). What
Tekton allows but this project does not (extra params, unpinned resolver refs,
descriptions, ...) is a named style rule (style.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import combinations
from typing import Any

from tektoncheck import interfaces
from tektoncheck.documents import Doc, Repo, variables
from tektoncheck.style import problem as style

RESOLVERS = {"bundles", "hub", "git", "cluster", "http"}
INDEX = re.compile(r"\[[0-9]*\*?\]$")  # $(params.a[*]), $(params.a[0]): substitution.go


def _name(rest: str) -> str:
    """The declared name a variable refers to: `a` of `a[*]`, `a[0]`, `a.path`, `a.key`."""
    return INDEX.sub("", rest.split(".")[0])


# --- Task -----------------------------------------------------------------


def check_task(doc: Doc, where: str) -> Iterator[str]:
    iface = interfaces.of_task(doc)
    body = {k: doc.spec.get(k) for k in ("steps", "stepTemplate", "sidecars", "volumes")}
    for path, scope, rest in variables(body):
        name = _name(rest)
        if scope == "params" and name not in iface.params:
            yield f"{where}: {path} uses undeclared param '{name}'"
        if scope == "workspaces" and name not in iface.workspaces:
            # The webhook leaves workspace variables alone; the step sees the literal text.
            yield style("workspace-declared", f"{where}: {path} uses undeclared workspace '{name}'")
        if scope == "results" and name not in iface.results:
            yield f"{where}: {path} uses undeclared result '{name}'"
    for index, step in enumerate(doc.spec.get("steps") or []):
        if "$(params." in str(step.get("script", "")):
            yield style(
                "no-param-in-script",
                f"{where}: steps[{index}] ({step.get('name')}) puts $(params.…) inside script;"
                " pass it through env",
            )
    written = {_name(rest) for _, scope, rest in variables(body) if scope == "results"}
    for result in sorted(iface.results - written):
        yield style("result-written", f"{where}: result '{result}' is declared but never written")
    for section in ("params", "workspaces", "results"):
        for item in doc.spec.get(section) or []:
            if not str(item.get("description", "")).strip():
                yield style(
                    "description-required",
                    f"{where}: {section} '{item.get('name')}' has no description",
                )


# --- Pipeline -------------------------------------------------------------


def _interface(
    repo: Repo, task: dict[str, Any], where: str, problems: list[str]
) -> interfaces.TaskInterface | None:
    name = task.get("name")
    if "taskSpec" in task:
        return interfaces.of_spec(task["taskSpec"])
    if "pipelineRef" in task or "pipelineSpec" in task:
        return None  # a pipeline in a pipeline (alpha): no Task interface
    ref = task.get("taskRef") or {}
    if "resolver" in ref:
        problems.extend(check_resolver_ref(ref, f"{where}: task '{name}'"))
        return interfaces.RESOLVED_TASKS.get(resolved_name(ref))
    local = repo.named("Task").get(str(ref.get("name")))
    if local is None:
        problems.append(f"{where}: task '{name}' references missing Task '{ref.get('name')}'")
        return None
    return interfaces.of_task(local)


def resolved_name(ref: dict[str, Any]) -> str:
    """The Task a resolver ref fetches: its ``name`` param, or the git file's stem."""
    params = {p.get("name"): str(p.get("value", "")) for p in ref.get("params") or []}
    if params.get("name"):
        return params["name"]
    return params.get("pathInRepo", "").rsplit("/", 1)[-1].removesuffix(".yaml")


def check_resolver_ref(ref: dict[str, Any], where: str) -> Iterator[str]:
    resolver = ref.get("resolver")
    params = {p.get("name"): str(p.get("value", "")) for p in ref.get("params") or []}
    if resolver not in RESOLVERS:
        # Tekton allows custom resolvers; this project uses only the built-in ones.
        yield style("resolver-known", f"{where}: unknown resolver '{resolver}'")
    elif resolver == "bundles":
        for needed in ("bundle", "name", "kind"):
            if not params.get(needed):
                yield f"{where}: bundles resolver needs param '{needed}'"
        if "@sha256:" not in params.get("bundle", ""):
            yield style(
                "resolver-pinned",
                f"{where}: bundle '{params.get('bundle')}' is not pinned by digest",
            )
    elif resolver == "hub":
        if not params.get("name"):
            yield f"{where}: hub resolver needs param 'name'"
        if not params.get("version"):
            yield style("resolver-pinned", f"{where}: hub resolver needs param 'version'")
    elif resolver == "git":
        if len(params.get("revision", "")) != 40:
            yield style(
                "resolver-pinned", f"{where}: git resolver revision must be a full commit SHA"
            )
        for needed in ("url", "pathInRepo"):
            if not params.get(needed):
                yield f"{where}: git resolver needs param '{needed}'"
    name = resolved_name(ref)
    if name and name not in interfaces.RESOLVED_TASKS:
        yield style(
            "resolved-task-known", f"{where}: resolved task '{name}' has no known interface"
        )


def _dag(spec: dict[str, Any]) -> dict[str, set[str]]:
    """Direct parents of every DAG task: runAfter plus result references."""
    parents: dict[str, set[str]] = {}
    for task in spec.get("tasks") or []:
        deps = set(task.get("runAfter") or [])
        for _, scope, rest in variables({"p": task.get("params"), "w": task.get("when")}):
            if scope == "tasks" and ".results." in rest:
                deps.add(rest.split(".")[0])
        parents[task["name"]] = deps
    return parents


def ancestors(parents: dict[str, set[str]]) -> dict[str, set[str]]:
    """Transitive parents; raises ValueError on a cycle."""
    done: dict[str, set[str]] = {}

    def visit(name: str, trail: tuple[str, ...]) -> set[str]:
        if name in trail:
            raise ValueError(" -> ".join((*trail, name)))
        if name not in done:
            found: set[str] = set()
            for parent in parents.get(name, set()):
                found |= {parent} | visit(parent, (*trail, name))
            done[name] = found
        return done[name]

    for name in parents:
        visit(name, ())
    return done


def check_pipeline(
    repo: Repo, doc: Doc, where: str, propagated: tuple[set[str], set[str]] = (set(), set())
) -> Iterator[str]:
    """A Pipeline, or a run's inline pipelineSpec with the (params, workspaces) the
    run propagates into it."""
    spec = doc.spec
    declared_params = {p["name"] for p in spec.get("params") or []} | propagated[0]
    declared_ws = {w["name"] for w in spec.get("workspaces") or []} | propagated[1]
    dag_names = [t.get("name") for t in spec.get("tasks") or []]
    final_names = [t.get("name") for t in spec.get("finally") or []]
    problems: list[str] = []
    parents = _dag(spec)
    for name, deps in parents.items():
        for dep in sorted(deps - set(dag_names)):
            problems.append(f"{where}: task '{name}' runs after unknown task '{dep}'")
    try:
        reach = ancestors({n: d & set(dag_names) for n, d in parents.items()})
    except ValueError as cycle:
        problems.append(f"{where}: dependency cycle {cycle}")
        reach = {}
    ifaces: dict[str, interfaces.TaskInterface] = {}
    for section, is_final in (("tasks", False), ("finally", True)):
        for task in spec.get(section) or []:
            name = str(task.get("name"))
            iface = _interface(repo, task, where, problems)
            if iface is not None:
                ifaces[name] = iface
            problems.extend(_check_pipeline_task(task, iface, is_final, where, declared_ws))
            refs = {"params": task.get("params"), "when": task.get("when")}
            for path, scope, rest in variables(refs):
                problems.extend(
                    _check_variable(
                        name, path, scope, rest, is_final, declared_params, dag_names, where
                    )
                )
    for section in ("tasks", "finally"):
        for task in spec.get(section) or []:
            for _, scope, rest in variables(task.get("params")):
                parts = rest.split(".")
                if scope == "tasks" and len(parts) >= 3 and parts[1] == "results":
                    iface = ifaces.get(parts[0])
                    result = _name(parts[2])
                    if iface is not None and result not in iface.results:
                        problems.append(
                            f"{where}: task '{task.get('name')}' uses result '{result}'"
                            f" that task '{parts[0]}' does not declare"
                        )
    problems.extend(_check_sharing(doc, ifaces, reach, set(final_names), where))
    yield from problems


def _check_pipeline_task(
    task: dict[str, Any],
    iface: interfaces.TaskInterface | None,
    is_final: bool,
    where: str,
    declared_ws: set[str],
) -> Iterator[str]:
    name = task.get("name")
    if is_final and task.get("runAfter"):
        yield f"{where}: finally task '{name}' cannot use runAfter"
    # A binding without `workspace` binds the pipeline workspace of the same name.
    bound = {
        w.get("name"): w.get("workspace") or w.get("name") for w in task.get("workspaces") or []
    }
    for pipeline_ws in bound.values():
        if pipeline_ws not in declared_ws:
            yield f"{where}: task '{name}' binds undeclared pipeline workspace '{pipeline_ws}'"
    if iface is None:
        return
    matrix = task.get("matrix") or {}
    passed = {
        p.get("name")
        for params in (
            task.get("params"),
            matrix.get("params"),
            *(combo.get("params") for combo in matrix.get("include") or []),
        )
        for p in params or []
    }
    for param in sorted(passed - set(iface.params)):
        # Tekton ignores extra params (pkg/reconciler/pipelinerun/resources/validate_params.go).
        yield style(
            "param-declared",
            f"{where}: task '{name}' passes param '{param}' its Task does not declare",
        )
    for param, required in sorted(iface.params.items()):
        if required and param not in passed:
            yield f"{where}: task '{name}' does not pass required param '{param}'"
    for task_ws in sorted(set(bound) - set(iface.workspaces)):
        yield f"{where}: task '{name}' binds workspace '{task_ws}' its Task does not declare"
    for task_ws, (optional, _) in sorted(iface.workspaces.items()):
        if not optional and task_ws not in bound:
            yield f"{where}: task '{name}' does not bind required workspace '{task_ws}'"


def _check_variable(
    task: str,
    path: str,
    scope: str,
    rest: str,
    is_final: bool,
    declared_params: set[str],
    dag_names: list[str],
    where: str,
) -> Iterator[str]:
    at = f"{where}: task '{task}' {path}"
    if scope == "params":
        name = _name(rest)
        if name not in declared_params:
            yield f"{at} uses undeclared pipeline param '{name}'"
    elif scope == "tasks":
        parts = rest.split(".")
        if parts == ["status"]:
            if not is_final:
                yield f"{at} uses $(tasks.status) outside finally"
        elif parts[0] not in dag_names:
            yield f"{at} references unknown task '{parts[0]}'"
        elif parts[1:] == ["status"] and not is_final:
            yield f"{at} uses a task status outside finally"
    elif scope not in {"context", "workspaces"}:
        yield f"{at} uses unknown variable scope '{scope}'"


def _overlap(a: str, b: str) -> bool:
    pa, pb = [p for p in a.split("/") if p], [p for p in b.split("/") if p]
    shorter = min(len(pa), len(pb))
    return pa[:shorter] == pb[:shorter]


def _check_sharing(
    doc: Doc,
    ifaces: dict[str, interfaces.TaskInterface],
    reach: dict[str, set[str]],
    finals: set[str],
    where: str,
) -> Iterator[str]:
    """Unordered tasks must not write where the other reads or writes, and a task
    that reads a folder must run after a task that writes it."""
    uses: list[tuple[str, str, str, bool]] = []  # task, pipeline ws, subPath, writes
    for section in ("tasks", "finally"):
        for task in doc.spec.get(section) or []:
            iface = ifaces.get(str(task.get("name")))
            for binding in task.get("workspaces") or []:
                if iface is None:
                    continue
                _, read_only = iface.workspaces.get(binding.get("name"), (False, False))
                workspace = binding.get("workspace") or binding.get("name")
                uses.append((task["name"], workspace, binding.get("subPath", ""), not read_only))

    def ordered(a: str, b: str) -> bool:
        if a in finals or b in finals:
            return not (a in finals and b in finals)
        return a in reach.get(b, set()) or b in reach.get(a, set())

    for (ta, wa, sa, xa), (tb, wb, sb, xb) in combinations(uses, 2):
        if ta != tb and wa == wb and (xa or xb) and _overlap(sa, sb) and not ordered(ta, tb):
            yield style(
                "workspace-sharing-ordered",
                f"{where}: tasks '{ta}' and '{tb}' share {wa}/{sa or sb} and one writes it,"
                " but neither runs after the other",
            )
    for task, ws, sub, writes in uses:
        if writes:
            continue
        writers = [t for t, w, s, x in uses if x and w == ws and t != task and _overlap(s, sub)]
        before = [
            t
            for t in writers
            if t in reach.get(task, set()) or (task in finals and t not in finals)
        ]
        if not before:
            yield style(
                "workspace-sharing-ordered",
                f"{where}: task '{task}' reads {ws}/{sub} before any task writes it",
            )


# --- Runs -----------------------------------------------------------------


def check_run(repo: Repo, body: dict[str, Any], where: str) -> Iterator[str]:
    """A PipelineRun or TaskRun (also one inside a TriggerTemplate)."""
    meta = body.get("metadata") or {}
    spec = body.get("spec") or {}
    if "name" in meta or "generateName" not in meta:
        yield style(
            "run-generate-name",
            f"{where}: runs must use metadata.generateName (each run gets a new name)",
        )
    accounts = set(repo.named("ServiceAccount"))
    account = (spec.get("taskRunTemplate") or {}).get("serviceAccountName") or spec.get(
        "serviceAccountName"
    )
    if account and account not in accounts:
        yield style(
            "service-account-defined", f"{where}: serviceAccountName '{account}' is not defined"
        )
    kind = body.get("kind")
    ref = spec.get("pipelineRef" if kind == "PipelineRun" else "taskRef") or {}
    if "resolver" in ref:
        yield from check_resolver_ref(ref, where)
        return  # fetched when the run starts: its interface is not in this repository
    if kind == "PipelineRun":
        target = spec.get("pipelineSpec")
        if not isinstance(target, dict):
            found = repo.named("Pipeline").get(str(ref.get("name")))
            if found is None:
                yield f"{where}: pipelineRef '{ref.get('name')}' not found"
                return
            target = found.spec
        declared = {p["name"]: "default" not in p for p in target.get("params") or []}
        needed_ws = {w["name"] for w in target.get("workspaces") or [] if not w.get("optional")}
        all_ws = {w["name"] for w in target.get("workspaces") or []}
    else:
        if isinstance(spec.get("taskSpec"), dict):
            iface = interfaces.of_spec(spec["taskSpec"])
        else:
            task = repo.named("Task").get(str(ref.get("name")))
            if task is None:
                yield f"{where}: taskRef '{ref.get('name')}' not found"
                return
            iface = interfaces.of_task(task)
        declared = dict(iface.params)
        needed_ws = {n for n, (optional, _) in iface.workspaces.items() if not optional}
        all_ws = set(iface.workspaces)
    passed = {p.get("name") for p in spec.get("params") or []}
    for name in sorted(passed - set(declared)):
        # Tekton ignores extra params (examples/v1 pipelinerun-with-extra-params.yaml).
        yield style("param-declared", f"{where}: passes undeclared param '{name}'")
    for name, required in sorted(declared.items()):
        if required and name not in passed:
            yield f"{where}: does not pass required param '{name}'"
    bound = {w.get("name") for w in spec.get("workspaces") or []}
    for name in sorted(bound - all_ws):
        # Tekton propagates a run's workspaces to embedded specs and ignores the rest
        # (examples/v1 propagating-workspaces.yaml).
        yield style("workspace-declared", f"{where}: binds undeclared workspace '{name}'")
    for name in sorted(needed_ws - bound):
        yield f"{where}: does not bind workspace '{name}'"


def check(repo: Repo) -> list[str]:
    problems: list[str] = []
    for doc in repo.of_kind("Task"):
        problems.extend(check_task(doc, doc.where(repo.root)))
    for doc in repo.of_kind("Pipeline"):
        problems.extend(check_pipeline(repo, doc, doc.where(repo.root)))
    for doc in repo.of_kind("PipelineRun") + repo.of_kind("TaskRun"):
        problems.extend(check_run(repo, doc.body, doc.where(repo.root)))
        inline = doc.spec.get("pipelineSpec")
        if doc.kind == "PipelineRun" and isinstance(inline, dict):
            passed = {str(p.get("name")) for p in doc.spec.get("params") or []}
            bound = {str(w.get("name")) for w in doc.spec.get("workspaces") or []}
            pipeline = Doc(doc.path, {"kind": "Pipeline", "metadata": {}, "spec": inline})
            where = f"{doc.where(repo.root)}: spec.pipelineSpec"
            problems.extend(check_pipeline(repo, pipeline, where, (passed, bound)))
    return problems
