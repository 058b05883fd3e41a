"""`powerwatch-gateway [run] [options]` and `powerwatch-gateway replay FILE|- [options]`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

import msgspec

from powerwatch_gateway import __version__, log_setup
from powerwatch_gateway.settings import Settings, SettingsError, add_arguments, load
from powerwatch_gateway.spool import SpoolError

PROG = "powerwatch-gateway"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Powerwatch Driver gateway. "
        "Every option can also come from the environment as GATEWAY_<NAME>.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="connect to Driver and deliver readings (default)")
    add_arguments(run)
    replay = commands.add_parser(
        "replay", help="validate NDJSON from a file or stdin into the sink"
    )
    replay.add_argument("source", metavar="FILE|-", help="NDJSON file, or - for stdin")
    add_arguments(replay)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0] not in ("run", "replay", "-h", "--help", "--version"):
        args_list.insert(0, "run")
    args = build_parser().parse_args(args_list)
    options = {k: v for k, v in vars(args).items() if k not in ("command", "source")}
    try:
        settings = load(os.environ, options)
    except SettingsError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    log_setup.configure(settings.log_level)
    try:
        if args.command == "replay":
            return asyncio.run(_replay(settings, args.source))
        asyncio.run(_serve(settings))
    except SpoolError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: Settings) -> None:
    from powerwatch_gateway.service import Gateway

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await Gateway(settings).serve(stop)


async def _replay(settings: Settings, source: str) -> int:
    from powerwatch_gateway.replay import replay

    summary = await replay(settings, source)
    sys.stdout.write(msgspec.json.encode(summary.as_dict()).decode() + "\n")
    return 0 if summary.left_in_spool == 0 else 3
