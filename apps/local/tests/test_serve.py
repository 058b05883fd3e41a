"""`serve` on a database it cannot open: a clear error and exit 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from powerwatch_local import serve


def test_a_database_that_cannot_be_opened_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERWATCH_API_AUTH", "none")
    monkeypatch.setenv("POWERWATCH_KUSTO_CLUSTER_URL", "")
    not_a_file = tmp_path / "db"
    not_a_file.mkdir()  # what DuckDB cannot open, like a file on a read-only mount
    code = serve.main(["--spool", str(tmp_path / "spool"), "--database", str(not_a_file)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot open the database {not_a_file} for writing" in err
    assert "Traceback" not in err
