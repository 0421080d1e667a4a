"""Schemathesis against the live OpenAPI spec: generated requests for every operation,
with a valid token; no answer is a 5xx, and every answer matches the spec (status code,
content type, body schema). A bounded number of examples per operation keeps it quick."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ALICE, Site

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 15  # per operation


@pytest.fixture(scope="module")
def fuzz_token(site: Site) -> str:
    return site.token(ALICE, "--name", "schemathesis")


def test_every_answer_matches_the_spec(site: Site, fuzz_token: str) -> None:
    # schemathesis' pytest plugin does not load under this pytest; its strategies are run
    # one operation at a time instead, with hypothesis directly
    site.mail("zoe@customer.example", "Something to look at.", subject="For the fuzzer")
    schema = schemathesis.openapi.from_url(f"{site.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def call(case: object) -> None:
            case.call_and_validate(base_url=site.url, headers=headers, checks=CHECKS)  # type: ignore[attr-defined]

        call()
