"""One customer's text in the inbox, and what staff do with it: answer, record a promise to pay,
assign, mark handled. Here, not in messaging, because the page needs the customer's invoices and
their promises; messaging's services send the answer and keep the rest."""

import secrets
from zoneinfo import ZoneInfo

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from billing_events.forms import PromiseForm
from billing_events.promises import payment_promise_record
from billing_events.selectors import invoices_promisable, promise_for_invoice
from connections.models import Membership
from connections.tenancy import get_for_tenant, tenant_required
from messaging import selectors, services
from messaging.forms import InboundAnswerForm, InboundAssignForm
from messaging.models import InboundMessage, OptOut
from snapshots.models import InvoiceSnapshot
from snapshots.selectors import contact_card_find

# The customer and invoice pages of the collections workspace when that app is installed; the
# send log's contact page and the send log filtered to the invoice otherwise.
CUSTOMER_PAGES = ("workspace:customer-detail", "messaging:contact-detail")
INVOICE_PAGES = ("workspace:invoice-detail",)


def _first_url(names, *args) -> str:
    for name in names:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def _invoice_url(invoice: InvoiceSnapshot) -> str:
    return _first_url(INVOICE_PAGES, invoice.invoice_id) or (
        reverse("messaging:message-list") + "?" + urlencode({"invoice": invoice.number})
    )


def _today(tenant):
    return timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()


def _inbound(request, inbound_id) -> InboundMessage:
    return get_for_tenant(
        InboundMessage.objects.select_related("tenant", "assigned_to", "handled_by", "reply"),
        request.tenant,
        pk=inbound_id,
    )


def _suggested_answer(inbound: InboundMessage, promise, invoice) -> str:
    """Once a promise is recorded and not yet confirmed, the words that confirm it (staff edit
    them before sending)."""
    if promise is None or invoice is None:
        return ""
    if inbound.answers.filter(created_at__gte=promise.recorded_at).exists():
        return ""
    card = contact_card_find(tenant=inbound.tenant, contact_id=inbound.contact_id)
    thanks = f"Thanks {card.first_name}," if card and card.first_name else "Thanks,"
    day = promise.promised_by.strftime("%A %-d %B")
    return (
        f"{thanks} that's fine: we've noted you'll pay {invoice.number} by {day}. "
        "We won't send reminders about it until then."
    )


@tenant_required
def inbound_detail(request, inbound_id):
    inbound = _inbound(request, inbound_id)
    tenant = request.tenant
    invoices = invoices_promisable(tenant=tenant, contact_id=inbound.contact_id)
    invoice = (
        InvoiceSnapshot.objects.filter(tenant=tenant, invoice_id=inbound.invoice_id).first()
        if inbound.invoice_id
        else None
    )
    promise = (
        promise_for_invoice(tenant=tenant, invoice_id=inbound.invoice_id)
        if inbound.invoice_id
        else None
    )
    members = selectors.members_assignable(tenant=tenant)
    assigned = next((m for m in members if m.user_id == inbound.assigned_to_id), None)
    closes = selectors.whatsapp_window_closes(inbound=inbound)
    context = {
        "inbound": inbound,
        "conversation": selectors.inbound_conversation(inbound=inbound),
        "invoice": invoice,
        "invoice_url": _invoice_url(invoice) if invoice else "",
        "customer_url": _first_url(CUSTOMER_PAGES, inbound.contact_id)
        if inbound.contact_id
        else "",
        "promise": promise,
        "opted_out": OptOut.objects.filter(tenant=tenant, phone=inbound.from_phone).exists(),
        "window_closes": closes,
        "window_closed": closes is not None and timezone.now() >= closes,
        "answer_form": InboundAnswerForm(
            initial={
                "token": secrets.token_urlsafe(24),
                "body": _suggested_answer(inbound, promise, invoice),
            }
        ),
        "assign_form": InboundAssignForm(
            initial={"member": assigned.pk if assigned else ""}, members=members
        ),
        "promise_form": PromiseForm(
            initial={
                "invoice": inbound.invoice_id,
                "promised_by": promise.promised_by if promise else None,
                "note": promise.note if promise else "",
            },
            invoices=invoices,
        ),
        "invoices": invoices,
        "today": _today(tenant),
    }
    return render(request, "billing_events/inbound_detail.html", context)


@require_POST
@tenant_required
def inbound_answer(request, inbound_id):
    inbound = _inbound(request, inbound_id)
    form = InboundAnswerForm(request.POST)
    if not form.is_valid():
        flash.error(request, "Write the answer first (at most 1,600 characters).")
        return redirect("inbound-detail", inbound_id=inbound.pk)
    try:
        services.inbound_answer(
            inbound=inbound,
            body=form.cleaned_data["body"],
            by_user=request.user,
            token=form.cleaned_data["token"],
        )
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, _answer_going(inbound))
    return redirect("inbound-detail", inbound_id=inbound.pk)


def _answer_going(inbound: InboundMessage) -> str:
    """Sent now, or held until the recipient's quiet hours end (dispatch decides the same)."""
    until = services.quiet_hours_end(
        tenant=inbound.tenant, phone=inbound.from_phone, at=timezone.now()
    )
    if until is None:
        return f"Answer sent to {inbound.from_phone}."
    local = timezone.localtime(until, ZoneInfo(inbound.tenant.timezone))
    return (
        f"Answer to {inbound.from_phone} saved: it goes at {local:%H:%M on %a %-d %b} "
        "(your time), when their quiet hours end."
    )


@require_POST
@tenant_required
def inbound_promise(request, inbound_id):
    inbound = _inbound(request, inbound_id)
    invoices = invoices_promisable(tenant=request.tenant, contact_id=inbound.contact_id)
    form = PromiseForm(request.POST, invoices=invoices)
    if not form.is_valid():
        flash.error(request, "Choose one of their unpaid invoices and the day they promise.")
        return redirect("inbound-detail", inbound_id=inbound.pk)
    try:
        pause = payment_promise_record(
            inbound=inbound,
            invoice_id=form.cleaned_data["invoice"],
            promised_by=form.cleaned_data["promised_by"],
            note=form.cleaned_data["note"],
            by_user=request.user,
            today=_today(request.tenant),
        )
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(
            request,
            f"Promise recorded: no reminders for {pause.label} until "
            f"{pause.promised_by:%a %-d %b}; they resume on {pause.resume_on:%a %-d %b} "
            "if it is still unpaid.",
        )
    return redirect("inbound-detail", inbound_id=inbound.pk)


@require_POST
@tenant_required
def inbound_assign(request, inbound_id):
    inbound = _inbound(request, inbound_id)
    chosen = request.POST.get("member", "")
    membership = get_for_tenant(Membership, request.tenant, pk=chosen) if chosen.isdigit() else None
    services.inbound_assign(inbound=inbound, membership=membership)
    who = selectors.user_label(membership.user) if membership else "nobody"
    flash.success(request, f"Assigned to {who}.")
    return redirect("inbound-detail", inbound_id=inbound.pk)


@require_POST
@tenant_required
def inbound_handle(request, inbound_id):
    inbound = _inbound(request, inbound_id)
    handled = request.POST.get("handled") == "1"
    services.inbound_handle(inbound=inbound, by_user=request.user, handled=handled)
    if handled:
        flash.success(request, "Marked handled.")
        return redirect("messaging:inbox")
    flash.success(request, "Reopened: it waits in the inbox again.")
    return redirect("inbound-detail", inbound_id=inbound.pk)
