"""checkov's Bicep framework over infra/: no failure, and every skip carries its reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from infra_testkit import INFRA, copy_infra, replace_once

Checkov = Callable[[Path], dict[str, Any]]
SKIP = re.compile(r"//\s*checkov:skip=(CKV2?_AZURE_\d+):(.*)")
# Broken copies, each one edit away from infra/, checked in one checkov run.
BROKEN = {
    "skip-removed": ("modules/spool-storage.bicep", "checkov:skip=CKV_AZURE_3:", ""),
    "purge-protection-off": ("modules/keyvault.bicep", "enablePurgeProtection: true", ""),
}


@pytest.fixture(scope="module")
def report(checkov: Checkov) -> dict[str, Any]:
    return checkov(INFRA)


@pytest.fixture(scope="module")
def broken_failures(
    checkov: Checkov, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, set[str]]:
    parent = tmp_path_factory.mktemp("checkov")
    for name, (file, old, new) in BROKEN.items():
        copy_infra(parent / name, ignore=("build", "checks"))
        replace_once(parent / name / file, old, new)
    failed: dict[str, set[str]] = {name: set() for name in BROKEN}
    for check in checkov(parent)["results"]["failed_checks"]:
        failed[check["file_path"].strip("/").split("/")[0]].add(check["check_id"])
    return failed


def test_no_failed_check(report: dict[str, Any]) -> None:
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
    assert summary["passed"] >= 15
    assert summary["resource_count"] >= 40


def test_every_skip_is_justified_next_to_its_resource(report: dict[str, Any]) -> None:
    skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
    reasons = {
        check: reason.strip()
        for path in INFRA.rglob("*.bicep")
        for check, reason in SKIP.findall(path.read_text(encoding="utf-8"))
    }
    assert skipped == set(reasons)
    assert all(len(reason.split()) >= 5 for reason in reasons.values()), reasons


def test_removing_a_skip_fails(broken_failures: dict[str, set[str]]) -> None:
    assert broken_failures["skip-removed"] == {"CKV_AZURE_3"}


def test_key_vault_without_purge_protection_fails(broken_failures: dict[str, set[str]]) -> None:
    # CKV_AZURE_110: purge protection; CKV_AZURE_42: recoverable (soft delete + purge protection).
    assert broken_failures["purge-protection-off"] == {"CKV_AZURE_110", "CKV_AZURE_42"}
