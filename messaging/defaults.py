"""The templates every new tenant starts with: SMS switched on, email ready but off.

Email stays off until the tenant has a SendGrid key and has read the wording; SMS is Dunwell's
main channel. WhatsApp needs the tenant's own approved ContentSid, so it has no default.
"""

SMS = {
    "invoice_issued": (
        "Hi {{ first_name }}, {{ organisation_name }} has sent you invoice {{ invoice_number }} "
        "for {{ amount_due }}, due {{ due_date }}. View and pay: {{ online_invoice_url }}"
    ),
    "payment_received": (
        "Thanks {{ first_name }}, {{ organisation_name }} received {{ payment_amount }} for "
        "invoice {{ invoice_number }}. {{ balance_note }}"
    ),
    "credit_note_issued": (
        "Hi {{ first_name }}, {{ organisation_name }} has issued credit note "
        "{{ credit_note_number }} for {{ total }}."
    ),
    "reminder": (
        "Hi {{ first_name }}, invoice {{ invoice_number }} for {{ amount_due }} from "
        "{{ organisation_name }} is {{ days_overdue }} days overdue. Pay here: "
        "{{ online_invoice_url }}"
    ),
    "team_overdue_alert": (
        "{{ organisation_name }}: {{ invoice_count }} overdue invoice(s) to follow up today:\n"
        "{{ overdue_invoices }}"
    ),
    "reply_payment_link": (
        "Invoice {{ invoice_number }} from {{ organisation_name }} ({{ amount_due }} due). "
        "Pay here: {{ online_invoice_url }}"
    ),
}

EMAIL_SUBJECTS = {
    "invoice_issued": "Invoice {{ invoice_number }} from {{ organisation_name }}",
    "payment_received": "Payment received for invoice {{ invoice_number }}",
    "credit_note_issued": "Credit note {{ credit_note_number }} from {{ organisation_name }}",
    "reminder": "Invoice {{ invoice_number }} is overdue",
    "team_overdue_alert": "{{ invoice_count }} overdue invoice(s) to follow up today",
    "reply_payment_link": "Pay invoice {{ invoice_number }}",
}

EMAIL_SIGN_OFF = "\n\nKind regards,\n{{ organisation_name }}"

# Reminders for stages before the due date need their own words (nothing is overdue yet); the
# keys are billing_events' default stage keys (billing_events.reminders.DEFAULT_STAGES).
REMINDER_STAGES_SMS = {
    "due_soon": (
        "Hi {{ first_name }}, a friendly reminder that invoice {{ invoice_number }} for "
        "{{ amount_due }} from {{ organisation_name }} is due on {{ due_date }}. Pay here: "
        "{{ online_invoice_url }}"
    ),
    "due_today": (
        "Hi {{ first_name }}, invoice {{ invoice_number }} for {{ amount_due }} from "
        "{{ organisation_name }} is due today. Pay here: {{ online_invoice_url }}"
    ),
}

# Answers to inbound texts, sent as TwiML. The tenant edits them like any template; the HELP
# answer is the tenant's help text and should say how to reach the accounts team. They name the
# organisation the sender deals with, or a neutral "Accounts team" when Dunwell cannot tell which
# (connections.selectors.organisation_for_customers), so none reads "{{ x }} accounts team".
REPLIES_SMS = {
    "reply_help": (
        "{{ organisation_name }}: reply PAID and your invoice number (e.g. PAID INV-0142) for a "
        "payment link, or STOP to stop these texts. Any other reply reaches our accounts team. "
        "- {{ signature }}"
    ),
    "reply_paid_thanks": (
        "Thank you {{ first_name }}, invoice {{ invoice_number }} is paid in full. "
        "- {{ signature }}"
    ),
    "reply_not_found": (
        "Sorry, we couldn't find invoice {{ invoice_number }} for this number. Reply with your "
        "question and our accounts team will get back to you. - {{ signature }}"
    ),
}
