"""Reads of the messaging app, one module per subject; the public names are importable from
here (`from messaging.selectors import templates_choose`).
"""

from messaging.selectors.contacts import (
    PHONE_PROBLEMS,
    ContactProfile,
    OptedOut,
    contact_preferences,
    contact_profile,
    contact_unreachable_reason,
    contacts_needing_phone,
    contacts_opted_out,
)
from messaging.selectors.credentials import (
    messaging_channels_configured,
    messaging_settings_for_inbound,
)
from messaging.selectors.log import (
    RESENDABLE,
    inbox_messages,
    messages_exist,
    messages_filter,
    messages_for_log,
    messages_needing_attention,
    messages_resendable,
)
from messaging.selectors.outcomes import (
    DAILY_BUCKETS,
    OUTCOMES,
    Outcomes,
    Queue,
    message_daily_outcomes,
    message_outcomes,
    message_queue,
)
from messaging.selectors.templates import (
    Delivery,
    TemplateChoice,
    delivery_for,
    messaging_settings_of,
    template_languages,
    templates_choose,
    templates_for_editor,
    templates_for_notification,
    templates_noted,
    templates_ranked,
)

__all__ = [
    "ContactProfile",
    "DAILY_BUCKETS",
    "Delivery",
    "OUTCOMES",
    "OptedOut",
    "Outcomes",
    "PHONE_PROBLEMS",
    "Queue",
    "RESENDABLE",
    "TemplateChoice",
    "contact_preferences",
    "contact_profile",
    "contact_unreachable_reason",
    "contacts_needing_phone",
    "contacts_opted_out",
    "delivery_for",
    "inbox_messages",
    "message_daily_outcomes",
    "message_outcomes",
    "message_queue",
    "messages_exist",
    "messages_filter",
    "messages_for_log",
    "messages_needing_attention",
    "messages_resendable",
    "messaging_channels_configured",
    "messaging_settings_for_inbound",
    "messaging_settings_of",
    "template_languages",
    "templates_choose",
    "templates_for_editor",
    "templates_for_notification",
    "templates_noted",
    "templates_ranked",
]
