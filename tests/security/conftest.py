# The fixtures the security tests share with the app tests, exactly as those have them: the Xero
# webhook key (autouse), a connected organisation, Xero mocked; a tenant with Twilio, a contact.
from tests.billing_events.conftest import (  # noqa: F401
    connection,
    new_connection,
    xero_api,
    xero_webhook_key,
)
from tests.messaging.conftest import aroha, invoice_context, noon, twilio_a  # noqa: F401
