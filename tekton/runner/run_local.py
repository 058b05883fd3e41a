"""Run a Tekton Pipeline of tekton/ on this machine, from its own YAML.

    .venv/bin/python tekton/runner/run_local.py -p repo-url=file://$PWD \
        -p build-args=--build-arg=BASE_IMAGE=$(scripts/base-image.sh)

Steps run as local processes with the repository's tools (.venv/bin first on
PATH); workspaces are folders under --workdir (caches under --cache-dir survive
between runs). Exit status: 0 when Tekton would report the run Succeeded, 1 when
it would fail it, 2 for a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from localrun import resources, timing
from localrun.logbook import Logbook
from localrun.pipelinerun import PipelineRunner
from localrun.taskrun import Machine
from localrun.variables import Value

REPO = Path(__file__).resolve().parents[2]
CACHED_WORKSPACES = ("pip-cache", "trivy-cache")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_local.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tekton-dir", type=Path, default=REPO / "tekton")
    parser.add_argument("--pipeline", default="python-ci")
    parser.add_argument(
        "--source", type=Path, default=REPO, help="repository the fetch stand-in copies"
    )
    parser.add_argument("--workdir", type=Path, default=REPO / ".local" / "ci-run")
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".local" / "ci-cache")
    parser.add_argument("--cold", action="store_true", help="empty the caches first")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pipeline param (arrays: comma-separated), like tkn -p",
    )
    parser.add_argument("--max-parallel", type=int, default=3)
    parser.add_argument("--timings-json", type=Path, help="also write the timings here")
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        found = resources.load(args.tekton_dir)
        if args.cold and args.cache_dir.exists():
            shutil.rmtree(args.cache_dir)
        if args.workdir.exists():
            shutil.rmtree(args.workdir)
        spec = found.pipelines.get(args.pipeline, {}).get("spec") or {}
        dirs: dict[str, Path] = {}
        for workspace in spec.get("workspaces") or []:
            name = workspace["name"]
            base = args.cache_dir if name in CACHED_WORKSPACES else args.workdir / "workspaces"
            dirs[name] = (base / name).resolve()
            dirs[name].mkdir(parents=True, exist_ok=True)
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
        log = Logbook(clock=not args.no_clock)  # the clock starts with the run, not the clean-up
        runner = PipelineRunner(
            found,
            args.pipeline,
            params_of(args.param),
            dirs,
            (args.workdir / "taskruns").resolve(),
            machine,
            log,
            args.max_parallel,
        )
    except (ValueError, OSError) as error:
        print(f"run_local: {error}", file=sys.stderr)
        return 2
    log.note(f"PipelineRun {args.pipeline}-local: pipeline {args.pipeline} from {args.tekton_dir}")
    log.note("params: " + " ".join(f"{k}={v}" for k, v in runner.params.items()))
    report = runner.run()
    spent = timing.of_run(report)
    log.note("")
    log.note(f"PipelineRun {args.pipeline}-local {'Succeeded' if report.succeeded else 'Failed'}")
    for name, outcome in report.outcomes.items():
        shown = " ".join(f"{k}={v}" for k, v in outcome.results.items())
        log.note(f"  {name:<14} {outcome.status:<10} {outcome.reason}  {shown}".rstrip())
    log.note("")
    for line in timing.table(spent):
        log.note(line)
    if args.timings_json:
        args.timings_json.parent.mkdir(parents=True, exist_ok=True)
        args.timings_json.write_text(json.dumps(spent.__dict__, indent=2), encoding="utf-8")
    return 0 if report.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
