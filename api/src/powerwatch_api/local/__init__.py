"""Local mode: the embedded stand-ins for Event Hubs -> ADX, and the one-command stack.

- `ingest`: the gateway's spool directory -> LocalKusto (RawReadings + update policies),
  batch by batch, at least once, de-duplicated by ReadingId.
- `serve`: the API and that ingestion in one process, sharing one LocalKusto (DuckDB
  allows one writing process per database file).
- `stack`: `make up` — dev certificates, driver-sim, gateway, `serve`; Ctrl-C stops all.
"""
