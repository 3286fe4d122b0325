import csv
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing_events.reminders import SendNowRefused
from connections.selectors import connections_for_tenant
from connections.tenancy import for_tenant, tenant_required
from connections.xero import XeroError
from messaging import selectors as messaging_selectors
from messaging.forms import ContactPreferenceForm
from messaging.models import ContactPreference
from messaging.services import contact_preference_save
from snapshots.models import InvoiceSnapshot
from workspace import selectors, services
from workspace.forms import InvoiceFilterForm, PauseForm, SendNextForm
from workspace.selectors import InvoiceFilters


def _invoice_for_tenant(tenant, invoice_id: str) -> InvoiceSnapshot:
    """The one lookup of an invoice by its Xero InvoiceID: another tenant's is a 404."""
    invoice = (
        for_tenant(InvoiceSnapshot.objects.filter(type="ACCREC"), tenant)
        .filter(invoice_id=invoice_id)
        .select_related("tenant")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _customer_for_tenant(tenant, contact_id: str):
    """The one lookup of a customer: known from Xero, the send log or a preference, else 404."""
    profile = messaging_selectors.contact_profile(tenant=tenant, contact_id=contact_id)
    if profile is None:
        raise Http404("No such customer.")
    return profile


def _filters(request) -> tuple[InvoiceFilterForm, InvoiceFilters]:
    organisations, groups = selectors.invoice_filter_choices(tenant=request.tenant)
    form = InvoiceFilterForm(request.GET or None, organisations=organisations, groups=groups)
    values = form.cleaned_data if form.is_valid() else {}
    known = {name: value for name, value in values.items() if value}
    filters = InvoiceFilters(**{"sort": "due", **known})
    return form, selectors.invoice_filters_resolve(
        tenant=request.tenant, filters=filters, as_of=timezone.now()
    )


@tenant_required
def invoice_list(request):
    if not connections_for_tenant(tenant=request.tenant).exists():
        return redirect("home")  # set-up first: the home page says how to connect Xero
    form, filters = _filters(request)
    now = timezone.now()
    invoices, after = selectors.invoices_page(
        tenant=request.tenant, filters=filters, as_of=now, after=request.GET.get("after", "")
    )
    query = {k: v for k, v in request.GET.items() if k != "after" and v}
    context = {
        "form": form,
        "rows": selectors.invoice_rows(tenant=request.tenant, invoices=invoices, as_of=now),
        "totals": selectors.invoice_totals(tenant=request.tenant, filters=filters, as_of=now),
        "several_organisations": "organisation" in form.fields,
        "query": urlencode(query),
        "next_url": f"?{urlencode({**query, 'after': after})}" if after else "",
        "is_later_page": bool(request.GET.get("after")),
        "filtered": bool(set(query) - {"sort"}),
    }
    return render(request, "workspace/invoice_list.html", context)


class _Echo:
    def write(self, value):
        return value


@tenant_required
def invoice_csv(request):
    _, filters = _filters(request)
    writer = csv.writer(_Echo())
    rows = selectors.invoices_csv_rows(tenant=request.tenant, filters=filters, as_of=timezone.now())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv"
    )
    response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    return response


def _xero_url(invoice: InvoiceSnapshot) -> str:
    # Xero's deep link https://go.xero.com/app/<shortcode>/invoicing/view/<InvoiceID> needs the
    # organisation's ShortCode (GET /Organisation, specs/xero/xero_accounting.yaml), which
    # Dunwell does not store; this older link opens the invoice in the organisation the
    # person has open in Xero.
    return f"https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={invoice.invoice_id}"


def _invoice_context(request, invoice: InvoiceSnapshot) -> dict:
    now = timezone.now()
    row = selectors.invoice_rows(tenant=request.tenant, invoices=[invoice], as_of=now)[0]
    pauses = selectors.invoice_pauses(tenant=request.tenant, invoice=invoice)
    return {
        "row": row,
        "invoice": invoice,
        "xero_url": _xero_url(invoice),
        "pauses": pauses,
        "paused_here": any(pause.invoice_id for pause in pauses),
        "send_next": selectors.send_next_preview(
            tenant=request.tenant, invoice=invoice, step=row.step, as_of=now
        ),
        "timeline": selectors.timeline(
            tenant=request.tenant, invoices=[invoice], contact_id=invoice.contact_id
        ),
        "pause_form": PauseForm(),
    }


