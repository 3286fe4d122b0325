# Snapshots arrive through billing_events (webhooks, the poll): its organisation and Xero
# stand-in fixtures serve these tests too.
from tests.billing_events.conftest import (  # noqa: F401
    connection,
    new_connection,
    xero_api,
    xero_webhook_key,
)
