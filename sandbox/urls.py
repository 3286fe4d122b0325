"""Mounted at /sandbox/ only when DUNWELL_SANDBOX=1 (config/urls.py; settings refuse production).

The service paths mirror the real hosts under the sandbox *_URL settings (BRIEF.md contracts):
XERO_LOGIN_URL=…/sandbox/xero/login, XERO_IDENTITY_URL=…/sandbox/xero/identity,
XERO_API_URL=…/sandbox/xero/api, TWILIO_API_URL=…/sandbox/twilio,
SENDGRID_API_URL=…/sandbox/sendgrid.
"""

from django.urls import path, re_path

from sandbox.views import console, twilio, xero

app_name = "sandbox"

ACCOUNTING = "xero/api/api.xro/2.0/"

urlpatterns = [
    path("", console.home, name="console"),
    path("xero/invoices/", console.invoice_create, name="invoice-create"),
    path(
        "xero/invoices/<uuid:invoice_id>/<slug:action>/",
        console.invoice_action,
        name="invoice-action",
    ),
    path("xero/contacts/<uuid:contact_id>/", console.contact_edit, name="contact-edit"),
    path("xero/intent-to-receive/", console.intent_to_receive, name="intent-to-receive"),
    path("xero/in/<str:token>/", xero.online_invoice_page, name="online-invoice"),
    # Xero identity (login.xero.com, identity.xero.com)
    path("xero/login/identity/connect/authorize", xero.authorize, name="xero-authorize"),
    path("xero/identity/connect/token", xero.token, name="xero-token"),
    path("xero/identity/connect/revocation", xero.revocation, name="xero-revocation"),
    # api.xero.com: /connections is lower-case on the wire, /Connections in the spec.
    re_path(r"^xero/api/[Cc]onnections$", xero.connections, name="xero-connections"),
    re_path(
        r"^xero/api/[Cc]onnections/(?P<connection_id>[0-9a-fA-F-]{36})$",
        xero.connection_delete,
        name="xero-connection-delete",
    ),
    path(f"{ACCOUNTING}Invoices", xero.invoices, name="xero-invoices"),
    path(f"{ACCOUNTING}Invoices/<str:invoice_id>", xero.invoice, name="xero-invoice"),
    path(
        f"{ACCOUNTING}Invoices/<str:invoice_id>/OnlineInvoice",
        xero.online_invoice,
        name="xero-online-invoice",
    ),
    path(f"{ACCOUNTING}Contacts", xero.contacts, name="xero-contacts"),
    path(f"{ACCOUNTING}ContactGroups", xero.contact_groups, name="xero-contact-groups"),
    path(f"{ACCOUNTING}CreditNotes", xero.credit_notes, name="xero-credit-notes"),
    path(
        f"{ACCOUNTING}TrackingCategories",
        xero.tracking_categories,
        name="xero-tracking-categories",
    ),
    path(f"{ACCOUNTING}Payments", xero.payments, name="xero-payments"),
    path(f"{ACCOUNTING}Organisation", xero.organisation, name="xero-organisation"),
    path(
        f"{ACCOUNTING}InvoiceReminders/Settings",
        xero.invoice_reminders,
        name="xero-invoice-reminders",
    ),
    # Twilio (api.twilio.com) and SendGrid (api.sendgrid.com)
    path(
        "twilio/2010-04-01/Accounts/<str:account_sid>.json", twilio.account, name="twilio-account"
    ),
    path(
        "twilio/2010-04-01/Accounts/<str:account_sid>/Messages.json",
        twilio.messages,
        name="twilio-messages",
    ),
    path(
        "twilio/2010-04-01/Accounts/<str:account_sid>/Messages/<str:message_sid>.json",
        twilio.message,
        name="twilio-message",
    ),
    path("twilio/phones/", twilio.phones, name="phones"),
    path("twilio/phones/<str:number>/", twilio.phone, name="phone"),
    path("twilio/phones/<str:number>/reply/", twilio.phone_reply, name="phone-reply"),
    path("twilio/faults/", twilio.fault_add, name="fault-add"),
    path("twilio/faults/clear/", twilio.faults_clear, name="faults-clear"),
    path("sendgrid/v3/mail/send", twilio.mail_send, name="sendgrid-send"),
    path("sendgrid/outbox/", twilio.outbox, name="outbox"),
]
