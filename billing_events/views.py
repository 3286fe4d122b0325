from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing_events.services import MalformedDelivery, events_store
from billing_events.webhooks import verify_xero_signature


def _empty(status: int) -> HttpResponse:
    # Xero's Intent to Receive wants an empty body and no Set-Cookie (FACTS.md "Xero: webhooks").
    return HttpResponse(status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def xero_webhook(request):
    """Verify, store, answer. Processing happens in a task, never inside this request."""
    declared_length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.XERO_WEBHOOK_MAX_BYTES
    if not declared_length.isdigit() or int(declared_length) > limit:
        return _empty(413)
    body = request.body
    if len(body) > limit:
        return _empty(413)
    if not verify_xero_signature(
        body=body,
        signature=request.headers.get("x-xero-signature"),
        key=settings.XERO_WEBHOOK_KEY,
    ):
        return _empty(401)
    try:
        events_store(raw_body=body)
    except MalformedDelivery:
        return _empty(400)
    return _empty(200)
