"""The chaos run on a small scale: the same account as `make chaos`, in about a minute.

bench/chaos.py runs make up's real processes (driver-sim, gateway, serve) with every kind
of fault at once; here with 20 devices for one minute and smaller counts. Nothing durable
may be missing or stored twice, the events must equal their plain recomputation, every
adversarial line must be in the dead-letter file with its reason, nothing may crash and
the API must give no 5xx outside the restart windows. The full-disk and read-only faults
need a tmpfs (root); without root the run says they did not run, and so does this test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMALL = [
    "--minutes", "1", "--devices", "20", "--drops", "12", "--silences", "1",
    "--adversarial", "3000", "--gateway-kills", "3", "--serve-kills", "3", "--replays", "1",
    "--disk-fulls", "1", "--torn-tails", "1", "--read-only-seconds", "4", "--seed", "5",
]  # fmt: skip


@pytest.mark.slow
def test_a_small_chaos_run_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "account.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "chaos.py"), *SMALL, "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.exists(), done.stdout + done.stderr
    account = json.loads(out.read_text())
    report = done.stdout + done.stderr
    # Every reading made durable is stored exactly once; the rest are "not received".
    assert account["durable_distinct"] > 0, report
    assert account["missing_from_store"] == 0, report
    assert account["stored_not_durable"] == 0, report
    assert account["stored_twice"] == 0, report
    assert account["stored_distinct"] == account["durable_distinct"], report
    assert account["lost_by_live_gateway"] == 0, report
    assert account["durable_distinct"] + account["not_received_total"] == account["emitted"]
    # Events equal their recomputation from the stored raw readings.
    assert account["events_stored"] > 0, report
    assert account["events_mismatch"] == 0, report
    assert account["events_stored_twice"] == 0, report
    # Every adversarial line is a dead letter with its reason, or went to a killed gateway.
    assert account["adversarial_sent"] == 3000, report
    assert account["adversarial_wrong_reason"] == 0, report
    assert account["adversarial_lost"] == 0, report
    assert account["adversarial_in_dead_letter"] + account["adversarial_not_received"] == 3000
    assert account["cuts_lost"] == 0, report
    assert account["dead_letters_unexplained"] == 0, report
    assert account["drops_mid_line"] + account["drops_at_boundary"] == 12, report
    # Nothing crashed; the API gave no 5xx outside the documented restart windows.
    assert account["crashes"] == 0, report
    assert account["tracebacks_in_logs"] == 0, report
    assert account["api_requests"] > 0, report
    assert account["api_5xx_outside_restart_windows"] == 0, report
    faults = account["faults"]
    kills = faults.get("kill -9 gateway", 0) + faults.get("kill -9 gateway + torn tail", 0)
    assert kills == 3, report
    assert faults.get("kill -9 serve + replay of the spool") == 1, report
    if os.geteuid() == 0:  # tmpfs mounts: the disk and database faults ran
        assert faults.get("spool disk full") == 1, report
        assert faults.get("read-only database") == 1, report
        assert account["read_only"] == ["serve refused to start (exit 1)"], report
    assert account["ok"] is True, report
    assert done.returncode == 0, report
