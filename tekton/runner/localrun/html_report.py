"""A self-contained HTML page of one local run, in the manner of the Tekton
Dashboard's PipelineRun page: the DAG with status and duration, each task's steps
with their logs (collapsible), the results, the JUnit summary and coverage, the
lint and scan findings (or NOT RUN). No script, no external resource."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # nosec B405  # reports this run's own tools wrote
from html import escape
from pathlib import Path
from typing import Any

from localrun.logbook import Entry
from localrun.pipelinerun import RunReport

COLOURS = {
    "Succeeded": "#2e7d32",
    "Failed": "#c62828",
    "FailureIgnored": "#ef6c00",
    "NOT RUN": "#616161",
    "Skipped": "#9e9e9e",
}
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1d;background:#f4f5f7}
header{background:#161b22;color:#fff;padding:16px 24px}
header h1{margin:0;font-size:20px} main{padding:16px 24px;max-width:1200px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;font-size:12px}
.banner{background:#fff3cd;border:1px solid #e0c36b;padding:10px 14px;margin:12px 0}
section.card{background:#fff;border:1px solid #d8dbe0;border-radius:6px;
  margin:14px 0;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eceef1;padding:4px 8px;text-align:left;vertical-align:top}
pre{background:#0d1117;color:#d1d7e0;padding:8px;overflow-x:auto;margin:4px 0;font-size:12px}
details{margin:4px 0} summary{cursor:pointer} .muted{color:#666}
svg text{font:12px system-ui,sans-serif}
"""


def _status(report: RunReport, name: str) -> str:
    outcome = report.outcomes[name]
    if name in report.not_run():
        return "NOT RUN"
    if outcome.failure_ignored:
        return "FailureIgnored"
    # $(tasks.<t>.status) says None; the Dashboard shows such a task as skipped.
    return "Skipped" if outcome.status == "None" else outcome.status


def _badge(status: str) -> str:
    colour = COLOURS.get(status, "#9e9e9e")
    return f'<span class="badge" style="background:{colour}">{escape(status)}</span>'


