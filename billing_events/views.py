from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing_events.models import InvoiceSnapshot
from billing_events.payment_links import invoice_pay_target
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


@require_GET
def invoice_pay(request, token):
    """A customer's click on the payment link in a message: on to Xero, or say why not."""
    snapshot = get_object_or_404(InvoiceSnapshot.objects.select_related("tenant"), pay_token=token)
    target = invoice_pay_target(snapshot=snapshot)
    if target.outcome == "redirect":
        return HttpResponseRedirect(target.url)
    status = 503 if target.outcome == "unavailable" else 200
    return render(request, "billing_events/pay.html", {"target": target}, status=status)
