"""Detection throughput on the embedded engine vs hand-written DuckDB SQL, same run, same data.

10 million readings (default) in LocalKusto's RawReadings; then
  project : DetectPowerEvents() — the update-policy query, KQL translated by duckdb-kql
  baseline: the same rule written by hand in DuckDB SQL
both materialise their events into a table. Prints rows/s for both and the ratio.
Target: under 2 s for 10 M readings and within 2x of the hand-written SQL.

    .venv/bin/python bench/bench_detection.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import time

from powerwatch_kusto import LocalKusto

# The rule, by hand: valid readings (ClassifyReadings), threshold = per-device override
# else the default (DeviceThresholds), over = strictly greater (DetectPowerEvents).
BASELINE = """
CREATE OR REPLACE TEMP TABLE baseline_events AS
WITH thresholds(DeviceId, ThresholdW) AS (
    VALUES ('drv-lab-01', 3000.0), ('drv-hv-01', 8000.0)
)
SELECT r.DeviceId, r.Timestamp, r.Voltage, r.Current, r.Seq, r.ReadingId, r.ReceivedAt,
       r.EnqueuedTime, r.IngestionTime, r.Voltage * r.Current AS PowerW,
       coalesce(t.ThresholdW, 5000.0) AS ThresholdW,
       r.Voltage * r.Current - coalesce(t.ThresholdW, 5000.0) AS ExcessW
FROM RawReadings r LEFT JOIN thresholds t ON r.DeviceId = t.DeviceId
WHERE r.ReadingId <> '' AND r.DeviceId <> '' AND r.Timestamp IS NOT NULL
  AND isfinite(r.Voltage) AND isfinite(r.Current)
  AND r.Voltage * r.Current > coalesce(t.ThresholdW, 5000.0)
"""

# 100 devices at 1 Hz; ~2 % of readings over 5000 W, a few invalid.
FILL = """
INSERT INTO RawReadings
SELECT 'drv-' || lpad(CAST(i % 100 AS VARCHAR), 2, '0') AS DeviceId,
       TIMESTAMP '2026-11-25 00:00:00' + to_seconds(i // 100) AS Timestamp,
       CASE WHEN i % 997 = 0 THEN 'NaN'::DOUBLE ELSE 225.0 + (i % 11) END AS Voltage,
       CASE WHEN i % 50 = 0 THEN 24.0 ELSE 4.0 + (i % 7) END AS Current,
       i AS Seq, 'r' || i AS ReadingId,
       NULL, NULL, TIMESTAMP '2026-11-26 00:00:00'
FROM range({rows}) t(i)
"""


def timed(run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    kusto = LocalKusto()
    con = kusto._connection  # the engine's own DuckDB database, to load data in bulk
    con.execute(FILL.format(rows=args.rows))
    sql, _ = kusto.translate("DetectPowerEvents()")
    project_sql = f"CREATE OR REPLACE TEMP TABLE project_events AS {sql}"

    project, baseline = [], []
    for _ in range(args.repeat):  # interleaved, best of N: same machine state for both
        project.append(timed(lambda: con.execute(project_sql)))
        baseline.append(timed(lambda: con.execute(BASELINE)))
    same = con.execute(
        "SELECT count(*) FROM (SELECT * FROM project_events EXCEPT ALL "
        "SELECT * FROM baseline_events)"
    ).fetchone()
    (events,) = con.execute("SELECT count(*) FROM project_events").fetchone() or (0,)
    (expected,) = con.execute("SELECT count(*) FROM baseline_events").fetchone() or (0,)
    if same != (0,) or events != expected:
        raise SystemExit("project and baseline disagree")

    best_project, best_baseline = min(project), min(baseline)
    print(f"readings              : {args.rows:,} ({events:,} events, identical in both)")
    print(f"DetectPowerEvents()   : {best_project:.3f} s  {args.rows / best_project:,.0f} rows/s")
    print(f"hand-written DuckDB   : {best_baseline:.3f} s  {args.rows / best_baseline:,.0f} rows/s")
    print(f"ratio project/baseline: {best_project / best_baseline:.2f}x  (target < 2x, < 2 s)")
    kusto.close()


if __name__ == "__main__":
    main()
