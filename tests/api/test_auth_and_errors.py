"""Who may call, and how every refusal looks: {"error": {"code", "message", "fields"}}."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from api_tokens.api import api_exception_handler
from api_tokens.services import api_token_create
from tests.api.conftest import client_with_token


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_no_credentials_is_401_with_a_bearer_challenge(db):
    response = APIClient().get("/api/v1/messages/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert _error(response)["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer dw_not-a-real-token", "Bearer", "Bearer a b"])
def test_a_bad_token_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/messages/")
    assert response.status_code == 401
    assert _error(response)["code"] == "authentication_failed"


def test_the_browser_session_works_for_the_current_tenant(staff_client, sms_template):
    response = staff_client.get("/api/v1/templates/")
    assert response.status_code == 200
    assert sms_template.pk in {t["id"] for t in response.json()}


def test_a_session_must_send_the_csrf_token_to_change_anything(staff_a, sms_template):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_a)
    response = client.patch(f"/api/v1/templates/{sms_template.pk}/", {"is_active": False})
    assert response.status_code == 403
    assert "CSRF" in _error(response)["message"]


def test_someone_in_no_tenant_is_refused_with_403(client, outsider):
    client.force_login(outsider)
    response = client.get("/api/v1/messages/")
    assert response.status_code == 403
    assert _error(response)["code"] == "permission_denied"


def test_an_unknown_endpoint_is_a_json_404(api):
    response = api.get("/api/v1/invoices/")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(api):
    response = api.delete("/api/v1/messages/")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"


def test_invalid_filters_are_400_naming_each_field(api):
    response = api.get("/api/v1/messages/?status=lost&created_after=yesterday")
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"status", "created_after"}


def test_malformed_json_is_a_400(api):
    response = api.generic(
        "POST", "/api/v1/templates/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "parse_error"


def test_a_body_that_is_not_json_is_415(api):
    response = api.post("/api/v1/templates/", "kind=reminder", content_type="text/plain")
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_each_token_has_its_own_rate_limit(settings, tenant_a, staff_a, api):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min"},
    }
    for _ in range(3):
        assert api.get("/api/v1/templates/").status_code == 200
    response = api.get("/api/v1/templates/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert _error(response)["code"] == "throttled"
    other = client_with_token(api_token_create(tenant=tenant_a, user=staff_a, name="Other")[1])
    assert other.get("/api/v1/templates/").status_code == 200


def test_the_rate_limit_is_shared_through_redis_when_there_is_one(settings, api):
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/7",
        },
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/min"},
    }
    from django.core.cache import caches

    caches["api_throttle"].clear()
    statuses = [api.get("/api/v1/templates/").status_code for _ in range(3)]
    caches["api_throttle"].clear()
    assert statuses == [200, 200, 429]


def test_a_models_error_about_no_field_in_particular_is_the_message():
    error = ValidationError({NON_FIELD_ERRORS: ["Pick one template per rule."]})
    response = api_exception_handler(error, {})
    assert response.status_code == 400
    assert response.data == {
        "error": {"code": "invalid", "message": "Pick one template per rule.", "fields": {}}
    }


def _database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("debug", [False, True], ids=["production", "runserver"])
def test_while_the_database_is_down_the_api_answers_its_json_503_with_retry_after(
    api, settings, debug
):
    settings.DEBUG = debug

    with connection.execute_wrapper(_database_down):
        response = api.get("/api/v1/messages/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert _error(response)["code"] == "database_unavailable"
