"""Where the wall time of a run went: per task, the sum, and the critical path."""

from __future__ import annotations

from dataclasses import dataclass

from localrun.pipelinerun import RunReport


@dataclass(frozen=True)
class Timing:
    per_task: dict[str, float]
    total: float
    sum_of_tasks: float
    critical_path: list[str]
    critical_seconds: float


def critical_path(
    durations: dict[str, float], parents: dict[str, set[str]]
) -> tuple[list[str], float]:
    """The longest chain of dependent DAG tasks by duration."""
    best: dict[str, tuple[float, list[str]]] = {}

    def longest(name: str) -> tuple[float, list[str]]:
        if name not in best:
            chains = [longest(p) for p in parents.get(name, set()) if p in durations]
            seconds, path = max(chains, default=(0.0, []))
            best[name] = (seconds + durations[name], [*path, name])
        return best[name]

    if not durations:
        return [], 0.0
    seconds, path = max(longest(name) for name in durations if name in parents)
    return path, seconds


def of_run(report: RunReport) -> Timing:
    per_task = {name: outcome.seconds for name, outcome in report.outcomes.items()}
    dag = {n: s for n, s in per_task.items() if n in report.parents}
    path, seconds = critical_path(dag, report.parents)
    finals = sum(s for n, s in per_task.items() if n not in report.parents)
    return Timing(per_task, report.seconds, sum(per_task.values()), path, seconds + finals)


def table(timing: Timing) -> list[str]:
    lines = [f"{'task':<14} {'seconds':>8}"]
    lines += [f"{name:<14} {seconds:8.1f}" for name, seconds in timing.per_task.items()]
    lines.append(f"{'sum of tasks':<14} {timing.sum_of_tasks:8.1f}")
    chain = " -> ".join([*timing.critical_path, "finally"])
    lines.append(f"{'critical path':<14} {timing.critical_seconds:8.1f}  ({chain})")
    lines.append(f"{'wall total':<14} {timing.total:8.1f}")
    if timing.total > 0:
        # What running lint, unit-test and build-wheel side by side bought: the same
        # tasks one after another would take the sum.
        ratio = timing.sum_of_tasks / timing.total
        lines.append(
            f"{'sum / wall':<14} {ratio:8.2f}x  (sequential estimate vs this parallel run)"
        )
    return lines
