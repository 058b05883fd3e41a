"""Critical path and sums of a run's task durations."""

from __future__ import annotations

from localrun.pipelinerun import RunReport
from localrun.taskrun import Outcome
from localrun.timing import critical_path, of_run, table


def test_the_critical_path_is_the_longest_dependent_chain() -> None:
    durations = {"fetch": 1.0, "lint": 5.0, "test": 8.0, "wheel": 3.0, "image": 10.0}
    parents = {
        "fetch": set(),
        "lint": {"fetch"},
        "test": {"fetch"},
        "wheel": {"fetch"},
        "image": {"test", "wheel"},
    }
    path, seconds = critical_path(durations, parents)
    assert path == ["fetch", "test", "image"]
    assert seconds == 19.0


def test_of_run_adds_finally_and_compares_with_the_sum() -> None:
    outcomes = {
        "a": Outcome("Succeeded", "", seconds=2.0),
        "b": Outcome("Succeeded", "", seconds=3.0),
        "c": Outcome("Succeeded", "", seconds=4.0),
        "summary": Outcome("Succeeded", "", seconds=0.5),
    }
    report = RunReport(
        True, outcomes, ["a", "b", "c", "summary"], {"a": set(), "b": {"a"}, "c": {"a"}}, 7.0
    )
    timing = of_run(report)
    assert timing.sum_of_tasks == 9.5
    assert timing.critical_path == ["a", "c"]
    assert timing.critical_seconds == 6.5
    assert any(line.startswith("critical path") for line in table(timing))
