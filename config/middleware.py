"""What a request sees when the database is away for a moment (a restart, a failover)."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """503 with Retry-After instead of a 500 when the database cannot be reached.

    Xero and Twilio deliver again after any non-2xx, so nothing they sent is lost; a person is
    told to try again shortly. The body stays empty for the webhooks (Xero wants no body); the
    REST API answers in its own error shape, {"error": {"code", "message", "fields"}}.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable path=%s error=%s", request.path, exception)
        retry_after = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith("/api/"):
            error = {
                "code": "database_unavailable",
                "message": "Dunwell cannot reach its database just now: retry after "
                f"{RETRY_AFTER_SECONDS} seconds.",
                "fields": {},
            }
            return JsonResponse({"error": error}, status=503, headers=retry_after)
        text = (
            ""
            if request.path.startswith("/webhooks/")
            else ("Dunwell cannot reach its database just now. Please try again in a minute.")
        )
        return HttpResponse(
            text,
            status=503,
            content_type="text/plain; charset=utf-8",
            headers=retry_after,
        )
