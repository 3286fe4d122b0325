"""An independent client, built only from /api/schema/: it knows operation ids, not URLs.

It lists failed messages, resends one, and updates a template — what an integrator's generated
client does — so the schema, not our URL conf, is what is being trusted here.
"""

import re

import pytest
from rest_framework.test import APIClient

from messaging.models import Message


class SchemaClient:
    """Calls operations by operationId, checking parameters against the schema first."""

    def __init__(self, schema: dict, http: APIClient):
        self.http = http
        self.operations = {
            operation["operationId"]: (method, path, operation)
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        }

    def __call__(self, operation_id: str, *, body=None, **params):
        method, path, operation = self.operations[operation_id]
        declared = {p["name"]: p for p in operation.get("parameters", [])}
        unknown = set(params) - set(declared)
        assert not unknown, f"{operation_id} declares no parameter {unknown}"
        missing = {n for n, p in declared.items() if p.get("required") and n not in params}
        assert not missing, f"{operation_id} needs {missing}"
        url = re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)
        query = {n: v for n, v in params.items() if declared[n]["in"] == "query"}
        if query:
            url += "?" + "&".join(f"{n}={v}" for n, v in query.items())
        assert ("requestBody" in operation) == (body is not None), operation_id
        response = getattr(self.http, method)(url, body, format="json")
        assert str(response.status_code) in operation["responses"], response.status_code
        return response


@pytest.fixture
def generated_client(api):
    schema = APIClient().get("/api/schema/?format=json").json()
    return SchemaClient(schema, api)


def test_a_client_generated_from_the_schema_lists_resends_and_updates(
    generated_client, failed_message, sms_template, django_capture_on_commit_callbacks, daytime
):
    failed = generated_client("messages_list", status="failed").json()["results"]
    assert [m["id"] for m in failed] == [failed_message.pk]

    with django_capture_on_commit_callbacks():
        resent = generated_client("messages_resend", message_id=failed[0]["id"])
    assert resent.status_code == 201
    again = generated_client("messages_retrieve", message_id=resent.json()["id"]).json()
    assert (again["resend_of"], again["status"]) == (failed_message.pk, "pending")
    assert Message.objects.filter(resend_of=failed_message).count() == 1

    templates = generated_client("templates_list", kind="invoice_issued", channel="sms").json()
    new_body = "Hi {{ first_name }}, invoice {{ invoice_number }}: {{ online_invoice_url }}"
    updated = generated_client(
        "templates_partial_update", template_id=templates[0]["id"], body={"body": new_body}
    )
    assert updated.status_code == 200
    sms_template.refresh_from_db()
    assert sms_template.body == new_body
