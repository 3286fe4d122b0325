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
        "invoice {{ invoice_number }}. Still due: {{ amount_due }}."
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
        "{{ contact_name }}: invoice {{ invoice_number }} ({{ amount_due }}) is "
        "{{ days_overdue }} days overdue."
    ),
    "reply_payment_link": (
        "Invoice {{ invoice_number }} ({{ amount_due }} due). Pay here: {{ online_invoice_url }}"
    ),
}

EMAIL_SUBJECTS = {
    "invoice_issued": "Invoice {{ invoice_number }} from {{ organisation_name }}",
    "payment_received": "Payment received for invoice {{ invoice_number }}",
    "credit_note_issued": "Credit note {{ credit_note_number }} from {{ organisation_name }}",
    "reminder": "Invoice {{ invoice_number }} is overdue",
    "team_overdue_alert": "Overdue: {{ contact_name }}, invoice {{ invoice_number }}",
    "reply_payment_link": "Pay invoice {{ invoice_number }}",
}

EMAIL_SIGN_OFF = "\n\nKind regards,\n{{ organisation_name }}"
