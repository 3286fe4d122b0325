import csv
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connections.forms_organisations import OrganisationFilterForm
from connections.models import MessagingSettings
from connections.selectors import Organisations, organisations_of
from connections.tenancy import get_for_tenant, tenant_required
from messaging import selectors, services, template_editor
from messaging.channels import EXPLANATIONS
from messaging.forms import (
    BulkResendForm,
    ChannelDefaultsForm,
    MessageFilterForm,
    MessageTemplateForm,
    MessagingSettingsForm,
    TemplateWhyForm,
    TestMessageForm,
)
from messaging.models import Channel, Kind, Message, MessageTemplate
from messaging.rendering import variables_offered
from messaging.webhooks import twilio_body_too_large, twilio_signed
from snapshots.segments import PRECEDENCE
from snapshots.selectors import (
    InvoiceNumberAmbiguous,
    contact_cards_named,
    invoice_numbers,
    segment_choices,
)


@dataclass
class _Filtered:
    form: MessageFilterForm
    messages: QuerySet[Message]
    organisations: Organisations
    ambiguous: InvoiceNumberAmbiguous | None = None  # the invoice number needs its organisation


def _filtered(request, form_class=MessageFilterForm, data=None) -> _Filtered:
    organisations = organisations_of(tenant=request.tenant)
    form = form_class(
        data if data is not None else request.GET or None, organisations=organisations
    )
    if not form.is_bound:
        return _Filtered(form, selectors.messages_for_log(tenant=request.tenant), organisations)
    if not form.is_valid():  # a mistyped filter shows its error, never "everything"
        return _Filtered(form, Message.objects.none(), organisations)
    filters = {name: value for name, value in form.cleaned_data.items() if name != "up_to"}
    try:
        messages = selectors.messages_for_log(tenant=request.tenant, **filters)
    except InvoiceNumberAmbiguous as ambiguous:
        return _Filtered(form, Message.objects.none(), organisations, ambiguous)
    return _Filtered(form, messages, organisations)


@tenant_required
def message_list(request):
    filtered = _filtered(request)
    page = Paginator(filtered.messages, 50).get_page(request.GET.get("page"))
    numbers = invoice_numbers(tenant=request.tenant, invoice_ids=[m.invoice_id for m in page])
    for message in page:
        message.invoice_number = numbers.get(message.invoice_id, "")
    context = {
        "form": filtered.form,
        "page": page,
        "resendable": selectors.messages_resendable(filtered.messages).count(),
        "query": _query_without_page(request),
        "any_messages": selectors.messages_exist(tenant=request.tenant),
        "organisations": filtered.organisations,
        "ambiguous": filtered.ambiguous,
    }
    return render(request, "messaging/message_list.html", context)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@tenant_required
def message_detail(request, message_id):
    message = get_for_tenant(Message, request.tenant, pk=message_id)
    changes = list(message.status_changes.all())
    for change in changes:
        change.explanation = EXPLANATIONS.get(change.error_code, "")
    context = {
        "message": message,
        "changes": changes,
        "resend_refusal": selectors.message_resend_refusal(message=message),
        "invoice_number": invoice_numbers(
            tenant=request.tenant, invoice_ids=[message.invoice_id]
        ).get(message.invoice_id, ""),
    }
    return render(request, "messaging/message_detail.html", context)


@tenant_required
def messages_resend_bulk(request):
    """GET: how many of the filtered messages would be resent; POST: resend exactly those."""
    if request.method == "POST":
        filtered = _filtered(request, BulkResendForm, request.POST)
        form, messages = filtered.form, filtered.messages
        if not form.is_valid() or filtered.ambiguous:
            flash.error(request, "The list changed shape; filter it again and retry.")
            return redirect("messaging:message-list")
        resendable = selectors.messages_resendable(messages).filter(
            pk__lte=form.cleaned_data["up_to"]
        )
        report = services.messages_resend_bulk(messages=resendable, by_user=request.user)
        if report.queued:
            count = len(report.queued)
            flash.success(request, f"{count} message{pluralize(count)} will be sent again.")
        if report.skipped:
            flash.warning(request, report.skipped_said())
        return redirect(f"{reverse('messaging:message-list')}?status=pending")
    filtered = _filtered(request)
    form, messages = filtered.form, filtered.messages
    resendable = selectors.messages_resendable(messages).order_by("-created_at", "-pk")
    context = {
        "form": form,
        "count": resendable.count(),
        "sample": resendable[:10],
        "up_to": resendable.aggregate(up_to=Max("pk"))["up_to"] or 0,
        "limit": services.BULK_RESEND_LIMIT,
        "query": _query_without_page(request),
    }
    return render(request, "messaging/message_resend_bulk.html", context)


