"""What every endpoint of the REST API shares: who is calling, for which tenant, how fast, and how
errors look.

- Authentication: `Authorization: Bearer <token>` (api_tokens.ApiToken, bound to one tenant), or
  the browser's session, which acts for the session's current tenant
  (connections.tenancy.resolve_membership) and needs a CSRF token to write.
- Every view is a TenantAPIView: `request.tenant` is set before the view runs, and views read
  objects only through connections.tenancy.get_for_tenant, so another tenant's id is a 404.
- Errors: one shape everywhere, `{"error": {"code", "message", "fields"}}`.
- Throttling: per token (per user for a session), so one integrator's loop slows only itself.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.fields import get_error_detail
from rest_framework.pagination import CursorPagination
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from api_tokens.access import IsTenantMember, api_membership

# --- the base of every view ---------------------------------------------------------------------


# No docstring: drf-spectacular would show a base class's docstring as the description of every
# endpoint that has none of its own. Each operation says what it does with extend_schema.
class TenantAPIView(APIView):
    tenant_scoped = True  # lets tests/tenant_urls.py count every /api/v1/ view
    permission_classes = [IsTenantMember]

    def perform_authentication(self, request):
        # Here rather than before DRF's initial(): by now the response's renderer is chosen, so a
        # failing lookup (the database away) reaches DatabaseUnavailableMiddleware as itself;
        # earlier, DRF (under DEBUG) turned it into an AttributeError and a 500.
        super().perform_authentication(request)
        request.membership = api_membership(request) if request.user.is_authenticated else None
        request.tenant = request.membership.tenant if request.membership else None


# --- pages -------------------------------------------------------------------------------------


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pages stay correct while new rows arrive (an offset page would shift under them)."""

    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- errors ------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state of the resource."
    default_code = "conflict"


NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
# DRF's key, and Django's (a model's clean() raising an error about no field in particular).
NON_FIELD_KEYS = (NON_FIELD, NON_FIELD_ERRORS)


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {text}" for key, value in detail.items() for text in _messages(value)]
    if isinstance(detail, list):
        return [text for item in detail for text in _messages(item)]
    return [str(detail)]


def _error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        general = [text for key in NON_FIELD_KEYS for text in _messages(detail.get(key, []))]
        fields = {
            name: _messages(value) for name, value in detail.items() if name not in NON_FIELD_KEYS
        }
        message = " ".join(general) or "Some fields are not valid: see “fields”."
        return {"code": "invalid", "message": message, "fields": fields}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return {"code": code, "message": " ".join(_messages(exc.detail)), "fields": {}}


def api_exception_handler(exc, context):
    """Every refusal as {"error": {"code", "message", "fields"}}; anything else stays a 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # the same words for missing and foreign objects
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(get_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = {"error": _error_body(exc)}
    return response


# --- schema helpers ----------------------------------------------------------------------------

PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", str, description="The `next` or `previous` link's cursor, as given."
    ),
    OpenApiParameter(
        "page_size",
        int,
        description=f"Items per page, {NewestFirstCursorPagination.page_size} by default.",
    ),
]


def page_serializer(name: str, item_serializer) -> serializers.Serializer:
    return inline_serializer(
        name,
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )


# Refusals every operation may answer; the hook below documents them all in the error shape, so a
# client generated from the schema (and schemathesis) knows every status it can get.
ERROR_RESPONSES = {
    "400": "The request is not valid: `error.fields` says what to fix.",
    "401": "No credentials, or a token that is not valid or has been revoked.",
    "403": "Not a member of an active tenant, not allowed to do this, or a session without CSRF.",
    "404": "No such object in your tenant (another tenant's objects are not found either).",
    "429": "Too many requests with this token: wait `Retry-After` seconds.",
    "503": "The database cannot be reached just now: retry after `Retry-After` seconds.",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def error_responses_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: every error response in the one error shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description})
            if "requestBody" in operation:
                responses.setdefault("415", {"description": "The body is not JSON."})
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response["content"] = content
    return result
