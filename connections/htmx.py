"""Small helpers for views that answer both htmx and plain form posts (progressive enhancement)."""

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """True when htmx sent the request and expects a fragment to swap in, not a whole page."""
    return request.headers.get("HX-Request") == "true"