@require_POST
@tenant_required
def message_resend(request, message_id):
    message = get_for_tenant(Message, request.tenant, pk=message_id)
    try:
        again = services.message_resend(message=message, by_user=request.user)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
        return redirect("messaging:message-detail", message_id=message.pk)
    to = again.recipient
    if to != message.recipient:
        what = "address" if again.channel == Channel.EMAIL else "number"
        to += f", the {what} Xero has now (it was {message.recipient})"
    if again.status == Message.Status.SCHEDULED:
        until = timezone.localtime(again.send_after, ZoneInfo(request.tenant.timezone))
        flash.success(
            request, f"The message will be sent again to {to}, at {until:%H:%M} after quiet hours."
        )
    elif again.status == Message.Status.PENDING:
        flash.success(request, f"The message will be sent again to {to}.")
    else:
        flash.warning(request, f"Not sent again to {to}: {again.status_reason}")
    return redirect("messaging:message-detail", message_id=again.pk)


@tenant_required
def contacts_needing_phone(request):
    context = {
        "contacts": selectors.contacts_needing_phone(tenant=request.tenant),
        "missed": selectors.texts_missed_for_phone(tenant=request.tenant, now=timezone.now()),
        "offer_days": selectors.MISSED_OFFER_DAYS,
    }
    return render(request, "messaging/contacts_needing_phone.html", context)


@require_POST
@tenant_required
def message_send_missed(request, message_id):
    message = get_for_tenant(Message, request.tenant, pk=message_id)
    try:
        services.message_send_missed(message=message, by_user=request.user)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    else:
        flash.success(request, f"The text to {message.contact_name} is on its way.")
    return redirect("messaging:contacts-needing-phone")


