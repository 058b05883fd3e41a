"""schemathesis against the OpenAPI document: generated requests for every operation
(about 3,200 per run, counted once: up to 1,000 examples per parametrized operation
plus the coverage phase; about 80 s here), no 5xx, every response (status, content
type, headers, body) as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from powerwatch_api import Settings, create_app
from powerwatch_api.stores.local import LocalStore
from schemathesis.config import SchemathesisConfig

from .conftest import make_engine

# Built at collection: schemathesis needs the document to generate the test cases.
APP = create_app(Settings(), store=LocalStore(engine=make_engine()))
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # Rules the document cannot express (from < to, the maximum window, bins per
            # window, UTC-only offsets) make some schema-valid requests a correct 400.
            "positive_data_acceptance": {"enabled": False},
            # 414: an absurdly long query string is refused before it is parsed.
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 414, 415, 422, 429]
            },
        }
    }
)
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", APP, config=CONFIG)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate()