@tenant_required
def invoice_detail(request, invoice_id):
    invoice = _invoice_for_tenant(request.tenant, invoice_id)
    return render(request, "workspace/invoice_detail.html", _invoice_context(request, invoice))


@require_POST
@tenant_required
def invoice_pause(request, invoice_id):
    invoice = _invoice_for_tenant(request.tenant, invoice_id)
    form = PauseForm(request.POST)
    if form.is_valid():
        resume_on = form.cleaned_data["resume_on"]
        services.invoice_pause(invoice=invoice, resume_on=resume_on, by_user=request.user)
        flash.success(request, f"Reminders for {invoice.number} paused.")
    else:
        flash.error(request, "Give the day reminders resume, or leave it blank.")
    return redirect("workspace:invoice-detail", invoice_id=invoice.invoice_id)


@require_POST
@tenant_required
def invoice_resume(request, invoice_id):
    invoice = _invoice_for_tenant(request.tenant, invoice_id)
    if services.invoice_resume(invoice=invoice, by_user=request.user):
        flash.success(request, f"Reminders for {invoice.number} resume from the next run.")
    return redirect("workspace:invoice-detail", invoice_id=invoice.invoice_id)


@tenant_required
def invoice_send_next(request, invoice_id):
    """GET: the confirm step (what goes, to whom, when); POST: send it, once."""
    invoice = _invoice_for_tenant(request.tenant, invoice_id)
    if request.method != "POST":
        context = _invoice_context(request, invoice) | {"confirming": True}
        return render(request, "workspace/invoice_detail.html", context)
    form = SendNextForm(request.POST)
    if form.is_valid():
        try:
            sent = services.invoice_reminder_send_now(
                tenant=request.tenant,
                invoice=invoice,
                occurrence_key=form.cleaned_data["occurrence"],
                by_user=request.user,
                as_of=timezone.now(),
            )
        except SendNowRefused as refusal:
            flash.error(request, str(refusal))
        except XeroError:
            flash.error(request, "Xero did not answer, so the invoice could not be re-checked: "
                                 "nothing was sent. Try again in a minute.")  # fmt: skip
        else:
            flash.success(request, selectors.sent_words(messages=sent, tenant=request.tenant))
    return redirect("workspace:invoice-detail", invoice_id=invoice.invoice_id)


@tenant_required
def customer_detail(request, contact_id):
    profile = _customer_for_tenant(request.tenant, contact_id)
    preference = profile.preference or ContactPreference()
    form = ContactPreferenceForm(
        request.POST or None,
        initial={"channels": preference.channels, "language": preference.language},
        languages=messaging_selectors.template_languages(tenant=request.tenant),
        defaults=messaging_selectors.messaging_settings_of(tenant=request.tenant),
    )
    if request.method == "POST" and form.is_valid():
        contact_preference_save(
            tenant=request.tenant,
            contact_id=profile.contact_id,
            contact_name=profile.name,
            channels=form.cleaned_data["channels"],
            # Not offered while the tenant has one language: what was set stays.
            language=form.cleaned_data.get("language", preference.language),
            by_user=request.user,
        )
        flash.success(request, f"Saved how {profile.name} is reached.")
        return redirect("workspace:customer-detail", contact_id=profile.contact_id)
    context = selectors.customer_page(
        tenant=request.tenant, profile=profile, as_of=timezone.now()
    ) | {"profile": profile, "form": form}
    return render(request, "workspace/customer_detail.html", context)


@tenant_required
def contact_moved(request, contact_id):
    profile = _customer_for_tenant(request.tenant, contact_id)
    return redirect("workspace:customer-detail", contact_id=profile.contact_id, permanent=True)
