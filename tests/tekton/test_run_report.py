"""The HTML run report in a real browser (Debian's Chromium, driven by Playwright):
it shows every task of the DAG with its status, the steps' logs, and says NOT RUN
for a task whose tool is missing. It loads nothing from the network.

docs/ci-run.png is made from the real run's report with
POWERWATCH_RUN_REPORT=.local/ci-run.html POWERWATCH_SCREENSHOT=docs/ci-run.png."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from test_runner_pipelinerun import pipeline, task

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def make_report(tmp_path: Path) -> Path:
    import run_local

    ok = task("ok", 'echo "hello from ok"\nprintf "%s" 42 > "$(results.n.path)"\n',
              results=[{"name": "n", "description": "d"}])  # fmt: skip
    broken = task("broken", "echo crashed\nexit 2\n")
    scan = task("scan", "trivy image x\n")
    scan["spec"]["steps"][0]["image"] = "docker.io/aquasec/trivy:0.69.3@sha256:" + "1" * 64
    flow = pipeline(
        [
            {"name": "fetch", "taskRef": {"name": "ok"}},
            {"name": "lint", "taskRef": {"name": "broken"}, "runAfter": ["fetch"],
             "onError": "continue"},
            {"name": "unit-test", "taskRef": {"name": "ok"}, "runAfter": ["fetch"]},
            {"name": "scan-image", "taskRef": {"name": "scan"}, "runAfter": ["unit-test"],
             "onError": "continue"},
        ],
        final=[{"name": "summary", "taskRef": {"name": "ok"}}],
        results=[{"name": "answer", "description": "d", "value": "$(tasks.unit-test.results.n)"}],
    )  # fmt: skip
    (tmp_path / "tekton").mkdir()
    (tmp_path / "tekton" / "p.yaml").write_text(
        yaml.safe_dump_all([ok, broken, scan, flow]), encoding="utf-8"
    )
    run_file = tmp_path / "run.yaml"
    run_file.write_text(
        yaml.safe_dump(
            {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
             "metadata": {"generateName": "p-"}, "spec": {"pipelineRef": {"name": "p"}}}
        ),
        encoding="utf-8",
    )  # fmt: skip
    report = tmp_path / "run.html"
    status = run_local.main(
        [str(run_file), "--tekton-dir", str(tmp_path / "tekton"), "--no-clock",
         "--workdir", str(tmp_path / "w"), "--cache-dir", str(tmp_path / "c"),
         "--report", str(report)]
    )  # fmt: skip
    assert status == 0  # lint's failure is ignored, the scan NOT RUN is no failure
    return report


def test_the_report_is_self_contained(tmp_path: Path) -> None:
    html = make_report(tmp_path).read_text(encoding="utf-8")
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_chromium_shows_the_tasks_their_statuses_and_not_run(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    given = os.environ.get("POWERWATCH_RUN_REPORT")
    report = Path(given).resolve() if given else make_report(tmp_path)
    requests: list[str] = []
    with sync_playwright() as pw:
        # executable_path: Playwright never downloads a browser here.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            shown = {
                g.get_attribute("data-task"): g.get_attribute("data-status")
                for g in page.locator("#dag g.task").all()
            }
            if not given:
                assert shown == {
                    "fetch": "Succeeded",
                    "lint": "FailureIgnored",
                    "unit-test": "Succeeded",
                    "scan-image": "NOT RUN",
                    "summary": "Succeeded",
                }
                assert page.locator("#dag g.task[data-task='lint'] text").nth(1).is_visible()
                banner = page.locator(".banner").first.text_content() or ""
                assert "NOT RUN: scan-image" in banner
                assert page.locator("#scan").get_attribute("data-status") == "NOT RUN"
                assert "answer" in (page.locator("#results").text_content() or "")
                # Steps are collapsed until opened; opening one shows its log.
                step = page.locator("details.taskrun[data-task='fetch']")
                step.locator("summary").first.click()
                opened = step.locator("details.step[data-step='run']")
                opened.locator("summary").click()
                assert opened.locator("pre").is_visible()
                assert "hello from ok" in (opened.locator("pre").text_content() or "")
            else:
                assert shown  # the real run's DAG
                assert all(shown.values())
            shot = os.environ.get("POWERWATCH_SCREENSHOT")
            page.screenshot(path=shot or str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert [url for url in requests if not url.startswith("file://")] == []


def test_a_scan_that_ran_shows_its_counts_and_findings(tmp_path: Path) -> None:
    # Trivy cannot run here: its JSON report format (Results[].Vulnerabilities[]) is
    # written by hand to show how the report renders a scan that did run.
    from localrun.html_report import render
    from localrun.pipelinerun import RunReport
    from localrun.taskrun import Outcome

    scan = tmp_path / "reports" / "scan-image"
    scan.mkdir(parents=True)
    vuln = {"Severity": "HIGH", "VulnerabilityID": "CVE-2026-0001", "PkgName": "openssl",
            "InstalledVersion": "3.0.1", "FixedVersion": "3.0.2"}  # fmt: skip
    (scan / "trivy.json").write_text(
        json.dumps({"Results": [{"Vulnerabilities": [vuln, {**vuln, "Severity": "LOW"}]}]}),
        encoding="utf-8",
    )
    report = RunReport(
        succeeded=True,
        outcomes={"scan-image": Outcome("Succeeded", "Succeeded")},
        parents={"scan-image": set()},
    )
    html = render(report, {"tasks": [{"name": "scan-image"}]}, [], tmp_path, "r")
    assert '<table id="scan" data-status="ran"><tr><th>HIGH</th><td>1</td></tr>' in html
    assert "<td>CVE-2026-0001</td><td>openssl</td>" in html
    assert 'id="scan" data-status="NOT RUN"' not in html