def _dag(report: RunReport, spec: dict[str, Any]) -> str:
    dag = [t["name"] for t in spec.get("tasks") or []]
    finals = [t["name"] for t in spec.get("finally") or []]
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            parents = [p for p in report.parents.get(name, set()) if p in dag]
            depth[name] = 1 + max((level(p) for p in parents), default=-1)
        return depth[name]

    columns: dict[int, list[str]] = {}
    for name in dag:
        columns.setdefault(level(name), []).append(name)
    if finals:
        columns[max(columns, default=-1) + 1] = finals
    box_w, box_h, gap_x, gap_y = 150, 46, 50, 18
    where: dict[str, tuple[int, int]] = {}
    for col, names in columns.items():
        for row, name in enumerate(names):
            where[name] = (12 + col * (box_w + gap_x), 12 + row * (box_h + gap_y))
    width = 24 + len(columns) * (box_w + gap_x)
    height = 24 + max(len(n) for n in columns.values()) * (box_h + gap_y) if columns else 40
    parts = [f'<svg id="dag" width="{width}" height="{height}" role="img" aria-label="DAG">']
    for name in dag:
        for parent in sorted(report.parents.get(name, set())):
            if parent in where and name in where:
                (x1, y1), (x2, y2) = where[parent], where[name]
                parts.append(
                    f'<line x1="{x1 + box_w}" y1="{y1 + box_h // 2}" x2="{x2}" '
                    f'y2="{y2 + box_h // 2}" stroke="#8a919c" stroke-width="1.5"/>'
                )
    for name, (x, y) in where.items():
        status = _status(report, name) if name in report.outcomes else "Skipped"
        seconds = report.outcomes[name].seconds if name in report.outcomes else 0.0
        colour = COLOURS.get(status, "#9e9e9e")
        parts.append(
            f'<g class="task" data-task="{escape(name)}" data-status="{escape(status)}">'
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="#fff" '
            f'stroke="{colour}" stroke-width="3"/>'
            f'<text x="{x + 10}" y="{y + 18}" font-weight="600">{escape(name)}</text>'
            f'<text x="{x + 10}" y="{y + 36}" fill="{colour}">'
            f"{escape(status)} · {seconds:.1f}s</text>"
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _steps(task: str, entries: list[Entry]) -> str:
    steps: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.task == task:
            steps.setdefault(entry.step or "(runner)", []).append(entry)
    out = []
    for step, lines in steps.items():
        text = "\n".join(f"{e.seconds:7.1f}s {e.text}" for e in lines)
        out.append(
            f'<details class="step" data-step="{escape(step)}"><summary>{escape(step)} '
            f'<span class="muted">({len(lines)} lines)</span></summary>'
            f"<pre>{escape(text)}</pre></details>"
        )
    return "".join(out)


def _tests(reports: Path) -> str:
    junit, coverage = reports / "unit-test" / "junit.xml", reports / "unit-test" / "coverage.xml"
    if not junit.is_file():
        return '<p class="muted">No JUnit report (unit-test did not write one).</p>'
    root = ET.parse(junit).getroot()  # noqa: S314  # nosec B314
    suites = [root] if root.tag == "testsuite" else list(root)
    count = {
        k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")
    }
    seconds = sum(float(s.get("time", 0)) for s in suites)
    passed = count["tests"] - count["failures"] - count["errors"] - count["skipped"]
    rows = "".join(
        f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in [("passed", passed), *count.items()]
    )
    rows += f"<tr><th>time</th><td>{seconds:.1f}s</td></tr>"
    if coverage.is_file():
        rate = float(ET.parse(coverage).getroot().get("line-rate", 0)) * 100  # noqa: S314  # nosec B314
        rows += f'<tr><th>line coverage</th><td id="coverage">{rate:.1f}%</td></tr>'
    failed = [
        f"{case.get('classname')}.{case.get('name')}"
        for case in root.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]
    listed = "".join(f"<li>{escape(name)}</li>" for name in failed)
    return f'<table id="junit">{rows}</table>' + (
        f"<p>Failed:</p><ul>{listed}</ul>" if failed else ""
    )


def _lint(reports: Path) -> str:
    rows, counts = [], []
    for tool in ("ruff", "bandit", "hadolint"):
        path = reports / "lint" / f"{tool}.sarif"
        if not path.is_file():
            counts.append(f"<tr><th>{tool}</th><td>NOT RUN (no report)</td></tr>")
            continue
        results = [r for run in json.loads(path.read_text(encoding="utf-8")).get("runs", [])
                   for r in run.get("results") or []]  # fmt: skip
        counts.append(f"<tr><th>{tool}</th><td>{len(results)} finding(s)</td></tr>")
        for result in results[:100]:
            loc = (result.get("locations") or [{}])[0].get("physicalLocation") or {}
            file = (loc.get("artifactLocation") or {}).get("uri", "")
            line = (loc.get("region") or {}).get("startLine", "")
            message = (result.get("message") or {}).get("text", "")
            rows.append(
                f"<tr><td>{tool}</td><td>{escape(str(result.get('ruleId', '')))}</td>"
                f"<td>{escape(f'{file}:{line}')}</td><td>{escape(message)}</td></tr>"
            )
    head = "<tr><th>tool</th><th>rule</th><th>where</th><th>message</th></tr>"
    table = f'<table id="lint-findings">{head}{"".join(rows)}</table>'
    return f'<table id="lint-counts">{"".join(counts)}</table>' + (table if rows else "")


def _scan(reports: Path, report: RunReport) -> str:
    trivy = reports / "scan-image" / "trivy.json"
    if "scan-image" in report.not_run() or not trivy.is_file():
        why = (
            report.outcomes["scan-image"].reason
            if "scan-image" in report.outcomes
            else "not started"
        )
        return (
            f'<p id="scan" data-status="NOT RUN"><b>NOT RUN</b>: {escape(why)}. No findings'
            " are shown because none were produced; this is not a pass.</p>"
        )
    data = json.loads(trivy.read_text(encoding="utf-8"))
    vulns = [v for r in data.get("Results") or [] for v in r.get("Vulnerabilities") or []]
    severities: dict[str, int] = {}
    for vuln in vulns:
        severity = str(vuln.get("Severity", "UNKNOWN"))
        severities[severity] = severities.get(severity, 0) + 1
    counts = "".join(
        f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in sorted(severities.items())
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(v.get(key, '')))}</td>"
            for key in (
                "Severity",
                "VulnerabilityID",
                "PkgName",
                "InstalledVersion",
                "FixedVersion",
            )
        )
        + "</tr>"
        for v in vulns[:100]
    )
    head = "<tr><th>severity</th><th>id</th><th>package</th><th>installed</th><th>fixed</th></tr>"
    return (
        f'<table id="scan" data-status="ran">{counts or "<tr><td>no vulnerabilities</td></tr>"}'
        f"</table>" + (f'<table id="scan-findings">{head}{rows}</table>' if rows else "")
    )


