"""Shared fixtures of the one-machine platform's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from powerwatch_kusto import LocalKusto


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalKusto]:
    """An empty in-memory LocalKusto with the deployed schema and functions."""
    engine = LocalKusto()
    yield engine
    engine.close()
