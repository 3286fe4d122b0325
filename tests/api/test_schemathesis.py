"""Fuzz the API from its own schema: no 500s, and every response as the schema describes it.

schemathesis reads /api/schema/ from the Django WSGI app and calls every operation with
generated data, as the owner of tenant A (who may call everything) with an API token, against a
tenant that has messages, templates and an invoice to find. The examples are bounded so the
suite stays fast.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_tokens.services import api_token_create
from snapshots.models import InvoiceSnapshot
from tests.api.conftest import message_create

# Per operation and generation mode; enough to reach every branch of input handling.
EXAMPLES = 10
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The real WSGI app, keeping the test's database connection (and its transaction) open
    across requests — as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tenant_with_data(tenant_a, failed_message):
    message_create(tenant_a, invoice_id="inv-1")
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", invoice_id="inv-1", type="ACCREC",
        status="AUTHORISED", number="INV-0001", contact_id="c-1",
    )  # fmt: skip
    return tenant_a


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_every_generated_request_as_its_schema_says(
    wsgi_app, tenant_with_data, owner_a, mode
):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    _, raw = api_token_create(tenant=tenant_with_data, user=owner_a, name="Fuzzer")
    headers = {"Authorization": f"Bearer {raw}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
