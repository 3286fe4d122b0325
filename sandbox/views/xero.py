"""HTTP face of the sandbox Xero: identity, /connections and the accounting API."""

import json
import uuid
from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sandbox import xero_api, xero_identity
from sandbox.console import payment_record
from sandbox.models import Connection, Invoice, Organisation
from sandbox.xero_api import ApiError, problem
from sandbox.xero_json import connection_json


def _oauth_error(error: xero_identity.OAuthError) -> JsonResponse:
    return JsonResponse({"error": error.code}, status=error.status)


@require_http_methods(["GET", "POST"])
def authorize(request):
    params = request.GET if request.method == "GET" else request.POST
    auth = xero_identity.AuthorizeRequest.from_query(params)
    problem_text = auth.problem(params.get("response_type", ""))
    if problem_text:
        # Like Xero: a bad client or redirect URI is shown, never redirected to.
        return render(
            request, "sandbox/authorize_error.html", {"problem": problem_text}, status=400
        )
    if request.method == "GET":
        context = {"auth": auth, "organisations": Organisation.objects.all()}
        return render(request, "sandbox/authorize.html", context)
    if "allow" not in request.POST:
        return redirect(auth.redirect(error="access_denied"))
    chosen = request.POST.getlist("organisation")
    return redirect(xero_identity.authorization_grant(request=auth, organisation_ids=chosen))


@csrf_exempt
@require_POST
def token(request):
    try:
        client_id = xero_identity.client_authenticate(
            authorization=request.headers.get("Authorization", ""), form=request.POST
        )
        grant_type = request.POST.get("grant_type")
        if grant_type == "authorization_code":
            answer = xero_identity.token_exchange_code(client_id=client_id, form=request.POST)
        elif grant_type == "refresh_token":
            answer = xero_identity.token_refresh(client_id=client_id, form=request.POST)
        else:
            raise xero_identity.OAuthError("unsupported_grant_type")
    except xero_identity.OAuthError as error:
        return _oauth_error(error)
    return JsonResponse(answer, headers={"Cache-Control": "no-store"})


@csrf_exempt
@require_POST
def revocation(request):
    try:
        client_id = xero_identity.client_authenticate(
            authorization=request.headers.get("Authorization", ""), form=request.POST
        )
    except xero_identity.OAuthError as error:
        return _oauth_error(error)
    xero_identity.token_revoke(client_id=client_id, token=request.POST.get("token", ""))
    return HttpResponse(status=200)


def _error_response(error: ApiError) -> HttpResponse:
    headers = {"Xero-Correlation-Id": str(uuid.uuid4()), **error.headers}
    if isinstance(error.body, str):
        return HttpResponse(error.body, status=error.status, headers=headers)
    return JsonResponse(error.body, status=error.status, headers=headers)


def _bearer_grant(request):
    grant, detail = xero_identity.grant_for_bearer(request.headers.get("Authorization", ""))
    if grant is None:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        raise ApiError(401, problem(401, "Unauthorized", detail), headers)
    return grant


@csrf_exempt
@require_http_methods(["GET"])
def connections(request):
    try:
        _bearer_grant(request)
    except ApiError as error:
        return _error_response(error)
    rows = Connection.objects.select_related("organisation").order_by("created_at")
    if auth_event_id := request.GET.get("authEventId"):
        rows = rows.filter(auth_event_id=auth_event_id)
    return JsonResponse([connection_json(row) for row in rows], safe=False)


@csrf_exempt
@require_http_methods(["DELETE"])
def connection_delete(request, connection_id):
    try:
        _bearer_grant(request)
    except ApiError as error:
        return _error_response(error)
    deleted, _ = Connection.objects.filter(connection_id=connection_id).delete()
    return HttpResponse(status=204 if deleted else 404)


def accounting(view):
    """Bearer token, Xero-tenant-id, rate limits and Accept, as Xero checks them (FACTS.md)."""

    @csrf_exempt
    @require_http_methods(["GET"])
    @wraps(view)
    def wrapper(request, **kwargs):
        budget_headers = {}
        try:
            grant = _bearer_grant(request)
            organisation = xero_api.organisation_for(
                grant=grant, xero_tenant_id=request.headers.get("Xero-tenant-id", "")
            )
            budget = xero_api.api_call_admit(organisation=organisation)
            budget_headers = budget.headers
            if budget.problem:
                body = problem(429, "Too Many Requests", f"Rate limit exceeded: {budget.problem}")
                raise ApiError(429, body)
            since = xero_api.modified_since(request.headers.get("If-Modified-Since", ""))
            answer = view(request, organisation=organisation, since=since, **kwargs)
        except ApiError as error:
            error.headers = {**budget_headers, **error.headers}
            return _error_response(error)
        headers = {"Xero-Correlation-Id": str(uuid.uuid4()), **budget_headers}
        if "json" not in request.headers.get("Accept", ""):
            # Xero answers XML unless asked for JSON (FACTS.md): make a forgotten Accept visible.
            xml = f"<Response><Id>{answer['Id']}</Id><Status>OK</Status></Response>"
            return HttpResponse(xml, content_type="text/xml; charset=utf-8", headers=headers)
        return HttpResponse(
            json.dumps(answer), content_type="application/json; charset=utf-8", headers=headers
        )

    return wrapper


@accounting
def invoices(request, *, organisation, since):
    return xero_api.invoices_list(organisation=organisation, query=request.GET, since=since)


@accounting
def invoice(request, *, organisation, since, invoice_id):
    return xero_api.invoice_get(organisation=organisation, invoice_id=invoice_id)


@accounting
def online_invoice(request, *, organisation, since, invoice_id):
    return xero_api.online_invoice_get(organisation=organisation, invoice_id=invoice_id)


@accounting
def contacts(request, *, organisation, since):
    return xero_api.contacts_list(organisation=organisation, query=request.GET, since=since)


@accounting
def contact_groups(request, *, organisation, since):
    return xero_api.contact_groups_list(organisation=organisation)


@accounting
def tracking_categories(request, *, organisation, since):
    return xero_api.tracking_categories_list(organisation=organisation, query=request.GET)


@accounting
def credit_notes(request, *, organisation, since):
    return xero_api.credit_notes_list(organisation=organisation, query=request.GET, since=since)


@accounting
def payments(request, *, organisation, since):
    return xero_api.payments_list(organisation=organisation, query=request.GET, since=since)


@accounting
def organisation(request, *, organisation, since):
    return xero_api.organisation_get(organisation=organisation)


@accounting
def invoice_reminders(request, *, organisation, since):
    return xero_api.invoice_reminders_get(organisation=organisation)


@require_http_methods(["GET", "POST"])
def online_invoice_page(request, token):
    """What a customer sees behind OnlineInvoiceUrl; "Pay now" records a payment in Xero."""
    invoice = get_object_or_404(
        Invoice.objects.select_related("contact", "organisation"),
        online_token=token,
        status__in=[Invoice.Status.AUTHORISED, Invoice.Status.PAID],
    )
    if request.method == "POST" and invoice.status == Invoice.Status.AUTHORISED:
        payment_record(invoice=invoice, amount=invoice.amount_due)
        return redirect(request.path)
    return render(request, "sandbox/online_invoice.html", {"invoice": invoice})