def render(
    report: RunReport, spec: dict[str, Any], entries: list[Entry], outputs: Path, run_name: str
) -> str:
    status = "Succeeded" if report.succeeded else "Failed"
    banner = "".join(
        f'<div class="banner" data-not-run="{escape(n)}"><b>NOT RUN: {escape(n)}</b> — '
        f"{escape(report.outcomes[n].reason)}. It produced no results and is not counted"
        " as a pass.</div>"
        for n in report.not_run()
    )
    tasks = []
    for name in report.outcomes:
        outcome = report.outcomes[name]
        task_status = _status(report, name)
        results = "".join(
            f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in outcome.results.items()
        )
        if task_status == "NOT RUN":
            results = "<tr><th>results</th><td>NOT RUN</td></tr>"
        tasks.append(
            f'<details class="taskrun" data-task="{escape(name)}"'
            f' data-status="{escape(task_status)}">'
            f"<summary><b>{escape(name)}</b> {_badge(task_status)} {outcome.seconds:.1f}s "
            f'<span class="muted">{escape(outcome.reason)}</span></summary>'
            f"{_steps(name, entries)}"
            + (f"<table>{results}</table>" if results else "")
            + "</details>"
        )
    results = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in report.results.items()
    ) + "".join(
        f'<tr><th>{escape(k)}</th><td class="muted">not emitted: {escape(v)}</td></tr>'
        for k, v in report.omitted.items()
    )
    reports = outputs / "reports"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(run_name)}</title>
<style>{STYLE}</style></head><body>
<header><h1>PipelineRun {escape(run_name)} {_badge(status)}</h1>
<div>{report.seconds:.1f}s wall · {len(report.outcomes)} tasks ·
local run of tekton/ (see docs/ci-run.log)</div></header>
<main>{banner}
<section class="card"><h2>DAG</h2>{_dag(report, spec)}</section>
<section class="card"><h2>TaskRuns and steps</h2>{"".join(tasks)}</section>
<section class="card"><h2>Pipeline results</h2><table id="results">{results}</table></section>
<section class="card"><h2>Tests (JUnit) and coverage</h2>{_tests(reports)}</section>
<section class="card"><h2>Lint findings</h2>{_lint(reports)}</section>
<section class="card"><h2>Image scan</h2>{_scan(reports, report)}</section>
</main></body></html>
"""


def write(
    path: Path,
    report: RunReport,
    spec: dict[str, Any],
    entries: list[Entry],
    outputs: Path,
    run_name: str,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report, spec, entries, outputs, run_name), encoding="utf-8")