@tenant_required
def contacts_needing_phone_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts-needing-a-phone.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["Contact", "Xero ContactID", "Problem", "Last tried", "Number in Xero", "Organisation"]
    )
    for row in selectors.contacts_needing_phone(tenant=request.tenant):
        writer.writerow(
            [
                _csv_safe(row.contact_name),
                row.contact_id,
                row.status_reason,
                row.created_at.isoformat(),
                _csv_safe(row.phone_in_xero),
                _csv_safe(row.organisation),
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    # A contact name from Xero must not become a formula when the CSV is opened in a spreadsheet.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


@tenant_required(owner=True)
def messaging_settings(request):
    row = MessagingSettings.objects.filter(tenant=request.tenant).first()
    form = MessagingSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        services.messaging_settings_save(tenant=request.tenant, values=form.cleaned_data)
        flash.success(request, "Messaging settings saved.")
        return redirect("messaging:settings")
    context = {
        "form": form,
        "test_form": TestMessageForm(),
        "defaults": selectors.delivery_for(tenant=request.tenant, contact_id=""),
    }
    return render(request, "messaging/settings.html", context)


@tenant_required(owner=True)
def channel_defaults(request):
    form = ChannelDefaultsForm(
        request.POST or None,
        instance=selectors.messaging_settings_of(tenant=request.tenant),
        languages=selectors.template_languages(tenant=request.tenant),
    )
    if request.method == "POST" and form.is_valid():
        services.messaging_settings_save(tenant=request.tenant, values=form.cleaned_data)
        flash.success(request, "Default channels saved.")
        return redirect("messaging:settings")
    return render(request, "messaging/channel_defaults.html", {"form": form})


@require_POST
@tenant_required(owner=True)
def messaging_test(request):
    form = TestMessageForm(request.POST)
    if form.is_valid():
        ok, words = services.messaging_test_send(
            tenant=request.tenant, phone=form.cleaned_data["phone"]
        )
        (flash.success if ok else flash.error)(request, words)
    else:
        flash.error(request, "Enter the mobile number to send the test message to.")
    return redirect("messaging:settings")


@tenant_required
def inbox(request):
    everything = request.GET.get("show") == "all"
    organisations = organisations_of(tenant=request.tenant)
    form = OrganisationFilterForm(request.GET, organisations=organisations)
    inbound = selectors.inbox_messages(
        tenant=request.tenant, everything=everything, organisation=form.chosen
    )
    page = Paginator(inbound, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "everything": everything,
        "organisations": organisations,
        "organisation_form": form,
        "query": _query_without_page(request),
    }
    return render(request, "messaging/inbox.html", context)


@csrf_exempt
@require_POST
def twilio_status(request, token):
    """Verify, record, answer: Twilio retries slow or failing callbacks (FACTS.md "Statuses")."""
    if twilio_body_too_large(request):
        return HttpResponse(status=413)
    message = (
        Message.objects.select_related("tenant__messaging").filter(callback_token=token).first()
    )
    if message is None:
        return HttpResponse(status=200)  # unknown token: nothing to do, and Twilio stops asking
    auth_token = getattr(getattr(message.tenant, "messaging", None), "twilio_auth_token", "")
    if not twilio_signed(request, auth_token):
        return HttpResponseForbidden()
    services.message_status_record(
        message=message,
        provider_status=request.POST.get("MessageStatus", ""),
        message_sid=request.POST.get("MessageSid", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=200)


# --- template editor -----------------------------------------------------------------------------


@tenant_required
def template_list(request):
    templates = selectors.templates_noted(
        tenant=request.tenant, templates=selectors.templates_for_editor(tenant=request.tenant)
    )
    context = {"templates": templates, "precedence": PRECEDENCE}
    return render(request, "messaging/template_list.html", context)


@tenant_required
def template_create(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else Kind.INVOICE_ISSUED
    template = MessageTemplate(tenant=request.tenant, kind=kind, channel=Channel.SMS)
    if kind == Kind.REMINDER:  # "write this step's own text", from a reminder step
        template.reminder_stage = request.GET.get("stage", "")[:30]
    return _template_edit(request, template)


@tenant_required
def template_edit(request, template_id):
    return _template_edit(request, get_for_tenant(MessageTemplate, request.tenant, pk=template_id))


def _template_edit(request, template: MessageTemplate):
    form = MessageTemplateForm(
        request.POST or None,
        instance=template,
        segments=segment_choices(tenant=request.tenant),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = template_editor.template_save(template=form.instance)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            flash.success(request, f"Template saved: {saved}.")
            return redirect("messaging:template-list")
    preview = template_editor.template_preview(
        tenant=request.tenant,
        channel=form["channel"].value() or "sms",
        subject=form["subject"].value() or "",
        body=form["body"].value() or "",
        content_variables=_variables_text(form["content_variables"].value()),
        kind=_kind(form["kind"].value()),
    )
    context = {
        "form": form,
        "template": template,
        "preview": preview,
        "variables": variables_offered(),
        "why_form": TemplateWhyForm(
            initial={"kind": template.kind}, organisations=organisations_of(tenant=request.tenant)
        ),
    }
    return render(request, "messaging/template_edit.html", context)


def _variables_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value or {})


def _kind(value) -> str | None:
    return value if value in Kind.values else None


@require_POST
@tenant_required
def template_preview(request):
    """htmx: the preview fragment for the form as typed so far."""
    preview = template_editor.template_preview(
        tenant=request.tenant,
        channel=request.POST.get("channel", "sms"),
        subject=request.POST.get("subject", ""),
        body=request.POST.get("body", ""),
        content_variables=request.POST.get("content_variables", ""),
        kind=_kind(request.POST.get("kind")),
    )
    return render(request, "messaging/_template_preview.html", {"preview": preview})


# --- contacts: channels and language per contact ---------------------------------------------


@tenant_required
def contact_list(request):
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "query": query,
        "found": contact_cards_named(tenant=request.tenant, name=query) if query else [],
        "preferences": selectors.contact_preferences(tenant=request.tenant),
    }
    return render(request, "messaging/contact_list.html", context)
