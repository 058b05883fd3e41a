"""Replay mode: the same validation from a file or stdin into the spool, with a summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from powerwatch_gateway.cli import main


def test_replay_file_spools_good_lines_and_summarises(
    tmp_path: Path, make_line, spool_lines, capsys
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "backfill.ndjson"
    source.write_bytes(
        b"\n".join(
            [
                make_line("a", 0, 1),
                b"oops",
                make_line("a", 1, 2),
                b"",
                b'{"device_id":"a"}',
                make_line("b", 0),
            ]
        )
        + b"\n"
        + make_line("b", 1)[:10]  # file ends mid-line
    )
    code = main(
        ["replay", str(source), "--data-dir", str(tmp_path / "data"), "--log-level", "error"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["accepted"] == 3
    assert summary["rejected"] == {"incomplete_line": 1, "missing_field": 1, "not_json": 1}
    assert summary["rejected_total"] == 3
    assert summary["sink"] == "spool"
    assert len(spool_lines(tmp_path / "data" / "spool")) == 3
    letters = (tmp_path / "data" / "dead-letter.ndjson").read_bytes().splitlines()
    assert [json.loads(x)["source"] for x in letters] == [f"replay:{source}"] * 3


def test_replay_from_stdin_in_a_real_process(tmp_path: Path, make_line) -> None:  # type: ignore[no-untyped-def]
    data = b"\n".join(make_line("s", i, i) for i in range(50)) + b"\n"
    result = subprocess.run(
        [sys.executable, "-m", "powerwatch_gateway", "replay", "-", "--data-dir", str(tmp_path)],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 50


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["replay", str(tmp_path / "missing.ndjson"), "--data-dir", str(tmp_path)]) == 2
    assert "missing.ndjson" in capsys.readouterr().err
