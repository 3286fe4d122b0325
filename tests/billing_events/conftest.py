import pytest

WEBHOOK_KEY = "m1S6ZpmW2KrN0f9R8e2bTq+VxOeYd3Gj7sXhHcLu4aQ5kPwE/tFvB0nIyJ=="


@pytest.fixture(autouse=True)
def xero_webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = WEBHOOK_KEY
    return WEBHOOK_KEY
