"""A new tenant's default message templates."""

from connections.models import Tenant
from messaging import defaults
from messaging.models import (
    Channel,
    Kind,
    MessageTemplate,
)


def templates_create_defaults(*, tenant: Tenant) -> None:
    """Called by dashboard.services.tenant_open for a new tenant; safe to call again."""
    rows = [
        MessageTemplate(tenant=tenant, kind=kind, channel=Channel.SMS, body=body)
        for kind, body in defaults.SMS.items()
    ] + [
        MessageTemplate(
            tenant=tenant,
            kind=kind,
            channel=Channel.EMAIL,
            subject=defaults.EMAIL_SUBJECTS[kind],
            body=body + defaults.EMAIL_SIGN_OFF,
            is_active=False,
        )
        for kind, body in defaults.SMS.items()
    ]
    rows += [
        MessageTemplate(
            tenant=tenant, kind=Kind.REMINDER, channel=Channel.SMS, reminder_stage=stage, body=body
        )
        for stage, body in defaults.REMINDER_STAGES_SMS.items()
    ] + [
        MessageTemplate(tenant=tenant, kind=kind, channel=Channel.SMS, body=body)
        for kind, body in defaults.REPLIES_SMS.items()
    ]
    MessageTemplate.objects.bulk_create(rows, ignore_conflicts=True)
