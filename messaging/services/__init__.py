"""Writes of the messaging app: notify, dispatch, reconcile, status callbacks, opt-outs, resend.

The Message row is the truth; django-q2 tasks only kick these functions. Every state
change is a conditional UPDATE from the statuses it may leave, so two workers, a late callback
and a reconcile can never both win.

One module per job; the public names are importable from here (`from messaging.services import
notify`).
"""

from messaging.services.credentials import (
    SECRET_FIELDS,
    messaging_settings_save,
    messaging_test_send,
    text_now,
    text_status,
    twilio_settings_verify_save,
)
from messaging.services.dispatch import (
    AMBIGUOUS_RECHECK_AFTER,
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    BATCH,
    MAX_ATTEMPTS,
    SENDING_STALE_AFTER,
    message_dispatch,
    message_reconcile,
    messages_dispatch,
    messages_dispatch_ids,
    messages_dispatch_inline,
    messages_due_run,
    status_callback_url,
)
from messaging.services.fallback import FALLBACK_SUFFIX
from messaging.services.inbox import (
    OPTED_OUT,
    WINDOW_CLOSED,
    inbound_answer,
    inbound_assign,
    inbound_handle,
)
from messaging.services.moves import DISPATCH_TASK, RECONCILE_TASK
from messaging.services.notify import (
    Notice,
    messages_cancel,
    messages_cancel_many,
    notify,
    notify_many,
    quiet_hours_end,
)
from messaging.services.preferences import contact_preference_save
from messaging.services.replies import optout_add, optout_remove, reply_log
from messaging.services.resend import (
    BULK_RESEND_LIMIT,
    UNREACHABLE,
    UNREACHABLE_RETRY_AFTER,
    message_resend,
    message_send_missed,
    messages_resend_bulk,
)
from messaging.services.status import (
    UNFINISHED_AFTER,
    UNFINISHED_GIVE_UP_AFTER,
    message_status_record,
    messages_poll_unfinished,
)
from messaging.services.templates import templates_create_defaults

__all__ = [
    "AMBIGUOUS_RECHECK_AFTER",
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "BATCH",
    "BULK_RESEND_LIMIT",
    "DISPATCH_TASK",
    "FALLBACK_SUFFIX",
    "MAX_ATTEMPTS",
    "Notice",
    "OPTED_OUT",
    "RECONCILE_TASK",
    "SECRET_FIELDS",
    "SENDING_STALE_AFTER",
    "UNFINISHED_AFTER",
    "UNFINISHED_GIVE_UP_AFTER",
    "UNREACHABLE",
    "UNREACHABLE_RETRY_AFTER",
    "WINDOW_CLOSED",
    "contact_preference_save",
    "inbound_answer",
    "inbound_assign",
    "inbound_handle",
    "message_dispatch",
    "message_reconcile",
    "message_resend",
    "message_send_missed",
    "message_status_record",
    "messages_cancel",
    "messages_cancel_many",
    "messages_dispatch",
    "messages_dispatch_ids",
    "messages_dispatch_inline",
    "messages_due_run",
    "messages_poll_unfinished",
    "messages_resend_bulk",
    "messaging_settings_save",
    "messaging_test_send",
    "notify",
    "notify_many",
    "optout_add",
    "optout_remove",
    "quiet_hours_end",
    "reply_log",
    "status_callback_url",
    "templates_create_defaults",
    "text_now",
    "text_status",
    "twilio_settings_verify_save",
]
