"""The one-machine platform: the stand-ins for Event Hubs -> ADX, and `make up`.

- `stack`: `make up` — dev certificates, driver-sim, gateway, `serve`; Ctrl-C stops all
  (child processes supervised by `processes`).
- `ingest`: the gateway's spool directory -> LocalKusto (RawReadings + update policies),
  batch by batch, at least once, de-duplicated by ReadingId.
- `serve`: the API and that ingestion in one process, sharing one LocalKusto (DuckDB
  allows one writing process per database file).
- `devcerts`: throwaway certificates for driver-sim and the gateway's mutual TLS.
- `kusto_endpoint`: LocalKusto behind the Kusto REST v2 protocol, so KustoStore is
  tested with the real azure-kusto-data client over HTTP.

Depends on the gateway, the API and kusto; nothing depends on it.
"""
