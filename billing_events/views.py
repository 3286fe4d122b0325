import re

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.twiml.messaging_response import MessagingResponse

from billing_events.forms import MemberMobileForm, PauseForm, ReminderSettingsForm, StepForm
from billing_events.models import ReminderPause, ReminderStage
from billing_events.payment_links import invoice_pay_target
from billing_events.reminders import (
    ScheduleConflict,
    reminder_defaults_create,
    reminder_pause_add,
    reminder_step_delete,
    reminder_step_save,
    reminder_step_test,
    reminders_preview,
    schedule_builder,
    test_outcome,
)
from billing_events.replies import inbound_receive
from billing_events.selectors import reminder_pauses
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


def _settings_form(request, posted=None) -> ReminderSettingsForm:
    return ReminderSettingsForm(
        posted,
        instance=reminder_defaults_create(tenant=request.tenant),
        segments=segment_choices(tenant=request.tenant),
    )


@tenant_required
def reminders(request):
    """What the next 30 days will send, staff pauses, the schedule builder and its settings
    (owners change them)."""
    settings_form = _settings_form(request)
    if request.method == "POST":
        if not request.membership.is_owner:
            raise PermissionDenied("Only an owner can change the reminder settings.")
        settings_form = _settings_form(request, request.POST)
        if settings_form.is_valid():
            settings_form.save()
            flash.success(request, "Reminder settings saved.")
            return redirect("reminders")
    return _reminders_page(request, settings_form=settings_form)


def _reminders_page(request, *, settings_form, pause_form=None, ambiguous=None):
    """The page; the preview and the pauses of one organisation when the filter says so."""
    organisations = organisations_of(tenant=request.tenant)
    shown = OrganisationFilterForm(request.GET, organisations=organisations)
    context = {
        "settings_form": settings_form,
        "builder": schedule_builder(tenant=request.tenant),
        "mobile_form": MemberMobileForm(instance=request.membership),
        "pause_form": pause_form or PauseForm(organisations=organisations),
        "ambiguous": ambiguous,
        "organisations": organisations,
        "organisation_form": shown,
        "pauses": reminder_pauses(tenant=request.tenant, organisation=shown.chosen),
        "preview": reminders_preview(
            tenant=request.tenant, as_of=timezone.now(), organisation=shown.chosen
        ),
        "precedence": PRECEDENCE,
    }
    return render(request, "billing_events/reminders.html", context)


# --- the schedule builder: one step at a time, in place with htmx, or as plain pages --------


def _step_form(request, stage: ReminderStage, posted=None) -> StepForm:
    return StepForm(
        posted,
        instance=stage,
        # Ids of their own: a step being changed and a new one can be open side by side.
        auto_id=f"step-{stage.pk or 'new'}-%s",
        initial={"applies_to": request.GET.get("applies_to", "")} if stage.pk is None else None,
        segments=segment_choices(tenant=request.tenant),
    )


def _builder_response(request, *, stage: ReminderStage | None, note: str):
    """After a change: the whole builder for htmx (a changed day moves the step), else back to
    the page at the step."""
    if not is_htmx(request):
        flash.success(request, note)
        anchor = f"#step-{stage.pk}" if stage is not None else "#schedule"
        return HttpResponseRedirect(reverse("reminders") + anchor)
    response = render(
        request,
        "billing_events/_schedule_builder.html",
        {"builder": schedule_builder(tenant=request.tenant), "note": note, "moved": stage},
    )
    response["HX-Retarget"] = "#schedule-builder"
    response["HX-Reswap"] = "outerHTML"
    return response


def _step_edit(request, stage: ReminderStage):
    form = _step_form(request, stage, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        adding = stage.pk is None
        if form.is_valid():
            try:
                reminder_step_save(tenant=request.tenant, stage=form.instance)
            except ScheduleConflict:
                form.add_error("days", "This schedule already has a step on that day.")
            else:
                done = "Step added." if adding else "Step saved."
                return _builder_response(request, stage=form.instance, note=done)
    context = {"form": form, "stage": stage}
    if is_htmx(request):
        # A step being changed keeps its place in the timeline's list; an answer to a post
        # replaces only the form (hx-target="this").
        fragment = (
            "_step_editing.html" if stage.pk and request.method == "GET" else "_step_form.html"
        )
        return render(request, f"billing_events/{fragment}", context)
    return render(request, "billing_events/reminder_step.html", context)


@tenant_required(owner=True)
def reminder_step_new(request):
    return _step_edit(request, ReminderStage(tenant=request.tenant))


@tenant_required(owner=True)
def reminder_step(request, step_id):
    return _step_edit(request, get_for_tenant(ReminderStage, request.tenant, pk=step_id))


@require_POST
@tenant_required(owner=True)
def reminder_step_remove(request, step_id):
    stage = get_for_tenant(ReminderStage, request.tenant, pk=step_id)
    reminder_step_delete(stage=stage)
    return _builder_response(request, stage=None, note=f"Step “{stage.label}” removed.")


@require_POST
@tenant_required
def reminder_step_send_test(request, step_id):
    """Any member may try a step: it goes to their own mobile only."""
    stage = get_for_tenant(ReminderStage, request.tenant, pk=step_id)
    try:
        sent = reminder_step_test(tenant=request.tenant, stage=stage, membership=request.membership)
    except ValidationError as error:
        outcome, ok = " ".join(error.messages), False
    else:
        outcome, ok = test_outcome(sent), all(m.status != "skipped" for m in sent)
    if is_htmx(request):
        return render(
            request, "billing_events/_step_test_result.html", {"outcome": outcome, "ok": ok}
        )
    (flash.success if ok else flash.error)(request, outcome)
    return HttpResponseRedirect(reverse("reminders") + f"#step-{stage.pk}")


@require_POST
@tenant_required
def member_mobile(request):
    """The member's own mobile, for test texts."""
    form = MemberMobileForm(request.POST, instance=request.membership)
    if form.is_valid():
        form.save()
        flash.success(request, "Your mobile is saved: tests go to it.")
    else:
        flash.error(request, " ".join(form.errors["mobile"]))
    return HttpResponseRedirect(reverse("reminders") + "#your-mobile")


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
        return _reminders_page(
            request, settings_form=_settings_form(request), pause_form=form, ambiguous=ambiguous
        )
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
