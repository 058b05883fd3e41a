"""Run a PipelineRun of tekton/ on this machine, from its own YAML.

    .venv/bin/python tekton/runner/run_local.py tekton/runs/python-ci-run.yaml \\
        -p build-args=--build-arg=BASE_IMAGE=$(scripts/base-image.sh) \\
        --report .local/ci-run.html

The PipelineRun file gives the Pipeline, its params, workspaces, pod template and
timeouts; -p overrides a param as `tkn -p` would. Steps run as local processes with
the repository's tools (.venv/bin first on PATH). Workspaces are folders: a
volumeClaimTemplate or emptyDir a fresh one under --workdir, a persistentVolumeClaim
one under --cache-dir named by its claim (kept between runs). Exit status: 0 when
Tekton would report the run Succeeded, 1 when it would fail it, 2 for a usage or
configuration error (what the controller would refuse before starting).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
# The static checks hold the rules the controller applies (tektoncheck.cluster).
sys.path.insert(1, str(REPO / "tekton" / "checks"))

from localrun import html_report, resources, timing  # noqa: E402
from localrun.logbook import Logbook  # noqa: E402
from localrun.pipelinerun import PipelineRunner, RunReport  # noqa: E402
from localrun.taskrun import Machine  # noqa: E402
from localrun.variables import Value  # noqa: E402

DEFAULT_RUN = REPO / "tekton" / "runs" / "python-ci-run.yaml"
COSCHEDULE = ("workspaces", "pipelineruns", "isolate-pipelinerun", "disabled")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_local.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", nargs="?", type=Path, default=DEFAULT_RUN, help="PipelineRun file")
    parser.add_argument("--tekton-dir", type=Path, default=REPO / "tekton")
    parser.add_argument(
        "--source", type=Path, default=REPO, help="repository the fetch stand-in copies"
    )
    parser.add_argument("--workdir", type=Path, default=REPO / ".local" / "ci-run")
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".local" / "ci-cache")
    parser.add_argument("--cold", action="store_true", help="empty the cached claims first")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a param of the run (arrays: comma-separated), like tkn -p",
    )
    parser.add_argument(
        "--coschedule",
        choices=COSCHEDULE,
        default="workspaces",
        help="the cluster's feature-flags coschedule (default: Tekton's default)",
    )
    parser.add_argument("--max-parallel", type=int, default=3)
    parser.add_argument("--timings-json", type=Path, help="also write the timings here")
    parser.add_argument("--report", type=Path, help="write the HTML run report here")
    parser.add_argument("--no-clock", action="store_true", help="no elapsed-time column in the log")
    return parser.parse_args(argv)


def params_of(pairs: list[str]) -> dict[str, Value]:
    params: dict[str, Value] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"-p expects NAME=VALUE, got {pair!r}")
        params[name] = value
    return params


def load_run(path: Path) -> dict[str, Any]:
    """The one PipelineRun of a file."""
    runs = [
        doc
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("kind") == "PipelineRun"
    ]
    if len(runs) != 1:
        raise ValueError(f"{path}: expected one PipelineRun, found {len(runs)}")
    spec = runs[0].get("spec") or {}
    if "pipelineRef" not in spec or "name" not in spec["pipelineRef"]:
        raise ValueError(f"{path}: the runner needs spec.pipelineRef.name")
    return runs[0]


def workspace_dirs(
    bindings: list[dict[str, Any]], workdir: Path, cache_dir: Path
) -> dict[str, Path]:
    """A folder for every workspace binding of the run, as its volume source says."""
    dirs: dict[str, Path] = {}
    for binding in bindings:
        name = str(binding["name"])
        if "persistentVolumeClaim" in binding:
            base = cache_dir / str(binding["persistentVolumeClaim"]["claimName"])
        elif "volumeClaimTemplate" in binding:
            base = workdir / "workspaces" / name
        elif "emptyDir" in binding:
            base = workdir / "emptydir" / name
        else:
            raise ValueError(f"workspace '{name}': only PVCs and emptyDir have a local meaning")
        dirs[name] = (base / str(binding.get("subPath", ""))).resolve()
        dirs[name].mkdir(parents=True, exist_ok=True)
    return dirs


def summary(report: RunReport, run_name: str) -> list[str]:
    """The run's summary: what did not run first, then statuses and results."""
    lines = [
        f"NOT RUN: {name} ({report.outcomes[name].reason}): no results; never counted as a pass"
        for name in report.not_run()
    ]
    lines.append(f"PipelineRun {run_name} {'Succeeded' if report.succeeded else 'Failed'}")
    for name, outcome in report.outcomes.items():
        status = "NOT RUN" if name in report.not_run() else outcome.status
        shown = " ".join(f"{k}={v}" for k, v in outcome.results.items())
        if name in report.not_run():
            shown = "results: NOT RUN"
        lines.append(f"  {name:<14} {status:<10} {outcome.reason}  {shown}".rstrip())
    lines.append("pipeline results:")
    lines += [f"  {name:<16} {value}" for name, value in report.results.items()]
    lines += [f"  {name:<16} (not emitted: {why})" for name, why in report.omitted.items()]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run = load_run(args.run)
        spec = run["spec"]
        found = resources.load(args.tekton_dir)
        if args.cold and args.cache_dir.exists():
            shutil.rmtree(args.cache_dir)
        if args.workdir.exists():
            shutil.rmtree(args.workdir)
        bindings = spec.get("workspaces") or []
        dirs = workspace_dirs(bindings, args.workdir, args.cache_dir)
        machine = Machine(
            tool_path=":".join(
                [
                    str(Path(sys.executable).parent),
                    "/usr/local/bin",
                    "/usr/bin",
                    "/bin",
                    "/usr/sbin",
                    "/sbin",
                ]
            ),
            source_repo=args.source.resolve(),
            build_script=(REPO / "scripts" / "build-image.sh"),
        )
        pipeline = str(spec["pipelineRef"]["name"])
        run_name = (run.get("metadata") or {}).get("generateName", f"{pipeline}-") + "local"
        log = Logbook(clock=not args.no_clock)  # the clock starts with the run, not the clean-up
        runner = PipelineRunner(
            found,
            pipeline,
            params_of(args.param),
            dirs,
            (args.workdir / "taskruns").resolve(),
            machine,
            log,
            args.max_parallel,
            run_params={p["name"]: p.get("value") for p in spec.get("params") or []},
            run_workspaces={str(b["name"]): b for b in bindings},
            coschedule=args.coschedule,
            run_name=run_name,
        )
    except (ValueError, OSError, KeyError, yaml.YAMLError) as error:
        print(f"run_local: {error}", file=sys.stderr)
        return 2
    template = (spec.get("taskRunTemplate") or {}).get("podTemplate") or {}
    log.note(f"PipelineRun {run_name} from {args.run}: pipeline {pipeline} from {args.tekton_dir}")
    log.note("params: " + " ".join(f"{k}={v}" for k, v in runner.params.items()))
    log.note(f"coschedule: {args.coschedule}; timeouts: {spec.get('timeouts') or {}}")
    log.note(
        f"pod template {template.get('securityContext') or {}}: not applied locally"
        " (steps run as this machine's user)"
    )
    report = runner.run()
    spent = timing.of_run(report)
    log.note("")
    for line in summary(report, run_name):
        log.note(line)
    log.note("")
    for line in timing.table(spent):
        log.note(line)
    if args.timings_json:
        args.timings_json.parent.mkdir(parents=True, exist_ok=True)
        args.timings_json.write_text(json.dumps(spent.__dict__, indent=2), encoding="utf-8")
    if args.report:
        outputs = dirs.get("shared-data") or args.workdir
        html_report.write(args.report, report, runner.spec, log.entries, outputs, run_name)
    return 0 if report.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
