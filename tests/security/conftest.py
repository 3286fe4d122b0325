# The Xero fixtures the webhook fuzzing needs: the webhook key (autouse) and a connected
# organisation, exactly as the billing_events tests have them.
from tests.billing_events.conftest import connection, new_connection, xero_webhook_key  # noqa: F401
