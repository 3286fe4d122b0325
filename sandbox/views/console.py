"""The sandbox Xero console: a bookkeeper's clicks, each one a signed webhook to Dunwell."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import console
from sandbox.forms import AmountForm, ContactForm, InvoiceCreateForm
from sandbox.hooks import hooks_kick
from sandbox.models import Contact, Invoice
from sandbox.selectors import console_overview


@require_GET
def home(request):
    # Resumes deliveries a previous run left pending (retries, status steps).
    hooks_kick()
    context = {**console_overview(), "create_form": InvoiceCreateForm()}
    return render(request, "sandbox/console.html", context)


def _done(request, text: str):
    messages.success(request, f"{text} A signed webhook is on its way to Dunwell.")
    return redirect("sandbox:console")


@require_POST
def invoice_create(request):
    form = InvoiceCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Invoice not created: {form.errors.as_text()}")
        return redirect("sandbox:console")
    try:
        invoice = console.invoice_create(**form.cleaned_data)
    except console.ConsoleError as error:
        messages.error(request, f"Invoice not created: {error}")
        return redirect("sandbox:console")
    return _done(request, f"{invoice} created for {invoice.contact}.")


@require_POST
def invoice_action(request, invoice_id, action):
    invoice = get_object_or_404(Invoice, invoice_id=invoice_id)
    form = AmountForm(request.POST)
    amount = form.cleaned_data["amount"] if form.is_valid() else invoice.amount_due
    try:
        if action == "approve":
            console.invoice_approve(invoice=invoice)
        elif action == "pay":
            console.payment_record(invoice=invoice, amount=amount)
        elif action == "void":
            console.invoice_void(invoice=invoice)
        elif action == "credit":
            console.credit_note_add(invoice=invoice, amount=amount)
        else:
            messages.error(request, f"Unknown action {action!r}.")
            return redirect("sandbox:console")
    except console.ConsoleError as error:
        messages.error(request, str(error))
        return redirect("sandbox:console")
    return _done(request, f"{invoice}: {action} done.")


@require_http_methods(["GET", "POST"])
def contact_edit(request, contact_id):
    contact = get_object_or_404(
        Contact.objects.select_related("organisation"), contact_id=contact_id
    )
    form = ContactForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        console.contact_update(
            contact=contact,
            name=data["name"],
            email=data["email"],
            phones=form.phones(),
            groups=list(data["groups"]),
            unreachable=data["unreachable"],
            addresses=form.addresses(contact),
        )
        return _done(request, f"{contact} saved.")
    return render(request, "sandbox/contact_edit.html", {"contact": contact, "form": form})


@require_POST
def intent_to_receive(request):
    console.intent_to_receive_run()
    messages.success(request, "Intent to receive started: reload in a moment for the result.")
    return redirect("sandbox:console")
