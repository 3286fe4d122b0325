import re

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.twiml.messaging_response import MessagingResponse

from billing_events.forms import PauseForm, ReminderSettingsForm, StageFormSet
from billing_events.models import ReminderPause, ReminderStage
from billing_events.payment_links import invoice_pay_target
from billing_events.reminders import (
    SCHEDULE_CONFLICT,
    reminder_defaults_create,
    reminder_pause_add,
    reminder_schedule_save,
    reminders_preview,
)
from billing_events.replies import inbound_receive
from billing_events.selectors import reminder_pauses, reminder_schedules_listed
from billing_events.services import MalformedDelivery, events_store
from billing_events.template_why import templates_why
from billing_events.webhooks import verify_xero_signature
from connections.forms_organisations import OrganisationFilterForm
from connections.htmx import is_htmx
from connections.selectors import names_for_customers, organisation_of, organisations_of
from connections.tenancy import get_for_tenant, tenant_required
from messaging.forms import TemplateWhyForm
from messaging.selectors import messaging_settings_for_inbound
from messaging.webhooks import twilio_body_too_large, twilio_signed
from snapshots.models import InvoiceSnapshot
from snapshots.segments import PRECEDENCE
from snapshots.selectors import InvoiceNumberAmbiguous, segment_choices


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
    # The customer's page speaks for the organisation that invoiced them, never for Dunwell or
    # the tenant (whose name is for staff).
    organisation = organisation_of(tenant=snapshot.tenant, xero_tenant_id=snapshot.xero_tenant_id)
    context = {"target": target, **names_for_customers(organisation)}
    return render(request, "billing_events/pay.html", context, status=status)


# --- reminders ------------------------------------------------------------------------------


@tenant_required
def reminders(request):
    """The schedule (owners edit it), staff pauses, and what the next 30 days will send."""
    posted = request.POST if request.method == "POST" else None
    if posted is not None and not request.membership.is_owner:
        raise PermissionDenied("Only an owner can change the reminder schedule.")
    settings_form, stages = _schedule_forms(request, posted)
    if posted is not None and settings_form.is_valid() and stages.is_valid():
        try:
            reminder_schedule_save(
                tenant=request.tenant, settings_form=settings_form, stage_formset=stages
            )
        except IntegrityError:
            flash.error(request, SCHEDULE_CONFLICT)
        else:
            flash.success(request, "Reminder schedule saved.")
            return redirect("reminders")
    return _reminders_page(request, settings_form=settings_form, stages=stages)


def _schedule_forms(request, posted=None):
    settings_form = ReminderSettingsForm(
        posted, instance=reminder_defaults_create(tenant=request.tenant)
    )
    stages = StageFormSet(
        posted,
        queryset=ReminderStage.objects.filter(tenant=request.tenant),
        form_kwargs={"segments": segment_choices(tenant=request.tenant)},
    )
    return settings_form, stages


def _reminders_page(request, *, settings_form, stages, pause_form=None, ambiguous=None):
    """The page; the preview and the pauses of one organisation when the filter says so."""
    organisations = organisations_of(tenant=request.tenant)
    shown = OrganisationFilterForm(request.GET, organisations=organisations)
    context = {
        "settings_form": settings_form,
        "stages": stages,
        "pause_form": pause_form or PauseForm(organisations=organisations),
        "ambiguous": ambiguous,
        "organisations": organisations,
        "organisation_form": shown,
        "pauses": reminder_pauses(tenant=request.tenant, organisation=shown.chosen),
        "preview": reminders_preview(
            tenant=request.tenant, as_of=timezone.now(), organisation=shown.chosen
        ),
        "schedules": reminder_schedules_listed(tenant=request.tenant),
        "precedence": PRECEDENCE,
    }
    return render(request, "billing_events/reminders.html", context)


@require_POST
@tenant_required
def reminder_pause_new(request):
    """Pause an invoice or a contact; an invoice number several organisations have is asked
    about on the page (each answer posts the pause again with its organisation)."""
    form = PauseForm(request.POST, organisations=organisations_of(tenant=request.tenant))
    if not form.is_valid():
        flash.error(request, " ".join(form.non_field_errors()) or "Check the pause.")
        return redirect("reminders")
    try:
        reminder_pause_add(tenant=request.tenant, **form.cleaned_data)
    except InvoiceNumberAmbiguous as ambiguous:
        settings_form, stages = _schedule_forms(request)
        return _reminders_page(
            request, settings_form=settings_form, stages=stages, pause_form=form,
            ambiguous=ambiguous,
        )  # fmt: skip
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, "Reminders paused.")
    return redirect("reminders")


@require_POST
@tenant_required
def reminder_pause_delete(request, pause_id):
    get_for_tenant(ReminderPause, request.tenant, pk=pause_id).delete()
    flash.success(request, "Pause removed: reminders resume from the next run.")
    return redirect("reminders")


# --- which template does an invoice get? ----------------------------------------------------


@tenant_required
def template_why(request):
    """For one invoice: which template each channel uses and which reminder schedule applies,
    and why (htmx swaps the answer into the editor; without it, a page of its own)."""
    organisations = organisations_of(tenant=request.tenant)
    form = TemplateWhyForm(request.GET or None, organisations=organisations)
    why = ambiguous = None
    if form.is_valid():
        try:
            why = templates_why(tenant=request.tenant, **form.cleaned_data)
        except InvoiceNumberAmbiguous as exc:
            ambiguous = exc
        else:
            if why is None:
                form.add_error("invoice", "No invoice with this number has come from Xero.")
    context = {"form": form, "why": why, "ambiguous": ambiguous, "organisations": organisations}
    if is_htmx(request):
        return render(request, "messaging/_template_why.html", context)
    return render(request, "messaging/template_why.html", context)


# --- a customer's text to the tenant's number --------------------------------------------------

# What Twilio always sends (FACTS.md "Inbound"): a message SID, and a From that fits an E.164
# number with an optional "whatsapp:" prefix. Anything else, even signed, is refused (400)
# rather than stored truncated or failing the insert (oversized or NUL text: PostgreSQL 500).
_MESSAGE_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")
_ADDRESS = re.compile(r"(whatsapp:)?\+?[0-9]{1,20}")


def _inbound_well_formed(form) -> bool:
    return bool(
        _MESSAGE_SID.fullmatch(form.get("MessageSid", ""))
        and _ADDRESS.fullmatch(form.get("From", ""))
        and len(form.get("To", "")) <= 64
        and "\x00" not in form.get("To", "")
    )


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """A customer's text: verify it is Twilio's, act, answer with TwiML (FACTS.md "Inbound")."""
    if twilio_body_too_large(request):
        return HttpResponse(status=413)
    found = messaging_settings_for_inbound(
        account_sid=request.POST.get("AccountSid", ""),
        messaging_service_sid=request.POST.get("MessagingServiceSid", ""),
        to=request.POST.get("To", ""),
    )
    if found is None or not twilio_signed(request, found.twilio_auth_token):
        return HttpResponseForbidden()
    if not _inbound_well_formed(request.POST):
        return HttpResponseBadRequest()
    text = inbound_receive(
        tenant=found.tenant,
        message_sid=request.POST["MessageSid"],
        from_address=request.POST["From"],
        to_address=request.POST.get("To", ""),
        body=request.POST.get("Body", "").replace("\x00", ""),
    )
    twiml = MessagingResponse()
    if text:
        twiml.message(text)
    return HttpResponse(str(twiml), content_type="text/xml")
