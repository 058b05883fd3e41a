"""checkov's Bicep framework over infra/: no failure, and every skip carries its reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra_testkit import INFRA, replace_once

Checkov = Callable[[Path], dict[str, Any]]
SKIP = re.compile(r"//\s*checkov:skip=(CKV2?_AZURE_\d+):(.*)")


def test_no_failed_check(checkov: Checkov) -> None:
    report = checkov(INFRA)
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
    assert summary["passed"] >= 15
    assert summary["resource_count"] >= 40


def test_every_skip_is_justified_next_to_its_resource(checkov: Checkov) -> None:
    skipped = {c["check_id"] for c in checkov(INFRA)["results"]["skipped_checks"]}
    reasons = {
        check: reason.strip()
        for path in INFRA.rglob("*.bicep")
        for check, reason in SKIP.findall(path.read_text(encoding="utf-8"))
    }
    assert skipped == set(reasons)
    assert all(len(reason.split()) >= 5 for reason in reasons.values()), reasons


def test_removing_a_skip_fails(checkov: Checkov, infra_copy: Path) -> None:
    replace_once(infra_copy / "modules/spool-storage.bicep", "checkov:skip=CKV_AZURE_3:", "")
    report = checkov(infra_copy)
    assert [c["check_id"] for c in report["results"]["failed_checks"]] == ["CKV_AZURE_3"]


def test_public_key_vault_fails(checkov: Checkov, infra_copy: Path) -> None:
    replace_once(infra_copy / "modules/keyvault.bicep", "enablePurgeProtection: true", "")
    report = checkov(infra_copy)
    assert "CKV_AZURE_110" in {c["check_id"] for c in report["results"]["failed_checks"]}
