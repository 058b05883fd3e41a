"""The API and local ingestion in ONE process, sharing one LocalKusto.

Why one process: DuckDB lets a single process open a database file for writing, and a
reader in another process cannot open it while that writer holds it. The API must see
what ingestion writes, so both live here: ingestion on a background thread (its own
DuckDB cursor, one transaction per batch), the API's queries on worker threads (a cursor
each, reading the last committed batch). Killing this process (even kill -9) stops both;
on restart ingestion resumes from its spool checkpoint and de-duplication by ReadingId
absorbs the batch that was committed but not yet checkpointed (docs/local-mode.md).

    python -m powerwatch_local.serve --spool .local/gateway/spool \\
        --database .local/powerwatch.duckdb --port 8000

The rest of the API's settings come from the environment as for `python -m powerwatch_api`
(POWERWATCH_API_*); a Kusto cluster URL is refused here: local mode is the embedded store.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import structlog
import uvicorn
from powerwatch_api.app import create_app
from powerwatch_api.server import UVICORN_OPTIONS, tune_process
from powerwatch_api.settings import Settings, SettingsError, is_loopback_host
from powerwatch_api.stores.local import LocalStore
from powerwatch_kusto import LocalKusto

from powerwatch_local.ingest import (
    IngestThread,
    add_ingest_arguments,
    check_ingest_arguments,
    make_ingestor,
)

log = structlog.get_logger("powerwatch_local.serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m powerwatch_local.serve",
        description="Serve the API over the local engine while ingesting the gateway's spool.",
    )
    add_ingest_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port, 0 = any free")
    parser.add_argument("--port-file", type=Path, help="write the bound port here")
    return parser


def bind(host: str, port: int) -> socket.socket:
    """Bind before serving, so port 0 resolves and the port file is right."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_ingest_arguments(parser, args)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if settings.store.uses_kusto:
        parser.error("POWERWATCH_KUSTO_CLUSTER_URL is set: local mode serves the embedded store")
    if not is_loopback_host(args.host) and settings.auth.mode == "none":
        parser.error(f"--host {args.host} is not loopback: set POWERWATCH_API_AUTH first")
    settings = dataclasses.replace(
        settings,
        server=dataclasses.replace(settings.server, host=args.host, port=args.port),
        store=dataclasses.replace(settings.store, local_database=args.database),
    )
    try:
        engine = LocalKusto(database=args.database)
    except duckdb.Error as error:  # read-only file system, no space, held by another process
        print(f"cannot open the database {args.database} for writing: {error}", file=sys.stderr)
        return 1
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    ingest = IngestThread(make_ingestor(args, engine), args.poll)
    try:
        store = LocalStore(args.database, engine=engine)
        app = create_app(settings, store=store)
        ingest.start()
        if args.port_file:
            args.port_file.write_text(str(port), encoding="utf-8")
        log.info("local_serve_started", port=port, spool=str(args.spool), database=args.database)
        config = uvicorn.Config(app, **UVICORN_OPTIONS)  # type: ignore[arg-type]
        # This entry point owns the process's signals: uvicorn re-raises the stopping
        # signal after its graceful shutdown, to the handler installed before it, and the
        # default SIGTERM handler would end the process before `finally` below stops
        # ingestion between batches and closes the database.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)
        tune_process(settings.server)  # POWERWATCH_API_GIL_SWITCH_INTERVAL_S, _GC_FREEZE
        uvicorn.Server(config).run(sockets=[sock])  # returns on SIGINT / SIGTERM
    finally:
        ingest.stop()
        log.info("local_serve_stopped", **ingest.ingestor.stats.as_dict())
        engine.close()
        sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
